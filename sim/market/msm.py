"""A price model with the stylised facts of real BTC: clustered volatility, fat tails, clustered
jumps, regimes, quiet seconds, prices on the tick grid.

Volatility is multifractal (Calvet & Fisher's Markov-switching multifractal): the variance is
``sigma**2`` times the product of ``components`` multipliers, each drawn from {m0, 2 - m0} (mean 1)
and redrawn at its own rate; the mean lifetimes run geometrically from ``vol_shortest`` (seconds to
minutes: bursts) to ``vol_longest`` (days: regimes of calm and storm). The slow components give the
long memory of |returns| (autocorrelation still 0.1 a day later), the product the fat tails of
1-minute returns. On top: Student-t innovations (the tails of 1-second returns), a two-state
calm/turbulent regime, jumps whose arrivals excite further jumps (a Hawkes process: one flash move
brings others), and ticks on which the price does not change (no trade), as 24-43 % of BTCUSDT's
seconds.

Every parameter is in time units, not ticks, so a path at 1 s and one at 100 ms have the same
minute-level behaviour. The path is drawn chunk by chunk from one generator: temporaries stay a
chunk long whatever the run's length (a year of 1-second ticks needs the path and one chunk).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SECONDS_PER_YEAR = 365 * 86_400
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class JumpParams:
    """Clustered jumps: a Hawkes process of ``rate`` jumps a day on average (the clusters included).

    size: mean absolute jump (fraction of the price; normal, either sign: a Laplace size made one freak
    month-long outlier in a few paths and the kurtosis of a month unstable).
    clustering: share of jumps triggered by an earlier one (the branching ratio, < 1).
    decay_ms: mean delay from a jump to the jumps it triggers.
    """

    rate: float = 0.0
    size: float = 0.003
    clustering: float = 0.5
    decay_ms: int = 600_000
    duration_ms: int = 10_000  # a jump unfolds evenly over this long (a flash move takes seconds, not one tick)

    def __post_init__(self) -> None:
        if self.rate < 0 or self.size < 0 or not 0 <= self.clustering < 1 or self.decay_ms <= 0 \
                or self.duration_ms < 0:
            raise ValueError("jumps need rate >= 0, size >= 0, 0 <= clustering < 1, a positive decay and a "
                             "duration >= 0")


@dataclass(frozen=True, slots=True)
class RegimeParams:
    """Two volatility regimes: calm (factor 1) and turbulent (``vol_factor``), mean durations in ms."""

    vol_factor: float = 1.0
    calm_ms: int = 5 * DAY_MS
    turbulent_ms: int = DAY_MS

    @property
    def enabled(self) -> bool:
        return self.vol_factor != 1.0


@dataclass(frozen=True, slots=True)
class MsmParams:
    """The multifractal model; ``sigma`` is the long-run annualised volatility of the diffusive part."""

    s0: float
    sigma: float
    drift: float = 0.0
    components: int = 8
    m0: float = 1.4
    vol_shortest_ms: int = 60_000
    vol_longest_ms: int = 4 * DAY_MS
    tail_dof: float | None = None  # Student-t degrees of freedom of the innovations; None: Gaussian
    active_share: float = 1.0  # share of ticks on which the price moves
    jumps: JumpParams = JumpParams()
    regimes: RegimeParams = RegimeParams()
    tick_size: float | None = None  # round the mid so the bid and ask (mid -+ half a tick) lie on the grid

    def __post_init__(self) -> None:
        if not 1.0 <= self.m0 < 2.0:
            raise ValueError(f"the volatility multiplier m0 must be in [1, 2), got {self.m0}")
        if self.components < 0 or self.vol_shortest_ms <= 0 or self.vol_longest_ms < self.vol_shortest_ms:
            raise ValueError("volatility components need 0 < vol_shortest <= vol_longest")
        if self.tail_dof is not None and self.tail_dof <= 2:
            raise ValueError(f"tail_dof must exceed 2 (finite variance), got {self.tail_dof}")
        if not 0 < self.active_share <= 1:
            raise ValueError(f"active_share must be in (0, 1], got {self.active_share}")

    def lifetimes_ms(self) -> np.ndarray:
        """Mean lifetime of each volatility component, shortest first."""
        k = self.components
        if k == 0:
            return np.empty(0)
        if k == 1:
            return np.array([float(self.vol_shortest_ms)])
        ratio = self.vol_longest_ms / self.vol_shortest_ms
        return self.vol_shortest_ms * ratio ** (np.arange(k) / (k - 1))


def hawkes_times(p: JumpParams, horizon_ms: int, rng: np.random.Generator) -> np.ndarray:
    """Jump times in [0, horizon) (ms, sorted): immigrants at ``rate * (1 - clustering)`` a day, each
    jump triggering Poisson(``clustering``) more after exponential delays (the cluster form of Hawkes)."""
    if p.rate <= 0:
        return np.empty(0)
    base = p.rate * (1.0 - p.clustering) * horizon_ms / DAY_MS
    gen = rng.uniform(0, horizon_ms, rng.poisson(base))
    times = [gen]
    while len(gen) and p.clustering > 0:
        kids = rng.poisson(p.clustering, len(gen))
        gen = np.repeat(gen, kids) + rng.exponential(p.decay_ms, int(kids.sum()))
        gen = gen[gen < horizon_ms]
        times.append(gen)
    return np.sort(np.concatenate(times))


def regime_switches(p: RegimeParams, horizon_ms: int, rng: np.random.Generator) -> np.ndarray:
    """Times (ms) at which the regime flips, starting calm; empty when regimes are off."""
    if not p.enabled:
        return np.empty(0)
    out, t, calm = [], 0.0, True
    while True:
        t += rng.exponential(p.calm_ms if calm else p.turbulent_ms)
        if t >= horizon_ms:
            return np.array(out)
        out.append(t)
        calm = not calm


def regime_norm(p: RegimeParams) -> float:
    """Variance scale so that the long-run variance over both regimes is that of ``sigma``."""
    if not p.enabled:
        return 1.0
    w = p.turbulent_ms / (p.calm_ms + p.turbulent_ms)
    return 1.0 / ((1 - w) + w * p.vol_factor**2)


class _VolState:
    """The current multiplier of each component, carried from chunk to chunk."""

    def __init__(self, p: MsmParams, tick_ms: int, rng: np.random.Generator) -> None:
        self.lo, self.hi = 2.0 - p.m0, p.m0
        self.switch_prob = -np.expm1(-tick_ms / p.lifetimes_ms())  # per tick
        self.values = np.where(rng.random(p.components) < 0.5, self.lo, self.hi)

    def scale(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """The square root of the product of multipliers for the next ``m`` ticks (it changes only
        where a component switches, so the work is per switch plus one pass)."""
        positions, ratios = [], []
        for k, prob in enumerate(self.switch_prob):
            count = int(rng.binomial(m, prob))
            if count == 0:
                continue
            pos = np.sort(rng.integers(0, m, count))
            new = np.where(rng.random(count) < 0.5, self.lo, self.hi)
            prev = np.concatenate([[self.values[k]], new[:-1]])
            positions.append(pos)
            ratios.append(new / prev)
            self.values[k] = new[-1]
        if not positions:
            return np.full(m, math.sqrt(float(np.prod(self.values))))
        pos = np.concatenate(positions)
        order = np.argsort(pos, kind="stable")
        pos, steps = pos[order], np.concatenate(ratios)[order]
        start = float(np.prod(self.values)) / float(np.prod(steps))  # exact product at the chunk's start
        levels = start * np.concatenate([[1.0], np.cumprod(steps)])
        return np.sqrt(levels)[np.cumsum(np.bincount(pos, minlength=m))]


def msm_log_returns(p: MsmParams, n: int, tick_ms: int, rng: np.random.Generator,
                    chunk: int = 1 << 16):
    """Yield the log-returns of ``n`` ticks, ``chunk`` at a time (with the jumps and regimes in them)."""
    horizon = n * tick_ms
    jump_ticks = (hawkes_times(p.jumps, horizon, rng) // tick_ms).astype(np.int64)
    spread = max(p.jumps.duration_ms // tick_ms, 1)
    jump_sd = p.jumps.size * math.sqrt(math.pi / 2)  # a normal with mean |j| = size
    jump_steps = np.repeat(rng.normal(0.0, jump_sd, len(jump_ticks)) / spread, spread)
    jump_ticks = (jump_ticks[:, None] + np.arange(spread)[None, :]).ravel()
    order = np.argsort(jump_ticks, kind="stable")
    jump_ticks, jump_steps = jump_ticks[order], jump_steps[order]
    regime_ticks = (regime_switches(p.regimes, horizon, rng) // tick_ms).astype(np.int64)
    vol = _VolState(p, tick_ms, rng)
    dt = tick_ms / 1000.0 / SECONDS_PER_YEAR
    var_scale = p.sigma**2 * dt * regime_norm(p.regimes) / p.active_share
    jump_var = p.jumps.rate * 365 * jump_sd**2 * dt
    mu = (p.drift - 0.5 * (p.sigma**2 + jump_var / dt)) * dt
    t_scale = 1.0 if p.tail_dof is None else math.sqrt((p.tail_dof - 2) / p.tail_dof)
    done = 0
    while done < n:
        m = min(chunk, n - done)
        r = vol.scale(m, rng)
        r *= math.sqrt(var_scale) * t_scale
        a, b = np.searchsorted(regime_ticks, [done, done + m])
        if len(regime_ticks):  # turbulent between odd and even flips
            turbulent = np.zeros(m + 1, dtype=np.int64)
            np.add.at(turbulent, regime_ticks[a:b] - done, 1)
            turbulent = (np.cumsum(turbulent[:m]) + a) % 2 == 1
            r[turbulent] *= p.regimes.vol_factor
        r *= rng.standard_normal(m) if p.tail_dof is None else rng.standard_t(p.tail_dof, m)
        r += mu / p.active_share
        if p.active_share < 1.0:  # quiet ticks: each tick missed by Poisson(-m ln a) uniform picks w.p. a
            r[rng.integers(0, m, rng.poisson(-m * math.log(p.active_share)))] = 0.0
        a, b = np.searchsorted(jump_ticks, [done, done + m])
        if b > a:
            np.add.at(r, jump_ticks[a:b] - done, jump_steps[a:b])
        yield r
        done += m


def on_tick_grid(prices: np.ndarray, tick_size: float) -> np.ndarray:
    """Mids whose one-tick bid and ask lie on the grid: ``(floor(p / tick) + 0.5) * tick``, in place."""
    prices *= 1.0 / tick_size
    np.floor(prices, out=prices)
    prices += 0.5
    prices *= tick_size
    return prices


def msm_path(p: MsmParams, n_ticks: int, tick_ms: int, rng: np.random.Generator,
             chunk: int = 1 << 16) -> np.ndarray:
    """A mid-price path of ``n_ticks`` prices from ``s0`` (on the tick grid when ``tick_size`` is set)."""
    if n_ticks < 1:
        raise ValueError("a price path needs at least one tick")
    out = np.empty(n_ticks, dtype=np.float64)
    level, i = math.log(p.s0), 1
    out[0] = p.s0
    for r in msm_log_returns(p, n_ticks - 1, tick_ms, rng, chunk):
        seg = out[i:i + len(r)]
        np.cumsum(r, out=seg)
        seg += level
        level = seg[-1]
        np.exp(seg, out=seg)  # chunk by chunk, while the chunk is in the cache
        if p.tick_size:
            on_tick_grid(seg, p.tick_size)
        i += len(r)
    if p.tick_size:
        on_tick_grid(out[:1], p.tick_size)
    return out

