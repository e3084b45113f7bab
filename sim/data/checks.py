"""Checks on market data: each problem is reported with where it is; nothing is silently repaired.

Gaps are the one thing that may be filled, and only when the scenario asks (``gaps = "fill"``):
the filled stretches are counted and listed in the run's facts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sim.data.errors import MarketDataError


def _when(ms: int) -> str:
    return pd.to_datetime(int(ms), unit="ms", utc=True).isoformat()


def check_sorted(t: np.ndarray, what: str) -> None:
    if len(t) == 0:
        raise MarketDataError(f"no {what} in the file (or in the window asked for)")
    d = np.diff(t)
    if (d < 0).any():
        i = int(np.argmax(d < 0))
        raise MarketDataError(f"{what} out of time order at row {i + 1}: {_when(t[i])} then {_when(t[i + 1])}")


def check_bars(df: pd.DataFrame) -> int:
    """Problems refuse the file; returns the bar interval (ms), the most common step."""
    t = df["time_ms"].to_numpy()
    check_sorted(t, "candles")
    d = np.diff(t)
    if (d == 0).any():
        i = int(np.argmax(d == 0))
        raise MarketDataError(f"duplicate candle timestamp {_when(t[i])} (rows {i + 1} and {i + 2})")
    o, h, lo, c = (df[k].to_numpy() for k in ("open", "high", "low", "close"))
    bad = ~np.isfinite(o + h + lo + c) | (np.minimum.reduce([o, h, lo, c]) <= 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise MarketDataError(f"non-positive or missing price in the candle at {_when(t[i])} (row {i + 1})")
    for name, rows in (("high < low", h < lo), ("high below open or close", h < np.maximum(o, c)),
                       ("low above open or close", lo > np.minimum(o, c))):
        if rows.any():
            i = int(np.argmax(rows))
            raise MarketDataError(f"{name} in the candle at {_when(t[i])} (row {i + 1})")
    if len(t) < 2:
        raise MarketDataError("at least two candles are needed to know their interval")
    values, counts = np.unique(d, return_counts=True)
    interval = int(values[np.argmax(counts)])
    off = (t - t[0]) % interval != 0
    if off.any():  # filling gaps would drop such a candle, and the intrabar path would misplace it
        i = int(np.argmax(off))
        raise MarketDataError(f"candle at {_when(t[i])} (row {i + 1}) is off the file's grid (one candle "
                              f"every {interval} ms from {_when(t[0])}); a candle file needs one interval and "
                              "aligned open times")
    return interval


def bar_gaps(t: np.ndarray, interval: int) -> list[tuple[int, int]]:
    """(from, to) of each stretch with missing candles (from = last candle present)."""
    d = np.diff(t)
    idx = np.flatnonzero(d > interval)
    return [(int(t[i]), int(t[i + 1])) for i in idx]


def fill_bar_gaps(df: pd.DataFrame, interval: int, until: int | None = None) -> tuple[pd.DataFrame, int]:
    """Missing candles as flat candles at the previous close (only when the scenario asks).

    The candles must lie on one grid (`check_bars` refuses any that do not), so none is lost in
    the reindexing. The grid runs from the first candle to the last one, or to the last slot at or
    before ``until`` (ms) if that comes first; rows after it are dropped.
    """
    t = df["time_ms"].to_numpy()
    off = (t - t[0]) % interval != 0
    if off.any():  # a programming error upstream: check_bars refuses these with the row
        raise MarketDataError(f"candle at {_when(t[int(np.argmax(off))])} is off the {interval} ms grid")
    last = int(t[-1]) if until is None else min(int(t[-1]), int(until))
    full = np.arange(t[0], last + 1, interval, dtype=np.int64)
    if len(full) == len(t):
        return df, 0
    out = df.set_index("time_ms").reindex(full)
    missing = int(out["close"].isna().sum())
    close = out["close"].ffill()
    for k in ("open", "high", "low"):
        out[k] = out[k].fillna(close)
    out["close"] = close
    out["volume"] = out["volume"].fillna(0.0)
    return out.reset_index(names="time_ms"), missing


def check_trades(df: pd.DataFrame) -> None:
    """Problems refuse the file: unsorted times, impossible prices, negative or missing quantities,
    a trade id seen twice. Rows are counted in file order from 1 (the header not counted)."""
    t = df["time_ms"].to_numpy()
    check_sorted(t, "trades")
    p = df["price"].to_numpy(float)
    bad = ~np.isfinite(p) | (p <= 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise MarketDataError(f"non-positive or missing trade price at {_when(t[i])} (row {i + 1})")
    q = df["qty"].to_numpy(float) if "qty" in df else np.array([])
    if len(q) and np.isfinite(q).any():  # the file has quantities: all of them must be there and >= 0
        bad = ~np.isfinite(q) | (q < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise MarketDataError(f"negative or missing trade quantity {q[i]} at {_when(t[i])} (row {i + 1})")
    if "id" in df:
        ids = df["id"].reset_index(drop=True)
        ids = ids[ids.notna() & (ids.astype(str) != "")].astype(str)
        again = ids.duplicated(keep="first")
        if again.any():
            i = int(again.idxmax())
            j = int(ids.index[ids.eq(ids[i])][0])
            raise MarketDataError(f"trade id {ids[i]} appears twice: rows {j + 1} ({_when(t[j])}) and {i + 1} "
                                  f"({_when(t[i])}); a trade must be recorded once")


OUTLIER_BPS = 100.0  # a trade this far from the median of its neighbours is worth a warning
OUTLIER_NEIGHBOURS = 50  # trades either side in that median


def price_outliers(prices: np.ndarray, bps: float = OUTLIER_BPS,
                   neighbours: int = OUTLIER_NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Positions of trades more than ``bps`` from the rolling median of the ``neighbours`` trades either
    side, and those medians.

    Never repaired: a replay reports them (an insurance-fund or off-market print left in by a
    scenario that did not exclude its type moves the price the bot sees).
    """
    med = pd.Series(prices, dtype=float).rolling(2 * neighbours + 1, center=True, min_periods=1).median().to_numpy()
    idx = np.flatnonzero(np.abs(prices / med - 1.0) * 1e4 > bps) if len(prices) else np.array([], dtype=np.int64)
    return idx, med[idx]


def trade_gaps(t: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    d = np.diff(t)
    idx = np.flatnonzero(d > max_gap)
    return [(int(t[i]), int(t[i + 1])) for i in idx]
