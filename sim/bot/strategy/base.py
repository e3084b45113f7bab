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


def resolve_strategy(name: str) -> type[Any]:
    """A built-in name (``ma_crossover``) or ``package.module:ClassName`` to a class."""
    spec = BUILTINS.get(name, name)
    if ":" not in spec:
        raise StrategyLoadError(
            f"unknown strategy {name!r}: use one of {sorted(BUILTINS)} or 'package.module:ClassName'")
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StrategyLoadError(f"cannot import module {module_name!r} for strategy {name!r}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise StrategyLoadError(f"module {module_name!r} has no class {class_name!r}")
    return cls
