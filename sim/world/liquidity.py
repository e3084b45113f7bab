"""Depth around the mid and the walk a market order makes through it.

The book is a ladder of levels: level ``k`` sits ``half_spread + k * level_step`` bps from the
mid and the first ``k`` levels hold ``level0_qty * k**depth_exponent`` base units. With exponent 2
(the latent book of Toth et al. 2011) an order of size ``q`` reaches ``~ sqrt(q)`` deep, the
square-root law; BTCUSDT's visible book grows like ``k**1.4`` (the default, fitted to the shipped
snapshots). The walk is closed-form for exponent 2 and a cached table lookup otherwise.

The venue reaches the book only through the `Book` protocol (touch, reach, take, the ladder in
force, thin windows): `LiquiditySchedule` is the static book (it refills before the next order,
``[liquidity] impact = "none"``); `sim.world.book_dynamics.DynamicBook` adds transient impact and
depth that follows volatility; a recorded L2 book plugs in the same way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True, slots=True)
class BookWalk:
    """Result of walking the book: base quantity filled and its volume-weighted average price."""

    filled: float
    avg_price: float
    worst_price: float
    half_spread_bps: float = 0.0  # the touch's distance from the mid when it walked: the spread part of its cost


@dataclass(frozen=True, slots=True)
class DepthProfile:
    """Parameters of the ladder (all distances in basis points of the mid).

    spread_bps: full quoted spread; the touch is half of it either side of the mid.
    level_step_bps: distance between consecutive levels.
    level0_qty: base quantity at the touch; level ``k`` holds ``level0_qty * (2k + 1)``.
    levels: number of levels per side; an order larger than the ladder fills partially.
    """

    spread_bps: float = 1.0
    level_step_bps: float = 0.5
    level0_qty: float = 0.5
    levels: int = 400
    depth_exponent: float = 2.0  # depth within k levels ~ k**depth_exponent; 2 gives the square-root law

    def __post_init__(self) -> None:
        if self.spread_bps < 0 or self.level_step_bps < 0:
            raise ValueError("spread_bps and level_step_bps must not be negative")
        if self.level0_qty <= 0 or self.levels < 1:
            raise ValueError("level0_qty must be positive and levels at least 1")
        if not 1.0 <= self.depth_exponent <= 4.0:
            raise ValueError("depth_exponent must be between 1 and 4")

    @property
    def total_qty(self) -> float:
        """Base quantity on one side of the book."""
        return self.level0_qty * self.levels**self.depth_exponent

    def touch(self, mid: float) -> tuple[float, float]:
        """Best bid and ask around ``mid``."""
        h = 0.5 * self.spread_bps * 1e-4
        return mid * (1 - h), mid * (1 + h)

    def walk(self, buy: bool, qty: float, mid: float) -> BookWalk:
        """Walk ``qty`` through one side of the book; fills less than ``qty`` if the ladder ends."""
        if qty <= 0:
            return BookWalk(0.0, mid, mid)
        if self.depth_exponent != 2.0:
            return _walk_general(self, buy, qty, mid)
        l0, h, s = self.level0_qty, 0.5 * self.spread_bps, self.level_step_bps
        q = min(qty, self.total_qty)
        n = min(int(math.sqrt(q / l0)), self.levels)  # levels consumed whole
        while n > 0 and l0 * n * n > q:  # guard the float square root
            n -= 1
        while n < self.levels and l0 * (n + 1) ** 2 <= q:
            n += 1
        full = l0 * n * n
        # sum over full levels of size_k * k = l0 * sum(2k^2 + k) for k < n
        sum_k = l0 * ((n - 1) * n * (2 * n - 1) / 3 + (n - 1) * n / 2) if n > 0 else 0.0
        rest = q - full
        if rest <= 1e-12 * q:  # float residue of a whole-level fill, not a further level
            rest = 0.0
        bps_volume = h * full + s * sum_k + rest * (h + s * n)
        avg_bps = bps_volume / q
        worst_bps = h + s * (n if rest > 0 else max(n - 1, 0))
        sign = 1.0 if buy else -1.0
        return BookWalk(q, mid * (1 + sign * avg_bps * 1e-4), mid * (1 + sign * worst_bps * 1e-4))


@lru_cache(maxsize=64)
def _ladder(exponent: float, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative quantity, and cumulative quantity x level index, of the first k levels (k = 0..levels),
    for a touch of one base unit (both scale with ``level0_qty``: a book whose depth changes by a factor
    reuses the table)."""
    k = np.arange(levels + 1, dtype=float)
    cum = k**exponent
    size = np.diff(cum)
    cum_kq = np.concatenate([[0.0], np.cumsum(size * np.arange(levels))])
    return cum, cum_kq


