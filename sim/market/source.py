"""Log-returns of a data file at its own interval: what the bootstrap resamples and the fit matches.

Candles give close-to-close returns at the candle interval; trades give the last trade price on a
grid (``step_ms``, a second by default). Returns across a hole in the data (a missing candle, or a
stretch without trades longer than ``max_gap_ms``) are left out, never bridged: a month-long gap
between two recorded windows is not one giant return.
"""
from __future__ import annotations

import numpy as np

from sim.data.replay import ReplayData


def data_prices(data: ReplayData, step_ms: int = 1000, max_gap_ms: int = 60_000) -> list[np.ndarray]:
    """The data's contiguous stretches as regular price series (candle closes, or trades on a grid)."""
    t = data.table["time_ms"].to_numpy()
    if data.interval_ms is not None:
        p = data.table["close"].to_numpy(float)
        cuts = np.flatnonzero(np.diff(t) != data.interval_ms) + 1
        return [s for s in np.split(p, cuts) if len(s) > 1]
    p = data.table["price"].to_numpy(float)
    cuts = np.flatnonzero(np.diff(t) > max_gap_ms) + 1
    out = []
    for ts, ps in zip(np.split(t, cuts), np.split(p, cuts), strict=True):
        grid = np.arange(ts[0], ts[-1] + 1, step_ms)
        if len(grid) > 1:
            out.append(ps[np.searchsorted(ts, grid, side="right") - 1])
    return out


def data_step_ms(data: ReplayData, step_ms: int = 1000) -> int:
    """The interval of the series `data_prices` returns."""
    return data.interval_ms if data.interval_ms is not None else step_ms


def data_returns(data: ReplayData, step_ms: int = 1000, max_gap_ms: int = 60_000) -> np.ndarray:
    """Log-returns inside the data's contiguous stretches, concatenated."""
    parts = [np.diff(np.log(s)) for s in data_prices(data, step_ms, max_gap_ms)]
    if not parts:
        raise ValueError("the data has no two consecutive prices to take a return from")
    return np.concatenate(parts)
