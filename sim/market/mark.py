"""Index, mark and funding as Binance USD-M computes them, around a perpetual's mid path.

Index: the spot index the perpetual is tied to, ``mid * (1 - basis - noise)``, where the basis (the
perp's premium over the index, as a share of the mid) follows an Ornstein-Uhlenbeck process in bps,
drawn on a coarse grid and interpolated (it moves over minutes and hours; BTCUSDT's was -4.5 bps in
the recorded window),
and the noise is the index's own second-to-second wobble (a basket of spot venues), sized so that
mark - last spreads as on the recorded BTCUSDT window (p5 to p95 about 1.1 bps).

Mark: Binance's median of three prices, updated each second [Binance FAQ "mark price"]:
``price1 = index * (1 + last funding rate * time to next funding / interval)``,
``price2 = index + 30-second moving average of (mid - index)``, and the last traded price
(`binance_mark`). In a replay with a recorded mark-price stream the recorded mark and index are
used instead.

Funding: ``F = P + clamp(I - P, -0.05 %, +0.05 %)`` per 8 hours, with ``P`` the time-weighted
average premium index over the interval (later samples weigh more, as Binance weights them 1..n)
and ``I`` the interest rate (0.01 % per 8 h), capped at +-``cap``; for other intervals the 8-hour
figures are scaled by interval / 8 h. With a one-tick book the impact bid and ask are the touch,
so the premium index is the basis.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EIGHT_HOURS_MS = 8 * 3_600_000
_BASIS_STEP_MS = 60_000  # grid of the basis process
_MA_MS = 30_000  # the mark's moving average of (mid - index)
_CHUNK = 1 << 20
_MARK_CHUNK = 1 << 16  # ticks per pass of the mark: temporaries that stay in the cache
_NOISE = 1 << 20


@dataclass(frozen=True, slots=True)
class IndexParams:
    """The basis process (bps of the index) and the funding rules."""

    basis_mean_bps: float = 0.0
    basis_sd_bps: float = 3.0
    basis_halflife_ms: int = 3_600_000
    index_noise_bps: float = 0.35  # second-to-second noise of the index against the perp (a basket of spot venues)
    interest: float = 0.0001  # per 8 hours
    clamp: float = 0.0005  # per 8 hours
    cap: float = 0.003  # the rate's cap and floor (BTCUSDT: 0.75 x the 0.4 % maintenance margin rate)
    interval_ms: int = EIGHT_HOURS_MS


def funding_rate(premium: float, p: IndexParams) -> float:
    """Binance's funding rate for an interval whose average premium index is ``premium``."""
    k = p.interval_ms / EIGHT_HOURS_MS
    interest, clamp = p.interest * k, p.clamp * k
    rate = premium + min(max(interest - premium, -clamp), clamp)
    return min(max(rate, -p.cap), p.cap)


def basis_grid(p: IndexParams, horizon_ms: int, rng: np.random.Generator) -> np.ndarray:
    """The basis (fraction) every `_BASIS_STEP_MS` from 0 to past ``horizon_ms``, stationary from the start."""
    n = horizon_ms // _BASIS_STEP_MS + 2
    phi = 0.5 ** (_BASIS_STEP_MS / p.basis_halflife_ms)
    shock = p.basis_sd_bps * math.sqrt(1 - phi * phi)
    x = np.empty(n)
    x[0] = p.basis_sd_bps * rng.standard_normal()
    e = rng.standard_normal(n - 1) * shock
    # AR(1) in vectorised stretches: x_k = phi^k x_0 + phi^k sum_j e_j / phi^j, stretches short enough that
    # phi^k stays far from underflow
    step = int(min(_CHUNK, max(1, 250 / -math.log10(phi)))) if 0 < phi < 1 else _CHUNK
    for a in range(1, n, step):
        b = min(a + step, n)
        powers = phi ** np.arange(1, b - a + 1)
        x[a:b] = (x[a - 1] + np.cumsum(e[a - 1:b - 1] / powers)) * powers
    return (p.basis_mean_bps + x) * 1e-4


