"""Thin what is drawn, never what is measured: a year of 1-second rows still reads as a line.

A screen is a couple of thousand pixels wide; drawing more points than that only slows the page.
`minmax_rows` keeps, per time bucket, the rows holding the lowest and the highest value (so every
spike and gap stays visible at any zoom of the full range); `step_rows` keeps only the rows where
a step series changes (positions move a few thousand times a year, not every second).
"""
from __future__ import annotations

import numpy as np

BUCKETS = 2000  # per series: about the width of a wide screen in pixels


def minmax_rows(ts_ms: np.ndarray, values: np.ndarray, buckets: int = BUCKETS) -> np.ndarray:
    """Sorted row indices: the first and last row, and per time bucket its min and max rows.

    Series of fewer than ``2 * buckets`` rows come back whole. NaN values are never chosen as
    an extreme but a bucket of only NaN keeps its first row (a gap stays a gap).
    """
    n = len(values)
    if n <= 2 * buckets:
        return np.arange(n)
    ts = np.asarray(ts_ms, dtype=np.int64)
    v = np.asarray(values, dtype=float)
    span = max(int(ts[-1] - ts[0]), 1)
    bucket = np.minimum((ts - ts[0]) * buckets // span, buckets - 1)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    lo = np.where(np.isnan(v), np.inf, v)
    hi = np.where(np.isnan(v), -np.inf, v)
    keep = [np.array([0, n - 1])]
    for filled in (lo, hi):
        pick = np.minimum.reduceat(filled, starts) if filled is lo else np.maximum.reduceat(filled, starts)
        ends = np.r_[starts[1:], n]
        # the first row in each bucket equal to its extreme
        hit = filled == np.repeat(pick, ends - starts)
        first = np.minimum.reduceat(np.where(hit, np.arange(n), n), starts)
        keep.append(first[first < n])
    return np.unique(np.concatenate(keep))


def step_rows(*series: np.ndarray) -> np.ndarray:
    """Sorted row indices where any of the step series changes, plus the first and last row."""
    n = len(series[0]) if series else 0
    if n == 0:
        return np.arange(0)
    changed = np.zeros(n, dtype=bool)
    changed[0] = changed[-1] = True
    for s in series:
        a = np.asarray(s, dtype=float)
        diff = a[1:] != a[:-1]
        diff &= ~(np.isnan(a[1:]) & np.isnan(a[:-1]))
        changed[1:] |= diff
    return np.flatnonzero(changed)


def step_envelope(ts_ms: np.ndarray, *series: np.ndarray, buckets: int = BUCKETS) -> np.ndarray:
    """`step_rows`, then, when more changes remain than a screen has pixels, each series' min and max per bucket.

    A position that flips forty thousand times in a year is drawn as its envelope at full zoom-out
    (every extreme kept); the table and the summary still hold every change.
    """
    rows = step_rows(*series)
    if len(rows) <= 2 * buckets:
        return rows
    keep = [rows[minmax_rows(np.asarray(ts_ms)[rows], np.asarray(s, dtype=float)[rows], buckets)] for s in series]
    return np.unique(np.concatenate(keep))


def ranks(n: int, points: int = BUCKETS) -> np.ndarray:
    """At most ``points`` evenly spaced indices into a sorted array of ``n`` (first and last kept): a CDF's shape."""
    if n <= points:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, points)).astype(np.int64))
