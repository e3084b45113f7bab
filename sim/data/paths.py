"""Turning candles or trades into the tick path the venue runs on.

Candles -> ticks: a seeded Brownian bridge inside each bar from open to close, rescaled so that it
touches exactly the bar's high and low and never leaves them. Which of high and low comes first
(so whether a TP or an SL inside one bar fires first) is decided by the bridge's own draw, not a
fixed rule. ``linear`` (open -> extreme -> extreme -> close, straight lines) is the deterministic
alternative.

Trades -> ticks: the last trade price on a fixed grid (no trade in a step: the price stands).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

INTRABAR_MODELS = ("brownian_bridge", "linear")


def bars_to_ticks(bars: pd.DataFrame, interval_ms: int, resolution_ms: int, rng: np.random.Generator,
                  model: str = "brownian_bridge") -> np.ndarray:
    """One price per ``resolution_ms`` for every bar (``interval_ms / resolution_ms`` per bar)."""
    if interval_ms % resolution_ms:
        raise ValueError(f"the candle interval {interval_ms} ms is not a multiple of the resolution "
                         f"{resolution_ms} ms")
    per = interval_ms // resolution_ms
    o, h, lo, c = (bars[k].to_numpy(float)[:, None] for k in ("open", "high", "low", "close"))
    n = len(bars)
    if per == 1:
        return c.ravel().copy()
    k = np.arange(per, dtype=float)[None, :] / (per - 1)
    if model == "linear":
        up_first = (c >= o).ravel()  # an up bar visits its low first (open -> low -> high -> close)
        first = np.where(up_first[:, None], lo, h)
        second = np.where(up_first[:, None], h, lo)
        x = np.array([0.0, 1 / 3, 2 / 3, 1.0])
        out = np.empty((n, per))
        for i in range(n):
            out[i] = np.interp(k[0], x, [o[i, 0], first[i, 0], second[i, 0], c[i, 0]])
        return out.ravel()
    steps = rng.standard_normal((n, per - 1))
    walk = np.concatenate([np.zeros((n, 1)), np.cumsum(steps, axis=1)], axis=1)
    bridge = walk - k * walk[:, -1:]  # zero at both ends
    bmax, bmin = bridge.max(axis=1, keepdims=True), bridge.min(axis=1, keepdims=True)
    # scale the bridge's excursions so the path reaches high and low; where it cannot (an extreme
    # at an end point), the clip below keeps it inside and the extremes are then set exactly
    drift = o + (c - o) * k
    up_room = np.maximum(h - drift.max(axis=1, keepdims=True), 0.0)
    down_room = np.maximum(drift.min(axis=1, keepdims=True) - lo, 0.0)
    scale_up = np.divide(up_room, bmax, out=np.zeros_like(up_room), where=bmax > 0)
    scale_down = np.divide(down_room, -bmin, out=np.zeros_like(down_room), where=bmin < 0)
    path = drift + np.where(bridge > 0, bridge * scale_up, bridge * scale_down)
    np.clip(path, lo, h, out=path)
    rows = np.arange(n)
    path[rows, np.argmax(path, axis=1)] = h.ravel()
    path[rows, np.argmin(path, axis=1)] = lo.ravel()
    path[:, 0], path[:, -1] = o.ravel(), c.ravel()
    # an extreme overwritten by the open or close: put it back at the nearest interior tick
    if per > 2:
        for target, reduce, pick in ((h.ravel(), np.max, np.argmax), (lo.ravel(), np.min, np.argmin)):
            missing = ~np.isclose(reduce(path, axis=1), target)
            if missing.any():
                idx = pick(path[missing, 1:-1], axis=1) + 1
                path[np.flatnonzero(missing), idx] = target[missing]
    return path.ravel()


def trades_to_ticks(trades: pd.DataFrame, start_ms: int, n_ticks: int, resolution_ms: int) -> np.ndarray:
    """The last trade price at each grid time ``start_ms + i * resolution_ms`` (the first trade before the first)."""
    t = trades["time_ms"].to_numpy()
    p = trades["price"].to_numpy(float)
    grid = start_ms + np.arange(n_ticks, dtype=np.int64) * resolution_ms
    idx = np.searchsorted(t, grid, side="right") - 1
    return p[np.maximum(idx, 0)]
