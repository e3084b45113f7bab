"""A scenario's replay market: read, check, slice to the run's window, and turn into a tick path.

Cached by file, modification time and settings, so validating a scenario and running it read the
file once. The facts (rows, window, time unit, gaps filled, trades excluded, intrabar model) go
into the run's summary so a report can say what was replayed and how; counts of excluded trades
and of price outliers are those inside the run's window (``excluded_in_file`` is the file's), and
``warnings`` says what the scenario may want to look at (outliers left in, an exclusion that could
not apply).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.checks import (
    OUTLIER_BPS,
    OUTLIER_NEIGHBOURS,
    bar_gaps,
    check_bars,
    check_trades,
    fill_bar_gaps,
    price_outliers,
    trade_gaps,
)
from sim.data.errors import MarketDataError
from sim.data.formats import excluded_mask, load_bars, read_trades


@dataclass(frozen=True)
class ReplaySpec:
    file: str
    kind: str  # "ohlcv" | "trades"
    format: str
    columns: tuple[tuple[str, str], ...]
    time_unit: str
    gaps: str  # "error" | "fill"
    max_gap_ms: int
    exclude_types: tuple[str, ...]


@dataclass(frozen=True)
class ReplayData:
    table: pd.DataFrame
    interval_ms: int | None  # candles only
    first_ms: int
    last_ms: int
    facts: dict
    excluded_ms: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))  # trades left out
    outliers: pd.DataFrame | None = None  # trades: time_ms, price, median, bps of the price outliers kept


def _when(ms: int) -> str:
    return pd.to_datetime(int(ms), unit="ms", utc=True).isoformat()


@lru_cache(maxsize=8)
def _load(spec: ReplaySpec, mtime: float) -> ReplayData:
    cols = dict(spec.columns)
    if spec.kind == "ohlcv":
        df, facts = load_bars(spec.file, spec.format, cols, spec.time_unit)
        interval = check_bars(df)
        facts["interval_ms"] = interval
        last = int(df["time_ms"].iloc[-1]) + interval
        return ReplayData(df, interval, int(df["time_ms"].iloc[0]), last, facts)
    df, facts = read_trades(spec.file, spec.format, cols, spec.time_unit)
    check_trades(df)  # every row, the excluded ones too: row numbers are the file's
    mask = excluded_mask(df, spec.exclude_types)
    kept = df[~mask].reset_index(drop=True)
    if kept.empty:
        raise MarketDataError(f"no trades left after excluding {list(spec.exclude_types)}")
    excluded_ms = df["time_ms"].to_numpy()[mask]
    facts = dict(facts, rows=len(kept), excluded=int(mask.sum()), excluded_in_file=int(mask.sum()),
                 excluded_types=list(spec.exclude_types))
    p = kept["price"].to_numpy(float)
    idx, med = price_outliers(p)
    outliers = pd.DataFrame({"time_ms": kept["time_ms"].to_numpy()[idx], "price": p[idx], "median": med})
    outliers["bps"] = (outliers["price"] / outliers["median"] - 1.0) * 1e4
    return ReplayData(kept, None, int(kept["time_ms"].iloc[0]), int(kept["time_ms"].iloc[-1]), facts,
                      excluded_ms, outliers)


def _quirks(spec: ReplaySpec, data: ReplayData, start: int, end: int) -> dict:
    """Trade quirks inside the window: excluded trades counted, outliers left in warned about."""
    if data.interval_ms is not None:
        return {}
    facts: dict = {"excluded": int(((data.excluded_ms >= start) & (data.excluded_ms <= end)).sum())}
    warnings = []
    if spec.exclude_types and not data.facts.get("has_types"):
        warnings.append(f"market.exclude_trade_types = {list(spec.exclude_types)}, but the file has no trade-type "
                        "column (map one with columns = { type = \"...\" }): nothing was excluded")
    out = data.outliers
    if out is not None:
        out = out[(out["time_ms"] >= start) & (out["time_ms"] <= end)]
        facts["price_outliers"] = len(out)
        if len(out):
            first = "; ".join(f"{_when(r.time_ms)} at {r.price:g} ({r.bps:+.0f} bps)"
                              for r in out.head(3).itertuples())
            warnings.append(f"{len(out)} trade(s) more than {OUTLIER_BPS:g} bps from the median of the "
                            f"{2 * OUTLIER_NEIGHBOURS} trades around them, replayed as they are: {first}; if they are "
                            "off-market prints, leave their type out (market.exclude_trade_types)")
    if warnings:
        facts["warnings"] = warnings
    return facts


MAX_LISTED = 10  # gap stretches listed in the facts (all are counted)


def _gaps(spec: ReplaySpec, data: ReplayData, table: pd.DataFrame, start: int,
          end: int) -> tuple[pd.DataFrame, dict]:
    """Gaps inside the replayed window: refused, or filled (counted and listed) when the scenario asks.

    ``table`` may hold one row past ``end`` (the next candle or trade), so that a gap running over
    the end of the window is seen; only the part of a stretch inside [start, end] counts.
    """
    t = table["time_ms"].to_numpy()
    if data.interval_ms is not None:
        iv = data.interval_ms
        # (last candle present, next candle present); a gap matters if its first missing candle is needed
        gaps = [(a, b) for a, b in bar_gaps(t, iv) if a + iv <= end]
        what = "gap(s) in the candles"
        fix = "replay them as flat candles at the previous close"
        stretches = [[_when(a + iv), _when(b - iv)] for a, b in gaps]  # the missing candles, first to last
    else:
        gaps = [(a, b) for a, b in trade_gaps(t, spec.max_gap_ms) if min(b, end) - max(a, start) > spec.max_gap_ms]
        what = "stretch(es) without trades longer than market.max_gap"
        fix = "hold the last price across them"
        stretches = [[_when(a), _when(b)] for a, b in gaps]  # last trade before, first trade after
    facts: dict = {"gaps": len(gaps)}
    if gaps and spec.gaps != "fill":
        a, b = gaps[0]
        raise MarketDataError(f"{len(gaps)} {what}, the first from {_when(a)} to {_when(b)}; pick another window, or "
                              f"set market.gaps = \"fill\" to {fix} (reported in the run's summary)")
    if gaps:
        facts["gap_stretches"] = stretches[:MAX_LISTED]
    if gaps and data.interval_ms is not None:
        table, facts["candles_filled"] = fill_bar_gaps(table, data.interval_ms, until=end)
    return table, facts


def load_replay(spec: ReplaySpec, window: tuple[int, int] | None = None) -> ReplayData:
    """The data of a replay (checked; restricted to ``window`` = (start, end) ms when given).

    For candles the table starts with the candle *containing* ``start`` (which may begin before
    it) and ends with the candle containing ``end``, so every tick of the run has a candle; for
    trades it starts with the last trade at or before ``start``. Any missing candle or quiet
    stretch inside the window is refused (or filled on request): the path is never padded.
    """
    p = Path(spec.file)
    if not p.is_file():
        raise MarketDataError(f"file not found: {p}")
    data = _load(spec, p.stat().st_mtime)
    if window is None:
        return data
    start, end = window
    if start < data.first_ms or end > data.last_ms:
        raise MarketDataError(f"the data covers {_when(data.first_ms)} to {_when(data.last_ms)}; the scenario needs "
                              f"{_when(start)} to {_when(end)} (check scenario.start and scenario.duration)")
    t = data.table["time_ms"].to_numpy()
    lo = int(np.searchsorted(t, start, side="right")) - 1  # the candle containing start / the last trade at or before
    hi = int(np.searchsorted(t, end, side="right"))  # rows at or before end
    table = data.table.iloc[lo:min(hi + 1, len(t))].reset_index(drop=True)  # + the next row, to see a gap at the end
    table, gap_facts = _gaps(spec, data, table, start, end)
    table = table[table["time_ms"].to_numpy() <= end].reset_index(drop=True)
    facts = dict(data.facts, **gap_facts, **_quirks(spec, data, start, end), window=[_when(start), _when(end)])
    facts.pop("has_types", None)
    return ReplayData(table, data.interval_ms, start, end, facts)
