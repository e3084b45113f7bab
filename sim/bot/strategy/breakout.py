"""Channel breakout (momentum): follow the price out of its recent range.

Long when a candle closes above the highest high of the previous ``lookback`` candles, short
when it closes below the lowest low; ``exit_on_midline`` goes flat when the close crosses back
through the channel's middle. States a target only when its signal changes. Incremental: a
monotonic deque keeps the channel's high and low in O(1) per candle.
"""
from __future__ import annotations

from collections import deque
from decimal import Decimal

from sim.bot.strategy.base import Target
from sim.core.messages import Candle
from sim.core.types import PositionSide


class ChannelBreakout:
    def __init__(self, *, lookback: int = 20, qty: Decimal | float | str = "0.1", interval_ms: int = 60_000,
                 exit_on_midline: bool = False, start_ms: int = 0) -> None:
        if lookback < 2:
            raise ValueError(f"lookback must be at least 2, got {lookback}")
        self.lookback = lookback
        self.qty = Decimal(str(qty))
        if self.qty <= 0:
            raise ValueError(f"qty must be positive, got {qty}")
        self.exit_on_midline = exit_on_midline
        self.candle_interval_ms: int | None = interval_ms
        self._n = 0
        self._highs: deque[tuple[int, float]] = deque()  # (index, high), decreasing highs
        self._lows: deque[tuple[int, float]] = deque()  # (index, low), increasing lows
        self._signal = PositionSide.FLAT
        self._pending: Target | None = None

    def _channel(self) -> tuple[float, float] | None:
        if self._n < self.lookback:
            return None
        return self._highs[0][1], self._lows[0][1]

    def on_candle(self, candle: Candle) -> None:
        channel = self._channel()  # of the previous `lookback` candles
        if channel is not None:
            hi, lo = channel
            signal = self._signal
            if candle.close > hi:
                signal = PositionSide.LONG
            elif candle.close < lo:
                signal = PositionSide.SHORT
            elif self.exit_on_midline and signal is not PositionSide.FLAT and \
                    (candle.close - (hi + lo) / 2) * (1 if signal is PositionSide.LONG else -1) < 0:
                signal = PositionSide.FLAT
            if signal is not self._signal:
                self._signal = signal
                self._pending = Target(signal, self.qty if signal is not PositionSide.FLAT else Decimal(0),
                                       f"close {candle.close:.2f} broke the {self.lookback}-candle channel "
                                       f"[{lo:.2f}, {hi:.2f}]" if signal is not PositionSide.FLAT else
                                       "close back through the channel midline")
        i = self._n
        while self._highs and self._highs[-1][1] <= candle.high:
            self._highs.pop()
        self._highs.append((i, candle.high))
        while self._lows and self._lows[-1][1] >= candle.low:
            self._lows.pop()
        self._lows.append((i, candle.low))
        while self._highs[0][0] <= i - self.lookback:
            self._highs.popleft()
        while self._lows[0][0] <= i - self.lookback:
            self._lows.popleft()
        self._n += 1

    def target(self, now_ms: int) -> Target | None:
        t, self._pending = self._pending, None
        return t
