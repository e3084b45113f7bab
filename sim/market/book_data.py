"""Real order-book snapshots and the walk a market order makes through them.

The shipped file (`data/binance-btcusdt-perp/btcusdt_perp_depth_snapshots.csv.gz`) holds three
1,000-level REST snapshots of Binance USD-M BTCUSDT; the default book is fitted to the average
cost of walking them, and tested against it.
"""
from __future__ import annotations

from collections.abc import Callable
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


def depth_log_ratios(snapshots: list[Snapshot], reach: Callable[[float, float], float],
                     distances_bps: tuple[float, ...] = (1.0, 5.0, 10.0)) -> np.ndarray:
    """Per side of each snapshot (bids then asks), the mean over ``distances_bps`` of log(real depth within
    the distance / the model's), ``reach(mid, distance_bps)`` giving the model's one-side depth.

    Their spread is how much one side's depth differs from the ladder at a random instant: the log-sd
    of the per-side depth factor of ``[liquidity] side_depth_sd``."""
    out = []
    for s in snapshots:
        for levels in (s.bids, s.asks):
            dist = np.abs(levels[:, 0] / s.mid - 1.0) * 1e4
            out.append(np.mean([np.log(levels[dist <= d + 1e-9, 1].sum() / reach(s.mid, d)) for d in distances_bps]))
    return np.array(out)
