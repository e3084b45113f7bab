"""Price paths held in numpy arrays, and first-passage search over them.

The exchange never steps tick by tick: every armed threshold (TP/SL trigger, resting limit,
liquidation price) is answered by `PricePath.first_exit`, which finds the first tick at or after
a start index whose price leaves a band. A two-level index (per-block min and max) makes a
query cost about (distance / block) + block element reads, whatever the path length.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

SECONDS_PER_YEAR = 365 * 86_400
_BLOCK = 1024  # ticks per block of the min/max index
_SCAN_BLOCKS = 512  # blocks scanned per vectorised step (about 0.5 M ticks)
_CANDLE_BLOCK = 1440  # candles computed per numpy pass by `PricePath.ohlc_rows`


@dataclass(frozen=True, slots=True)
class GbmParams:
    """Geometric Brownian motion. ``sigma`` and ``drift`` are annualised (per 365-day year)."""

    s0: float
    sigma: float
    drift: float = 0.0


def gbm_path(params: GbmParams, n_ticks: int, tick_ms: int, rng: np.random.Generator,
             chunk: int = 1 << 20) -> np.ndarray:
    """A GBM mid-price path of ``n_ticks`` prices, generated in chunks so memory stays bounded.

    The first price is ``s0``. Drawing in chunks from one generator gives the same path whatever
    the chunk size.
    """
    if n_ticks < 1:
        raise ValueError("a price path needs at least one tick")
    dt = tick_ms / 1000.0 / SECONDS_PER_YEAR
    mu = (params.drift - 0.5 * params.sigma**2) * dt
    vol = params.sigma * math.sqrt(dt)
    out = np.empty(n_ticks, dtype=np.float64)
    out[0] = math.log(params.s0)
    done, level = 1, out[0]
    while done < n_ticks:
        m = min(chunk, n_ticks - done)
        steps = mu + vol * rng.standard_normal(m)
        np.cumsum(steps, out=out[done:done + m])
        out[done:done + m] += level
        level = out[done + m - 1]
        done += m
    np.exp(out, out=out)
    return out


class LazySeries(Protocol):
    """A price series computed on demand: single prices cheaply, the whole array when first needed."""

    def at(self, i: int) -> float: ...

    def series(self) -> np.ndarray: ...


class PriceSeries:
    """One price array with a per-block min/max index for first-passage queries."""

    def __init__(self, prices: np.ndarray) -> None:
        if prices.ndim != 1 or len(prices) == 0:
            raise ValueError("a price series must be a non-empty 1-D array")
        if not np.all(np.isfinite(prices)) or np.any(prices <= 0):
            raise ValueError("prices must be finite and positive")
        self.prices = np.ascontiguousarray(prices, dtype=np.float64)
        # per-block min and max over views of the prices (no padded copy: a year of ticks is 250 MB)
        full = len(prices) // _BLOCK
        blocks = self.prices[: full * _BLOCK].reshape(full, _BLOCK)
        tail = self.prices[full * _BLOCK:]
        self._bmin = np.concatenate([blocks.min(axis=1), [tail.min()] if len(tail) else []])
        self._bmax = np.concatenate([blocks.max(axis=1), [tail.max()] if len(tail) else []])

    def first_exit(self, start: int, lo: float, hi: float) -> int | None:
        """First index ``>= start`` with ``price <= lo`` or ``price >= hi``; None if never.

        Pass ``-inf`` / ``+inf`` for a one-sided band.
        """
        n = len(self.prices)
        if start >= n:
            return None
        start = max(start, 0)
        b0 = start // _BLOCK
        # the partial first block, element by element (vectorised)
        hit = self._first_in(start, min((b0 + 1) * _BLOCK, n), lo, hi)
        if hit is not None:
            return hit
        nb = len(self._bmin)
        b = b0 + 1
        while b < nb:
            e = min(b + _SCAN_BLOCKS, nb)
            mask = (self._bmin[b:e] <= lo) | (self._bmax[b:e] >= hi)
            k = int(np.argmax(mask))
            if mask[k]:
                blk = b + k
                return self._first_in(blk * _BLOCK, min((blk + 1) * _BLOCK, n), lo, hi)
            b = e
        return None

    def _first_in(self, a: int, e: int, lo: float, hi: float) -> int | None:
        seg = self.prices[a:e]
        mask = (seg <= lo) | (seg >= hi)
        k = int(np.argmax(mask))
        return a + k if mask[k] else None


class PricePath:
    """Prices at a fixed tick interval from ``t0_ms``.

    ``mid`` is also the mark price (the smooth price margin and most triggers watch) unless a
    recorded ``mark`` is given (a replay of Binance's mark-price stream); ``last``,
    the price of the last trade, bounces between bid and ask around it. Triggers can watch
    either, so a stop by *last* fires on a bounce that a stop by *mark* ignores.

    Parameters
    ----------
    t0_ms: venue time of the first tick (ms since the Unix epoch).
    tick_ms: time between ticks (ms).
    mid: float64 prices, one per tick.
    last: the last-trade series, or a `BidAskBounce` (single prices on demand, the series built on
    first use) (None: same as mid).
    """

    def __init__(self, t0_ms: int, tick_ms: int, mid: np.ndarray,
                 last: np.ndarray | BidAskBounce | None = None, mark: np.ndarray | LazySeries | None = None) -> None:
        if tick_ms <= 0:
            raise ValueError("tick_ms must be positive")
        self.t0_ms = int(t0_ms)
        self.tick_ms = int(tick_ms)
        self._mid = PriceSeries(mid)
        self.mid = self._mid.prices
        self._last_source = last
        self._last: PriceSeries | None = None
        self._candle_blocks: dict[tuple[int, int], tuple[int, list]] = {}  # (ticks per candle, phase) -> rows
        self._mark_source = mark
        self._mark: PriceSeries | None = None
        self.index_slice: Callable[[int, int], np.ndarray] | None = None  # index prices of ticks a..b-1, if any
        self.funding_rate: Callable[[int], float | None] | None = None  # the rate settled at a time (None: none)

    def series(self, which: str) -> PriceSeries:
        """The ``"mark"`` or ``"last"`` series (mark: a recorded mark when the path has one, else the mid)."""
        if which == "mark" and self._mark_source is not None:
            if self._mark is None:
                src = self._mark_source
                self._mark = PriceSeries(src if isinstance(src, np.ndarray) else src.series())
            return self._mark
        if which == "last" and self._last_source is not None:
            if self._last is None:
                src = self._last_source
                self._last = PriceSeries(src.series() if isinstance(src, BidAskBounce) else src)
            return self._last
        return self._mid

    def __len__(self) -> int:
        return len(self.mid)

    @property
    def end_ms(self) -> int:
        """Time of the last tick."""
        return self.t0_ms + (len(self.mid) - 1) * self.tick_ms

    def index_at(self, t_ms: int) -> int:
        """Index of the tick in force at ``t_ms`` (the last tick at or before it)."""
        i = (t_ms - self.t0_ms) // self.tick_ms
        return 0 if i < 0 else min(int(i), len(self.mid) - 1)

    def time_of(self, index: int) -> int:
        return self.t0_ms + index * self.tick_ms

    def mid_at(self, t_ms: int) -> float:
        return float(self.mid[self.index_at(t_ms)])

    def index_price_at(self, t_ms: int) -> float | None:
        """The index price at ``t_ms`` (None: the market has no index)."""
        if self.index_slice is None:
            return None
        i = self.index_at(t_ms)
        return float(self.index_slice(i, i + 1)[0])

    def mark_at(self, t_ms: int) -> float:
        """The mark price at ``t_ms`` (what margin, liquidation, funding and mark triggers read)."""
        i = self.index_at(t_ms)
        if self._mark_source is None:
            return float(self.mid[i])
        if self._mark is None and not isinstance(self._mark_source, np.ndarray):
            return self._mark_source.at(i)  # one price: no need to build the series
        return float(self.series("mark").prices[i])

    def price_at(self, which: str, t_ms: int) -> float:
        if which == "last" and self._last is None and isinstance(self._last_source, BidAskBounce):
            return self._last_source.at(self.index_at(t_ms))  # one price: no need to build the series
        return float(self.series(which).prices[self.index_at(t_ms)])

    def first_exit(self, start: int, lo: float, hi: float, which: str = "mark") -> int | None:
        """First tick index ``>= start`` whose ``which`` price is ``<= lo`` or ``>= hi`` (None: never)."""
        return self.series(which).first_exit(start, lo, hi)

    def ohlc_rows(self, start_ms: int, interval_ms: int, count: int) -> list[tuple[float, float, float, float]]:
        """`ohlc` as Python tuples, served from blocks of candles computed a day's worth at a time.

        A bot asks for one new candle a cycle; computing a block of them in one numpy pass and
        handing them out one by one costs a list lookup per cycle instead of a slice, a copy and
        a max/min each. Only the newest block per (interval, alignment) is kept, so memory stays flat.
        """
        per = interval_ms // self.tick_ms
        i0 = self.index_at(start_ms)
        rows: list[tuple[float, float, float, float]] = []
        while len(rows) < count:
            key = (per, i0 % per)
            first, block = self._candle_blocks.get(key, (0, []))
            j = (i0 - first) // per
            if i0 < first or j >= len(block):
                first, j = i0, 0
                block = [tuple(r) for r in self._ohlc_at(i0, per, max(_CANDLE_BLOCK, count - len(rows))).tolist()]
                self._candle_blocks[key] = (first, block)
                if not block:
                    break
            take = block[j: j + count - len(rows)]
            rows.extend(take)
            i0 += per * len(take)
        return rows

    def ohlc(self, start_ms: int, interval_ms: int, count: int) -> np.ndarray:
        """``count`` candles of ``interval_ms`` from ``start_ms``: an array of (open, high, low, close).

        ``interval_ms`` must be a multiple of the tick interval.
        """
        return self._ohlc_at(self.index_at(start_ms), interval_ms // self.tick_ms, count)

    def _ohlc_at(self, i0: int, per: int, count: int) -> np.ndarray:
        seg = self.mid[i0: i0 + per * count]
        count = len(seg) // per
        if count == 0:
            return np.empty((0, 4))
        bars = seg[: count * per].reshape(count, per)
        return np.column_stack([bars[:, 0], bars.max(axis=1), bars.min(axis=1), bars[:, -1]])


def apply_gaps(mid: np.ndarray, gaps: list[tuple[int, float]]) -> None:
    """Jump the path at tick ``i`` by ``frac`` (e.g. -0.05): every later price moves with it, in place."""
    for i, frac in sorted(gaps):
        if not frac > -1:
            raise ValueError(f"a price gap must be above -100 %, got {frac}")
        mid[i:] *= 1.0 + frac


class BidAskBounce:
    """The last-trade price as the mid bounced to the bid or the ask, the side drawn per tick.

    The sides are drawn once, on first use (one byte a tick); a single price (a ticker's last)
    is computed from its tick's side, and the float series (eight bytes a tick) is built only
    when a trigger watches the last price. Both give the same numbers, bit for bit.
    """

    def __init__(self, mid: np.ndarray, half_spread_frac: float, rng: np.random.Generator) -> None:
        self.mid = mid
        self.half_spread_frac = half_spread_frac
        self.rng = rng
        self._sides: np.ndarray | None = None

    def sides(self) -> np.ndarray:
        """0 (the bid) or 1 (the ask) per tick."""
        if self._sides is None:
            self._sides = self.rng.integers(0, 2, size=len(self.mid), dtype=np.int8)
        return self._sides

    def series_slice(self, a: int, b: int) -> np.ndarray:
        """The last-trade prices of ticks a..b-1 (the same values `series` holds there)."""
        sides = self.sides()[a:b].astype(np.float64) * 2.0 - 1.0
        return self._price(self.mid[a:b], sides)

    def _price(self, mid: np.ndarray, sign: np.ndarray) -> np.ndarray:
        return mid * (1.0 + self.half_spread_frac * sign)

    def at(self, i: int) -> float:
        """The last-trade price at tick ``i`` (the same value `series` holds there)."""
        return float(self.mid[i] * (1.0 + self.half_spread_frac * (float(self.sides()[i]) * 2.0 - 1.0)))

    def series(self) -> np.ndarray:
        sides, mid = self.sides(), self.mid
        out = np.empty_like(mid)
        for a in range(0, len(mid), 1 << 20):  # in chunks: no full-length float temporaries
            b = a + (1 << 20)
            out[a:b] = mid[a:b] * (1.0 + self.half_spread_frac * (sides[a:b].astype(np.float64) * 2.0 - 1.0))
        return out


class TickLast(BidAskBounce):
    """The last trade at the one-tick bid or ask: ``mid -+ tick / 2``, on the price grid, side per tick.

    For paths whose mid sits half a tick off the grid (`sim.market.msm.on_tick_grid`), as BTCUSDT's
    does with its one-tick spread: the bounce is a tick wide, not a fraction of the price.
    """

    def __init__(self, mid: np.ndarray, tick_size: float, rng: np.random.Generator) -> None:
        super().__init__(mid, 0.5 * tick_size, rng)

    def sides(self) -> np.ndarray:
        """0 (bid) or 1 (ask) per tick, redrawn only where the mid moves: a quiet second has no trade, so
        the last price stands (BTCUSDT's 1-second last is unchanged 24 to 43 % of the time)."""
        if self._sides is None:
            raw = self.rng.integers(0, 2, size=len(self.mid), dtype=np.int8)
            out = np.empty_like(raw)
            held = 0
            for a in range(0, len(raw), 1 << 16):  # forward-fill in chunks: no full-length index array
                b = min(a + (1 << 16), len(raw))
                moved = np.empty(b - a, dtype=bool)
                moved[0] = a == 0 or self.mid[a] != self.mid[a - 1]
                np.not_equal(self.mid[a + 1:b], self.mid[a:b - 1], out=moved[1:])
                idx = np.where(moved, np.arange(b - a), -1)
                np.maximum.accumulate(idx, out=idx)
                seg = raw[a:b][np.maximum(idx, 0)]
                seg[idx < 0] = held
                out[a:b] = seg
                held = int(seg[-1])
            self._sides = out
        return self._sides

    def at(self, i: int) -> float:
        return float(self.mid[i] + self.half_spread_frac * (float(self.sides()[i]) * 2.0 - 1.0))

    def _price(self, mid: np.ndarray, sign: np.ndarray) -> np.ndarray:
        return mid + self.half_spread_frac * sign

    def series_slice(self, a: int, b: int) -> np.ndarray:
        h = self.half_spread_frac
        return np.array([-h, h])[self.sides()[a:b]] + self.mid[a:b]

    def series(self) -> np.ndarray:
        out = np.empty_like(self.mid)
        for a in range(0, len(out), 1 << 16):  # chunks that stay in the cache
            b = min(a + (1 << 16), len(out))
            out[a:b] = self.series_slice(a, b)
        return out
