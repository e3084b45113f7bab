"""The strategy protocol and how a scenario names a strategy.

A strategy states *what* position it wants (a `Target`: side and size); the engine decides
*how* to get there from the live position. A strategy sees closed candles (if it asks for
them) and the time; it never sees orders, the record or the venue, so it cannot act on stale
state by construction.

To plug in your own: write a class with the attributes and methods of `Strategy`, whose
``__init__`` takes its parameters as keyword arguments (and ``start_ms``), then name it in a
scenario as ``strategy = "package.module:ClassName"``.
"""
from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from sim.core.messages import Candle
from sim.core.types import PositionSide


@dataclass(frozen=True, slots=True)
class Target:
    """The position a strategy wants: a side and a size in base units (ignored when FLAT)."""

    side: PositionSide
    qty: Decimal
    reason: str = ""

    def __post_init__(self) -> None:
        if self.qty < 0:
            raise ValueError(f"target qty must not be negative, got {self.qty}")

    @property
    def signed_qty(self) -> Decimal:
        if self.side is PositionSide.FLAT:
            return Decimal(0)
        return self.qty if self.side is PositionSide.LONG else -self.qty


def target_problem(value: object) -> str | None:
    """What is wrong with a value a strategy's ``target()`` returned, or None when it is usable.

    A strategy is user code: a string, a float size or a ``nan`` would otherwise surface as an
    obscure error deep in the engine, several calls after the strategy that caused it.
    """
    if value is None:
        return None
    if not isinstance(value, Target):
        return f"{value!r} (a {type(value).__name__}), not a Target or None"
    if not isinstance(value.side, PositionSide):
        return f"a Target whose side is {value.side!r}, not a PositionSide"
    qty = value.qty
    if isinstance(qty, bool) or not isinstance(qty, Decimal | int):
        return f"a Target of quantity {qty!r} (a {type(qty).__name__}): use a Decimal, e.g. Decimal(\"0.1\")"
    if isinstance(qty, Decimal) and not qty.is_finite():
        return f"a Target of quantity {qty}: it must be finite"
    return None


@runtime_checkable
class Strategy(Protocol):
    """What the bot's cycle needs from a strategy.

    candle_interval_ms: closed candles of this interval are fed to `on_candle` (None: no candles).
    """

    candle_interval_ms: int | None

    def on_candle(self, candle: Candle) -> None:
        """A newly closed candle, in time order, each exactly once (also after a restart)."""

    def target(self, now_ms: int) -> Target | None:
        """The wanted position now, or None for no new opinion (the engine then holds)."""


BUILTINS = {
    "ma_crossover": "sim.bot.strategy.ma_crossover:MovingAverageCrossover",
    "scripted": "sim.bot.strategy.scripted:ScriptedTargets",
    "breakout": "sim.bot.strategy.breakout:ChannelBreakout",
}


class StrategyLoadError(ValueError):
    """The scenario names a strategy that cannot be imported or built."""


def _where(exc: BaseException) -> str:
    """Where an exception raised while importing user code: ``file line N`` of the user's frame."""
    if isinstance(exc, SyntaxError) and exc.filename:
        col = f", column {exc.offset}" if exc.offset else ""
        return f"{exc.filename} line {exc.lineno}{col}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen")]
    return f"{frames[-1].filename} line {frames[-1].lineno}" if frames else ""


def _import_failure(module_name: str, name: str, exc: BaseException) -> StrategyLoadError:
    if isinstance(exc, ModuleNotFoundError) and exc.name and module_name.startswith(exc.name):
        return StrategyLoadError(
            f"cannot import module {module_name!r} for strategy {name!r}: {exc} (the module must be importable: "
            "installed, or its folder on PYTHONPATH)")
    if isinstance(exc, SyntaxError):
        what = f"SyntaxError: {exc.msg}"
    else:
        what = f"{type(exc).__name__}: {exc}"
    where = _where(exc)
    return StrategyLoadError(f"importing module {module_name!r} for strategy {name!r} failed"
                             + (f" at {where}" if where else "") + f": {what}")


def resolve_strategy(name: str) -> type[Any]:
    """A built-in name (``ma_crossover``) or ``package.module:ClassName`` to a class.

    Raises `StrategyLoadError` for a name that does not resolve, and for anything the user's
    module raises while it is imported (a syntax error is reported with its file and line).
    """
    spec = BUILTINS.get(name, name)
    if ":" not in spec:
        raise StrategyLoadError(
            f"unknown strategy {name!r}: use one of {sorted(BUILTINS)} or 'package.module:ClassName'")
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # user code: whatever it raises while imported is a scenario problem
        raise _import_failure(module_name, name, exc) from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise StrategyLoadError(f"module {module_name!r} has no class {class_name!r}")
    if not callable(cls):
        raise StrategyLoadError(f"{spec!r} is a {type(cls).__name__}, not a class")
    return cls


PROTOCOL_HINT = ("a strategy needs a candle_interval_ms attribute (whole ms, or None for no candles), "
                 "on_candle(candle) and target(now_ms) (see README, 'Adding a strategy')")


def protocol_problems(strategy: object) -> list[str]:
    """What ``strategy`` (an instance) lacks of the `Strategy` protocol; empty when it has it all."""
    missing = []
    if not hasattr(strategy, "candle_interval_ms"):
        missing.append("no candle_interval_ms attribute")
    else:
        iv = strategy.candle_interval_ms
        if iv is not None and (isinstance(iv, bool) or not isinstance(iv, int) or iv <= 0):
            missing.append(f"candle_interval_ms is {iv!r}, not a positive whole number of ms or None")
    for method in ("on_candle", "target"):
        if not callable(getattr(strategy, method, None)):
            missing.append(f"no {method}() method")
    return missing


def check_protocol(strategy: object, name: str) -> None:
    """Raise `StrategyLoadError` naming what ``strategy`` lacks of the protocol."""
    missing = protocol_problems(strategy)
    if missing:
        raise StrategyLoadError(f"{name!r} is not a strategy: {'; '.join(missing)}; {PROTOCOL_HINT}")