def _walk_general(p: DepthProfile, buy: bool, qty: float, mid: float) -> BookWalk:
    """`DepthProfile.walk` for any depth exponent (tables instead of the closed form)."""
    cum, cum_kq = _ladder(p.depth_exponent, p.levels)
    l0 = p.level0_qty
    q = min(qty, l0 * float(cum[-1]))
    n = int(np.searchsorted(cum, q / l0, side="right")) - 1  # whole levels consumed
    while n > 0 and l0 * float(cum[n]) > q:  # guard the division's rounding
        n -= 1
    while n < p.levels and l0 * float(cum[n + 1]) <= q:
        n += 1
    full = l0 * float(cum[n])
    rest = q - full
    if rest <= 1e-12 * q:
        rest = 0.0
    h, s = 0.5 * p.spread_bps, p.level_step_bps
    avg_bps = (h * full + s * l0 * float(cum_kq[n]) + rest * (h + s * n)) / q
    worst_bps = h + s * (n if rest > 0 else max(n - 1, 0))
    sign = 1.0 if buy else -1.0
    return BookWalk(q, mid * (1 + sign * avg_bps * 1e-4), mid * (1 + sign * worst_bps * 1e-4))


IDEAL = DepthProfile(spread_bps=0.0, level_step_bps=0.0, level0_qty=1e12, levels=1)
"""Test mode: every order fills whole at the mid."""


@dataclass(frozen=True, slots=True)
class ThinWindow:
    """A stretch of thin liquidity: depth scaled by ``depth_factor``, spread by ``spread_factor``."""

    start_ms: int
    end_ms: int
    depth_factor: float
    spread_factor: float

    def __post_init__(self) -> None:
        if self.end_ms <= self.start_ms or self.depth_factor <= 0 or self.spread_factor <= 0:
            raise ValueError("a thin-liquidity window needs end > start and positive factors")


@runtime_checkable
class Book(Protocol):
    """What the venue asks of the book it matches against: the seam every liquidity model plugs into.

    Prices are absolute, quantities in base units, ``t_ms`` the venue's time and ``mid`` the path's
    mid at that time (a model may ignore it, a recorded book does). Only `take` changes the book
    (a model with impact memory remembers the volume taken); the other calls are read-only.
    """

    def touch(self, t_ms: int, mid: float) -> tuple[float, float]:
        """Best bid and ask now (post-only checks, the ticker)."""
        ...

    def reach(self, t_ms: int, buy: bool, mid: float, limit_price: float) -> float:
        """Base quantity an order could take now at prices no worse than ``limit_price`` (FOK checks)."""
        ...

    def take(self, t_ms: int, buy: bool, qty: float, mid: float, limit_price: float | None = None) -> BookWalk:
        """Walk ``qty`` (capped at `reach` of ``limit_price`` when given) and consume it: a taker's fill."""
        ...

    def at(self, t_ms: int) -> DepthProfile:
        """The ladder in force at ``t_ms`` (displayed depth, the resting-limit fill model)."""
        ...

    def add(self, window: ThinWindow) -> None:
        """A thin-liquidity window decided while running (an operator's event)."""
        ...


