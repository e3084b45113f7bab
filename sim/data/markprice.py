"""A recorded mark-price stream (Binance ``markPrice@1s``): mark, index and funding, on the run's grid.

Columns (as `data/binance-btcusdt-perp/btcusdt_perp_markprice.csv` has them): ``event_time_ms``,
``mark_price``, ``index_price``, ``funding_rate`` (the rate for the settlement at
``next_funding_time_ms``). A replay uses them as the venue's mark and index and as the rate it
settles, instead of inventing them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.errors import MarketDataError

COLUMNS = ("event_time_ms", "mark_price", "index_price", "funding_rate", "next_funding_time_ms")


@dataclass(frozen=True)
class MarkStream:
    time_ms: np.ndarray
    mark: np.ndarray
    index: np.ndarray
    funding_rate: np.ndarray
    next_funding_ms: np.ndarray

    def on_grid(self, values: np.ndarray, start_ms: int, n: int, step_ms: int) -> tuple[np.ndarray, int]:
        """``values`` at each grid time (the last row at or before it) and how many leading ticks have none."""
        grid = start_ms + np.arange(n, dtype=np.int64) * step_ms
        idx = np.searchsorted(self.time_ms, grid, side="right") - 1
        return values[np.maximum(idx, 0)], int((idx < 0).sum())

    def rate_for(self, settle_ms: int) -> float | None:
        """The recorded rate settled at ``settle_ms`` (the stream's last value for that funding time: the
        estimate converges to the settled rate), None if not recorded."""
        hit = self.next_funding_ms == settle_ms
        return float(self.funding_rate[hit][-1]) if hit.any() else None


def load_mark_stream(path: str | Path) -> MarkStream:
    p = Path(path)
    try:
        df = pd.read_csv(p)
    except (OSError, ValueError) as exc:
        raise MarketDataError(f"{p}: cannot be read as a mark-price CSV: {exc}") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise MarketDataError(f"{p}: a mark-price file needs the columns {', '.join(COLUMNS)}; missing "
                              f"{', '.join(missing)}")
    df = df.sort_values("event_time_ms", kind="stable")
    return MarkStream(*(df[c].to_numpy(np.int64 if c.endswith("_ms") else float) for c in COLUMNS))
