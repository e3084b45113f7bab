"""A user's own strategy, named in a scenario as ``tests.user_strategy:EveryOtherCandle``.

Lives with the tests to prove the plug-in path: any importable class with the protocol works.
"""
from __future__ import annotations

from decimal import Decimal

from sim.bot.strategy.base import Target
from sim.core.messages import Candle
from sim.core.types import PositionSide


class EveryOtherCandle:
    """Alternates long and short every ``every`` candles."""

    def __init__(self, *, every: int = 10, qty: str = "0.05", interval_ms: int = 60_000, start_ms: int = 0) -> None:
        self.every, self.qty = every, Decimal(qty)
        self.candle_interval_ms: int | None = interval_ms
        self._n = 0
        self._pending: Target | None = None

    def on_candle(self, candle: Candle) -> None:
        self._n += 1
        if self._n % self.every == 0:
            side = PositionSide.LONG if (self._n // self.every) % 2 else PositionSide.SHORT
            self._pending = Target(side, self.qty, f"candle {self._n}")

    def target(self, now_ms: int) -> Target | None:
        t, self._pending = self._pending, None
        return t


class Exploding:
    """Raises on its fifth candle: a user strategy's bug."""

    def __init__(self, *, interval_ms: int = 60_000, start_ms: int = 0) -> None:
        self.candle_interval_ms: int | None = interval_ms
        self._n = 0

    def on_candle(self, candle: Candle) -> None:
        self._n += 1
        if self._n == 5:
            raise ZeroDivisionError("user bug")

    def target(self, now_ms: int) -> Target | None:
        return None


class _Garbage:
    """Asks for candles, then, on its third, returns what ``garbage()`` gives: a user's bug."""

    def __init__(self, *, interval_ms: int = 60_000, start_ms: int = 0) -> None:
        self.candle_interval_ms: int | None = interval_ms
        self._n = 0

    def on_candle(self, candle: Candle) -> None:
        self._n += 1

    def target(self, now_ms: int) -> object:
        return self.garbage() if self._n >= 3 else None

    def garbage(self) -> object:
        raise NotImplementedError


class ReturnsAString(_Garbage):
    def garbage(self) -> object:
        return "long please"


class ReturnsNaNQuantity(_Garbage):
    def garbage(self) -> object:
        return Target(PositionSide.LONG, float("nan"))  # type: ignore[arg-type]


class ReturnsInfiniteQuantity(_Garbage):
    def garbage(self) -> object:
        return Target(PositionSide.LONG, Decimal("Infinity"))
