"""A book that remembers the bot's own takers and breathes with the market: a `Book` over a ladder.

Two mechanisms, each switchable per scenario (``[liquidity] impact`` and ``depth_model``):

Transient impact (Obizhaeva-Wang resilience on a square-root latent book, Toth et al. 2011). Per
side, the base quantity the venue's takers consumed, ``D``, refills exponentially with a half-life.
While ``D`` is not refilled, that side of the book sits ``impact_bps * sqrt(D)`` farther from the
mid: a taker pays the ladder's walk for its own size, shifted by the impact its predecessors left.
So one sweep pays the visible ladder (the fit to the real snapshots); a metaorder sliced into
pieces executed close together pays on average about ``2/3 * impact_bps * sqrt(Q)`` on top of its
slices' walks (the square-root law for the whole, Donier & Bonart 2015 on Bitcoin), and pieces
spaced many half-lives apart each pay the single-piece cost. Impact lives on the side consumed:
buying moves the asks up and leaves the bids, so a round trip does not earn back its cost (a signed
propagator on a concave impact would let it, Gatheral 2010). The mid, mark and last stay the
market's path: the venue's triggers, margin, funding and the checker read one exogenous price, the
same for every bot on a seed; the bot's own footprint is in its fill prices, its `touch` and `reach`.

Depth from volatility. When an order needs the book (never per tick), the realized volatility of
the mid over ``vol_window`` before ``now`` is compared with the reference volatility: depth scales
by ``(reference / realized) ** depth_vol_elasticity`` (clipped to 0.1..2), and once the realized
volatility exceeds ``spread_vol_threshold`` times the reference the spread widens to
``ceil(realized / reference / threshold)`` times itself (whole ticks, by default). Each side also
has its own depth factor, lognormal with log-sd ``side_depth_sd`` (fitted to the three shipped
1,000-level snapshots, `sim.market.book_data.depth_log_ratios`), drawn per ``side_depth_period``
from the run's seed and the period's number (every bot on a seed sees the same book); its median is
set so that the average walk cost stays the ladder's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.world.liquidity import Book, BookWalk, DepthProfile, ThinWindow, max_qty_within, take_from
from sim.world.market import PricePath

SECONDS_A_YEAR = 365 * 86_400
DEPTH_FACTOR_RANGE = (0.1, 2.0)  # depth from volatility: thinnest and thickest, relative to the ladder
SIDE_BLOCK = 1024  # side factors drawn this many periods at a time


@dataclass(frozen=True, slots=True)
class ImpactParams:
    """Transient impact: ``coefficient_bps * sqrt(D)`` bps for ``D`` base units not yet refilled."""

    coefficient_bps: float
    halflife_ms: int

    def __post_init__(self) -> None:
        if not (self.coefficient_bps >= 0 and math.isfinite(self.coefficient_bps)) or self.halflife_ms <= 0:
            raise ValueError("impact needs a finite coefficient >= 0 and a positive half-life")


@dataclass(frozen=True, slots=True)
class DepthParams:
    """Depth that follows realized volatility, and a depth factor per side.

    vol_window_ms: how far back from ``now`` the realized volatility is measured.
    vol_reference: annualised volatility at which the ladder is the base one (<= 0: no response).
    depth_vol_elasticity: depth ~ (reference / realized) ** elasticity.
    spread_vol_threshold: the spread is ``ceil(realized / reference / threshold)`` times the base (at least 1).
    side_depth_sd: log-sd of each side's lognormal depth factor (0: symmetric book).
    side_depth_period_ms: how long one draw of the side factors lasts.
    seed: the run's seed for the side factors.
    """

    vol_window_ms: int
    vol_reference: float
    depth_vol_elasticity: float
    spread_vol_threshold: float
    side_depth_sd: float
    side_depth_period_ms: int
    seed: int

    def __post_init__(self) -> None:
        if self.vol_window_ms <= 0 or self.side_depth_period_ms <= 0:
            raise ValueError("vol_window and side_depth_period must be positive")
        if self.depth_vol_elasticity < 0 or self.spread_vol_threshold <= 0 or self.side_depth_sd < 0:
            raise ValueError("depth_vol_elasticity and side_depth_sd must be >= 0, spread_vol_threshold > 0")


class TransientImpact:
    """Per side, the own volume taken that the book has not refilled yet (exponential resilience)."""

    def __init__(self, params: ImpactParams) -> None:
        self.params = params
        self._rate = math.log(2.0) / params.halflife_ms
        self._volume = [0.0, 0.0]  # [sell side (bids consumed), buy side (asks consumed)]
        self._since = [0, 0]

    def consumed(self, t_ms: int, buy: bool) -> float:
        """Base quantity taken from the side a ``buy`` (or sell) walks and not refilled at ``t_ms``."""
        i = int(buy)
        v = self._volume[i]
        dt = t_ms - self._since[i]
        return v * math.exp(-self._rate * dt) if v and dt > 0 else v

    def shift_bps(self, t_ms: int, buy: bool) -> float:
        """How far (bps) that side sits beyond its fresh place."""
        return self.params.coefficient_bps * math.sqrt(self.consumed(t_ms, buy))

    def took(self, t_ms: int, buy: bool, qty: float) -> None:
        i = int(buy)
        self._volume[i] = self.consumed(t_ms, buy) + qty
        self._since[i] = max(t_ms, self._since[i])


class DepthState:
    """The volatility response and the side factors at an instant, from the path around it."""

    def __init__(self, params: DepthParams, path: PricePath) -> None:
        self.params = params
        self.path = path
        p = params
        self._ref = p.vol_reference / math.sqrt(SECONDS_A_YEAR) if p.vol_reference > 0 else 0.0  # per sqrt(s)
        self._block: tuple[int, np.ndarray] = (-1, np.ones((1, 2)))
        self._profiles: tuple[int, DepthProfile | None, list[DepthProfile | None]] = (-1, None, [None, None])
        self._at: tuple[int, float] = (-1, 1.0)

    def realized_ratio(self, t_ms: int) -> float:
        """Realized volatility of the mid over the window before ``t_ms``, over the reference (1: none)."""
        if self._ref == 0.0:
            return 1.0
        path = self.path
        i = path.index_at(t_ms)
        if self._at[0] == i:  # the same tick of the path: the same window
            return self._at[1]
        n = max(2, self.params.vol_window_ms // path.tick_ms)
        a = max(0, i - n)
        b = min(len(path), a + n + 1)  # near the start of the path the window reaches forward
        seg = path.mid[a:b]
        r = np.diff(np.log(seg)) if len(seg) > 1 else np.zeros(1)
        sigma = math.sqrt(float(np.dot(r, r)) / max(len(r), 1) / (path.tick_ms / 1000.0))
        ratio = sigma / self._ref
        self._at = (i, ratio)
        return ratio

    def side_factors(self, t_ms: int) -> tuple[float, float]:
        """(bid side, ask side) depth factors in force at ``t_ms`` (before the median correction)."""
        p = self.params
        if p.side_depth_sd == 0:
            return 1.0, 1.0
        k = t_ms // p.side_depth_period_ms
        block, j = divmod(k, SIDE_BLOCK)
        if self._block[0] != block:  # one generator per block of periods, from the seed and the block's number
            z = np.random.default_rng([p.seed, block]).standard_normal((SIDE_BLOCK, 2))
            self._block = (block, np.exp(p.side_depth_sd * z))
        f = self._block[1][j]
        return float(f[0]), float(f[1])

    def widening(self, t_ms: int) -> int:
        """How many times the configured spread the spread is at ``t_ms`` (1 below the threshold)."""
        return max(1, math.ceil(self.realized_ratio(t_ms) / self.params.spread_vol_threshold))

    def profile(self, base: DepthProfile, t_ms: int, buy: bool) -> DepthProfile:
        """The ladder the side a ``buy`` (or sell) walks shows at ``t_ms``."""
        t, b, cached = self._profiles
        if t != t_ms or b is not base:
            cached = [None, None]
            self._profiles = (t_ms, base, cached)
        prof = cached[int(buy)]
        if prof is None:
            prof = cached[int(buy)] = self._profile(base, t_ms, buy)
        return prof

    def _profile(self, base: DepthProfile, t_ms: int, buy: bool) -> DepthProfile:
        ratio = self.realized_ratio(t_ms)
        p = self.params
        lo, hi = DEPTH_FACTOR_RANGE
        vol_f = 1.0 if ratio == 1.0 else min(hi, max(lo, ratio ** -p.depth_vol_elasticity)) if ratio > 0 else hi
        widen = self.widening(t_ms)
        # a walk costs ~ depth ** (-1 / exponent): a median of exp(sd**2 / (2 exponent)) keeps its mean the ladder's
        side = self.side_factors(t_ms)[int(buy)] * math.exp(0.5 * p.side_depth_sd ** 2 / base.depth_exponent)
        f = vol_f * side
        if f == 1.0 and widen == 1:
            return base
        return DepthProfile(base.spread_bps * widen, base.level_step_bps, base.level0_qty * f, base.levels,
                            base.depth_exponent)


class DynamicBook(Book):
    """A `Book` over a ladder schedule with transient impact and/or depth from volatility (either may be None)."""

    def __init__(self, schedule: Book, path: PricePath, impact: ImpactParams | None = None,
                 depth: DepthParams | None = None) -> None:
        self.schedule = schedule
        self.impact = TransientImpact(impact) if impact is not None else None
        self.depth = DepthState(depth, path) if depth is not None else None

    def _side(self, t_ms: int, buy: bool) -> tuple[DepthProfile, float]:
        base = self.schedule.at(t_ms)
        prof = self.depth.profile(base, t_ms, buy) if self.depth is not None else base
        return prof, self.impact.shift_bps(t_ms, buy) if self.impact is not None else 0.0

    def at(self, t_ms: int) -> DepthProfile:
        return self.schedule.at(t_ms)

    def add(self, window: ThinWindow) -> None:
        self.schedule.add(window)

    def touch(self, t_ms: int, mid: float) -> tuple[float, float]:
        half = 0.5 * self.schedule.at(t_ms).spread_bps * (self.depth.widening(t_ms) if self.depth is not None else 1)
        imp = self.impact
        sb, sa = (imp.shift_bps(t_ms, False), imp.shift_bps(t_ms, True)) if imp is not None else (0.0, 0.0)
        return mid * (1 - (half + sb) * 1e-4), mid * (1 + (half + sa) * 1e-4)

    def reach(self, t_ms: int, buy: bool, mid: float, limit_price: float) -> float:
        prof, shift = self._side(t_ms, buy)
        return max_qty_within(prof, buy, mid * (1 + (1 if buy else -1) * shift * 1e-4), limit_price)

    def take(self, t_ms: int, buy: bool, qty: float, mid: float, limit_price: float | None = None) -> BookWalk:
        prof, shift = self._side(t_ms, buy)
        walk = take_from(prof, buy, qty, mid, limit_price, shift)
        if self.impact is not None and walk.filled > 0:
            self.impact.took(t_ms, buy, walk.filled)
        return walk
