"""Real order-book snapshots and the walk a market order makes through them.

The shipped file (`data/binance-btcusdt-perp/btcusdt_perp_depth_snapshots.csv.gz`) holds three
1,000-level REST snapshots of Binance USD-M BTCUSDT; the default book is fitted to the average
cost of walking them, and tested against it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Snapshot:
    name: str
    bids: np.ndarray  # [[price, qty], ...] best first
    asks: np.ndarray

    @property
    def mid(self) -> float:
        return 0.5 * (float(self.bids[0, 0]) + float(self.asks[0, 0]))


def load_snapshots(path: str | Path) -> list[Snapshot]:
    df = pd.read_csv(path)
    out = []
    for name, g in df.groupby("file", sort=False):
        side = {s: g.loc[g["side"] == s, ["price", "qty"]].to_numpy(float) for s in ("bid", "ask")}
        out.append(Snapshot(str(name), side["bid"], side["ask"]))
    return out


def walk_cost_bps(levels: np.ndarray, qty: float, mid: float) -> float:
    """Average fill price of ``qty`` walking ``levels`` (best first), in bps away from ``mid``."""
    cum = np.cumsum(levels[:, 1])
    k = min(int(np.searchsorted(cum, qty)), len(levels) - 1)
    take = levels[: k + 1, 1].copy()
    take[-1] -= max(cum[k] - qty, 0.0)
    avg = float((levels[: k + 1, 0] * take).sum() / take.sum())
    return abs(avg / mid - 1.0) * 1e4
