"""A block bootstrap of real returns: the data's own tails and clusters, reshuffled.

Politis & Romano's stationary bootstrap: blocks of consecutive returns start at uniformly drawn
places in the data and last a geometric number of intervals (mean ``block``), so clustering inside
a block survives and the path never repeats the data verbatim. Returns at the data's interval are
spread over the ticks inside it by a Brownian bridge whose scale follows the recent returns (a
calm stretch stays calm between its samples), then the price is put on the tick grid.
"""
from __future__ import annotations

import math

import numpy as np

from sim.market.msm import on_tick_grid

_SMOOTH = 15  # intervals over which the within-interval volatility is averaged


def block_indices(n_data: int, count: int, mean_block: float, rng: np.random.Generator) -> np.ndarray:
    """``count`` indices into ``n_data`` returns, in blocks of geometric length (mean ``mean_block``)."""
    if n_data < 2:
        raise ValueError("a bootstrap needs at least two returns")
    lengths = rng.geometric(1.0 / max(mean_block, 1.0), size=count // max(int(mean_block), 1) + 8)
    while lengths.sum() < count:
        lengths = np.concatenate([lengths, rng.geometric(1.0 / max(mean_block, 1.0), size=len(lengths))])
    starts = rng.integers(0, n_data, len(lengths))
    block = np.repeat(np.arange(len(lengths)), lengths)[:count]
    offset = np.arange(count) - np.repeat(np.cumsum(lengths) - lengths, lengths)[:count]
    return (starts[block] + offset) % n_data


def bootstrap_path(returns: np.ndarray, interval_ms: int, s0: float, n_ticks: int, tick_ms: int,
                   mean_block: float, rng: np.random.Generator, tick_size: float | None = None,
                   chunk_intervals: int = 1 << 15) -> np.ndarray:
    """``n_ticks`` prices from ``s0``, built from bootstrapped data ``returns`` (log, one per interval)."""
    if interval_ms % tick_ms:
        raise ValueError(f"the data's interval ({interval_ms} ms) is not a multiple of the tick ({tick_ms} ms)")
    per = interval_ms // tick_ms
    returns = np.asarray(returns, dtype=np.float64)
    returns = returns - returns.mean()  # the data's drift is not the scenario's
    out = np.empty(n_ticks, dtype=np.float64)
    out[0] = math.log(s0)
    level, i = out[0], 1
    while i < n_ticks:
        k = min(chunk_intervals, -(-(n_ticks - i) // per))
        r = returns[block_indices(len(returns), k, mean_block, rng)]
        if per == 1:
            steps = r
        else:
            local = np.sqrt(np.convolve(r * r, np.ones(_SMOOTH) / _SMOOTH, mode="same") / per)
            z = rng.standard_normal((k, per))
            z -= z.mean(axis=1, keepdims=True)  # a bridge: the interval's steps add up to its return
            steps = (r[:, None] / per + local[:, None] * z).ravel()
        steps = steps[: n_ticks - i]
        seg = out[i:i + len(steps)]
        np.cumsum(steps, out=seg)
        seg += level
        level = seg[-1]
        i += len(steps)
    np.exp(out, out=out)
    if tick_size:
        on_tick_grid(out, tick_size)
    return out
