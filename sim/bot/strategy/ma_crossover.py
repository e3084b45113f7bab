"""Moving-average crossover on closed candles.

Goes long when the fast simple moving average crosses above the slow one and short when it
crosses below; between crossovers it has no new opinion, so a position closed by a native TP or
SL stays flat until the next crossover (the reference workload of the peer benchmarks).
Indicators are incremental: O(1) per candle, whatever the history.
"""
from __future__ import annotations

from collections import deque
from decimal import Decimal

from sim.bot.strategy.base import Target
from sim.core.messages import Candle
from sim.core.types import PositionSide


class MovingAverageCrossover:
    def __init__(self, *, fast: int = 10, slow: int = 30, qty: Decimal | float | str = "0.1",
                 interval_ms: int = 60_000, start_ms: int = 0) -> None:
        if not 1 <= fast < slow:
            raise ValueError(f"need 1 <= fast < slow, got fast={fast}, slow={slow}")
        self.fast, self.slow = fast, slow
        self.qty = Decimal(str(qty))
        if self.qty <= 0:
            raise ValueError(f"qty must be positive, got {qty}")
        self.candle_interval_ms: int | None = interval_ms
        self._closes: deque[float] = deque(maxlen=slow)
        self._sum_fast = 0.0
        self._sum_slow = 0.0
        self._prev_sign = 0
        self._pending: Target | None = None

    def on_candle(self, candle: Candle) -> None:
        c = candle.close
        w = self._closes
        if len(w) == self.slow:
            self._sum_slow -= w[0]
        if len(w) >= self.fast:
            self._sum_fast -= w[-self.fast]
        w.append(c)
        self._sum_slow += c
        self._sum_fast += c
        if len(w) < self.slow:
            return
        diff = self._sum_fast / self.fast - self._sum_slow / self.slow
        sign = (diff > 0) - (diff < 0)
        if sign and self._prev_sign and sign != self._prev_sign:
            side = PositionSide.LONG if sign > 0 else PositionSide.SHORT
            self._pending = Target(side, self.qty, f"SMA{self.fast} crossed {'above' if sign > 0 else 'below'}"
                                                   f" SMA{self.slow}")
        if sign:
            self._prev_sign = sign

    def target(self, now_ms: int) -> Target | None:
        t, self._pending = self._pending, None
        return t