def window_factors(windows: list[ThinWindow], t_ms: int) -> tuple[float, float]:
    """The depth and spread factors in force at ``t_ms`` (windows sorted by start): overlapping windows
    do not compound, the thinnest depth and the widest spread apply."""
    depth, spread = 1.0, 1.0
    for w in windows:
        if w.start_ms > t_ms:
            break
        if t_ms < w.end_ms:
            depth, spread = min(depth, w.depth_factor), max(spread, w.spread_factor)
    return depth, spread


class LiquiditySchedule:
    """The depth profile in force at any time: a baseline plus thin-liquidity windows; the static
    `Book` (no memory of past takers: the book refills before the next order).

    Overlapping windows do not compound: the thinnest depth and the widest spread in force apply.
    """

    def __init__(self, base: DepthProfile, windows: list[ThinWindow] | None = None) -> None:
        self.base = base
        self.windows = sorted(windows or [], key=lambda w: w.start_ms)
        self._profiles: dict[tuple[float, float], DepthProfile] = {}

    def add(self, window: ThinWindow) -> None:
        self.windows = sorted([*self.windows, window], key=lambda w: w.start_ms)

    def at(self, t_ms: int) -> DepthProfile:
        depth, spread = window_factors(self.windows, t_ms)
        if depth == 1.0 and spread == 1.0:
            return self.base
        key = (depth, spread)
        if key not in self._profiles:
            b = self.base
            self._profiles[key] = DepthProfile(b.spread_bps * spread, b.level_step_bps * spread, b.level0_qty * depth,
                                               b.levels, b.depth_exponent)
        return self._profiles[key]

    def touch(self, t_ms: int, mid: float) -> tuple[float, float]:
        return self.at(t_ms).touch(mid)

    def reach(self, t_ms: int, buy: bool, mid: float, limit_price: float) -> float:
        return max_qty_within(self.at(t_ms), buy, mid, limit_price)

    def take(self, t_ms: int, buy: bool, qty: float, mid: float, limit_price: float | None = None) -> BookWalk:
        return take_from(self.at(t_ms), buy, qty, mid, limit_price)


def max_qty_within(profile: DepthProfile, buy: bool, mid: float, limit_price: float) -> float:
    """Base quantity on the ladder at prices no worse than ``limit_price`` (a limit order's reach)."""
    dist_bps = (limit_price / mid - 1.0) * 1e4 * (1 if buy else -1) + 1e-7  # a price *at* a level reaches it
    h, s = 0.5 * profile.spread_bps, profile.level_step_bps
    if dist_bps < h:
        return 0.0
    n = profile.levels if s == 0 else min(int((dist_bps - h) / s) + 1, profile.levels)
    return profile.level0_qty * n**profile.depth_exponent


def take_from(profile: DepthProfile, buy: bool, qty: float, mid: float, limit_price: float | None = None,
              shift_bps: float = 0.0) -> BookWalk:
    """Walk ``profile`` for ``qty`` (up to ``limit_price``), the whole ladder moved ``shift_bps`` away
    from the mid on the side taken (0: a fresh book)."""
    half = 0.5 * profile.spread_bps
    if limit_price is not None:
        sign = 1.0 if buy else -1.0
        reach_mid = mid * (1 + sign * shift_bps * 1e-4)
        qty = min(qty, max_qty_within(profile, buy, reach_mid, limit_price))
    if qty <= 0:
        return BookWalk(0.0, mid, mid, half)
    w = profile.walk(buy, qty, mid)
    if shift_bps:
        sign = 1.0 if buy else -1.0
        w = BookWalk(w.filled, w.avg_price + sign * mid * shift_bps * 1e-4,
                     w.worst_price + sign * mid * shift_bps * 1e-4)
    return BookWalk(w.filled, w.avg_price, w.worst_price, half)