class MarkModel:
    """Index and the funding rate of each interval for one synthetic path (``t0_ms`` at tick 0).

    The venue's mark on a synthetic path is its mid: with a one-tick book, Binance's median of
    (index-based price1, index + averaged basis, last) lands within half a tick of the mid whenever
    the basis moves over minutes, as it does here (tested in `tests/market/test_mark.py`).
    """

    def __init__(self, p: IndexParams, t0_ms: int, tick_ms: int, n_ticks: int, rng: np.random.Generator) -> None:
        self.p, self.t0_ms, self.tick_ms, self.n = p, t0_ms, tick_ms, n_ticks
        self.basis = basis_grid(p, n_ticks * tick_ms, rng)
        # per-tick index noise read from a table of 2^20 draws (a period of 12 days at 1 s; no draw per tick)
        self._noise = rng.standard_normal(_NOISE) * (p.index_noise_bps * 1e-4)
        self._rates: dict[int, float] = {}

    def basis_at(self, i: np.ndarray | int) -> np.ndarray:
        """The basis at tick ``i`` (linear between the grid points)."""
        i = np.asarray(i)
        per = _BASIS_STEP_MS // self.tick_ms
        if i.ndim == 1 and len(i) > 2 * per and _BASIS_STEP_MS % self.tick_ms == 0 and np.all(np.diff(i[:2]) == 1):
            return self._basis_run(int(i[0]), len(i), per)
        x = i.astype(np.float64) * (self.tick_ms / _BASIS_STEP_MS)
        k = np.minimum(x.astype(np.int64), len(self.basis) - 2)
        w = x - k
        return self.basis[k] * (1 - w) + self.basis[k + 1] * w

    def _basis_run(self, a: int, m: int, per: int) -> np.ndarray:
        """The basis at ticks a..a+m-1 (consecutive), by whole grid steps (a few passes, no search)."""
        k0, k1 = a // per, (a + m - 1) // per + 1
        w = np.arange(per, dtype=np.float64) / per
        lo, hi = self.basis[k0:k1], self.basis[k0 + 1:k1 + 1]
        grid = lo[:, None] + (hi - lo)[:, None] * w[None, :]
        return grid.ravel()[a - k0 * per: a - k0 * per + m]

    def noise(self, a: int, b: int) -> np.ndarray:
        """The index's own noise (fraction) at ticks a..b-1."""
        out = np.empty(b - a)
        i = a
        while i < b:  # whole runs of the table, no index arrays
            k = i % _NOISE
            n = min(_NOISE - k, b - i)
            out[i - a:i - a + n] = self._noise[k:k + n]
            i += n
        return out

    def premium(self, start_ms: int, end_ms: int) -> float:
        """Binance's time-weighted average premium over [start, end): samples a minute apart, weights 1..n."""
        t = np.arange(max(start_ms, self.t0_ms), end_ms, _BASIS_STEP_MS)
        if len(t) == 0:
            return float(self.basis_at(0))
        b = self.basis_at((t - self.t0_ms) // self.tick_ms)
        w = np.arange(1, len(b) + 1)
        return float((b * w).sum() / w.sum())

    def rate_for(self, settle_ms: int) -> float:
        """The funding rate settled at ``settle_ms`` (from the premium over the interval before it)."""
        if settle_ms not in self._rates:
            self._rates[settle_ms] = funding_rate(self.premium(settle_ms - self.p.interval_ms, settle_ms), self.p)
        return self._rates[settle_ms]

    def index(self, mid: np.ndarray, a: int = 0) -> np.ndarray:
        """Index prices of ticks ``a .. a + len(mid)``."""
        return mid * (1.0 - self.basis_at(np.arange(a, a + len(mid))) - self.noise(a, a + len(mid)))



class BinanceMark:
    """The mark of a synthetic path by Binance's median formula, one price on demand (a ticker, the
    margin check) or the whole series (built in chunks on first use, when a trigger or the
    liquidation search watches the mark)."""

    def __init__(self, model: MarkModel, mid: np.ndarray, last) -> None:
        self.model, self.mid, self.last = model, mid, last  # last: has ``series_slice(a, b)`` (`TickLast`)
        self._per = max(_MA_MS // model.tick_ms, 1)

    def _block(self, a: int, b: int) -> np.ndarray:
        """The mark at ticks a..b-1 (reads the 30 s before ``a`` for the moving average)."""
        mm, per = self.model, self._per
        lo = max(a - per, 0)
        mid = self.mid[lo:b]
        d = mm.basis_at(np.arange(lo, b))
        d += mm.noise(lo, b)
        d *= mid  # mid - index (the basis as a share of the mid)
        c = np.empty(len(d) + 1)
        c[0] = 0.0
        np.cumsum(d, out=c[1:])
        k = a - lo
        if k == per:  # a full window behind every tick: plain slices
            ma = c[per + 1:] - c[1:-per]
            ma /= per
        else:
            j = np.arange(k + 1, b - lo + 1)
            start = np.maximum(j - per, 0)
            ma = (c[j] - c[start]) / (j - start)
        index = mid[k:] - d[k:]
        p2 = ma
        p2 += index
        iv, tick, t0 = mm.p.interval_ms, mm.tick_ms, mm.t0_ms + a * mm.tick_ms
        p1 = np.empty(b - a)  # index * (1 + last rate * share of the interval left), settlement by settlement
        i = 0
        while i < b - a:
            t = t0 + i * tick
            settle = (t // iv + 1) * iv
            n = min(-(-(settle - t) // tick), b - a - i)
            rate = mm.rate_for(settle - iv) if settle - iv > mm.t0_ms else mm.p.interest
            first = 1.0 + rate * (settle - t) / iv
            np.multiply(index[i:i + n], np.linspace(first, first - rate * tick * (n - 1) / iv, n), out=p1[i:i + n])
            i += n
        last = self.last.series_slice(a, b)
        lo_, hi_ = np.minimum(p1, p2), np.maximum(p1, p2, out=p1)
        np.minimum(hi_, last, out=last)
        return np.maximum(lo_, last, out=lo_)

    def at(self, i: int) -> float:
        return float(self._block(i, i + 1)[0])

    def series(self) -> np.ndarray:
        out = np.empty_like(self.mid)
        for a in range(0, len(out), _MARK_CHUNK):
            out[a:a + _MARK_CHUNK] = self._block(a, min(a + _MARK_CHUNK, len(out)))
        return out
