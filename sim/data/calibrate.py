"""Calibrate the venue's liquidity from real trades.

A market order on a real venue prints as several trades with the same timestamp and aggressor
side, one per price level it took. Each such sweep tells how far an order of that size walked
the book: ``walk = |last price - first price| / first price`` in bps. Binned by size on a log
scale, the mean walk against size is the real impact curve; its log-log slope is the impact
exponent (the square-root law says about 0.5).

The simulated ladder (level ``k`` at ``half_spread + k * step`` bps holding ``level0 * (2k + 1)``)
walks ``step * n`` bps for an order that consumes ``n`` whole levels, ``n ~ sqrt(q / level0)``.
With the step set to the instrument's tick (in bps), ``level0`` is chosen so the ladder's walk
matches the real curve in least squares over the sizes the data covers. The spread comes from
consecutive trades of opposite aggressor sides (the bid-ask bounce).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.world.liquidity import DepthProfile


@dataclass(frozen=True)
class Calibration:
    spread_bps: float
    level_step_bps: float
    level0_qty: float
    levels: int
    depth_exponent: float
    exponent: float  # fitted on the real sweeps (free exponent)
    sweeps: int
    curve: pd.DataFrame  # per size bin: size, real walk (bps), model walk (bps), sweeps

    def toml(self) -> str:
        return (f"[liquidity]\n# calibrated from {self.sweeps:,} real sweeps; impact exponent {self.exponent:.2f}\n"
                f"spread_bps = {self.spread_bps:.4g}\nlevel_step_bps = {self.level_step_bps:.4g}\n"
                f"level0_qty = {self.level0_qty:.4g}\nlevels = {self.levels}\n"
                f"depth_exponent = {self.depth_exponent:.3g}\n")

    def profile(self) -> DepthProfile:
        return DepthProfile(self.spread_bps, self.level_step_bps, self.level0_qty, self.levels, self.depth_exponent)


def sweeps(trades: pd.DataFrame) -> pd.DataFrame:
    """One row per aggressive order: trades sharing a timestamp and an aggressor side, in a row."""
    t = trades["time_ms"].to_numpy()
    side = trades["side"].to_numpy()
    new = np.ones(len(trades), dtype=bool)
    new[1:] = (t[1:] != t[:-1]) | (side[1:] != side[:-1])
    group = np.cumsum(new)
    g = trades.assign(group=group).groupby("group", sort=False)
    out = pd.DataFrame({"time_ms": g["time_ms"].first(), "side": g["side"].first(), "qty": g["qty"].sum(),
                        "first": g["price"].first(), "last": g["price"].last(), "fills": g["price"].size()})
    out["walk_bps"] = (out["last"] - out["first"]).abs() / out["first"] * 1e4
    return out.reset_index(drop=True)


def bounce_spread_bps(trades: pd.DataFrame, within_ms: int = 1_000) -> float:
    """Median price change between consecutive trades of opposite aggressor sides close in time."""
    p, t, s = trades["price"].to_numpy(float), trades["time_ms"].to_numpy(), trades["side"].to_numpy()
    flip = (s[1:] != s[:-1]) & (np.diff(t) <= within_ms)
    moves = np.abs(np.diff(p))[flip] / p[1:][flip] * 1e4
    moves = moves[moves > 0]
    return float(np.median(moves)) if len(moves) else 0.0


def _model_walk(profile: DepthProfile, sizes: np.ndarray, mid: float) -> np.ndarray:
    h = 0.5 * profile.spread_bps
    return np.array([(profile.walk(True, float(q), mid).worst_price / mid - 1) * 1e4 - h for q in sizes])


def calibrate(trades: pd.DataFrame, tick_size: float, bins: int = 12, min_sweeps: int = 20) -> Calibration:
    sw = sweeps(trades)
    sw = sw[sw["qty"] > 0]
    mid = float(trades["price"].median())
    step = tick_size / mid * 1e4
    spread = max(bounce_spread_bps(trades), step)
    edges = np.geomspace(sw["qty"].min(), sw["qty"].max() * 1.0001, bins + 1)
    sw = sw.assign(bin=np.digitize(sw["qty"], edges) - 1)
    curve = sw.groupby("bin").agg(size=("qty", "median"), real_walk_bps=("walk_bps", "mean"),
                                  sweeps=("qty", "size"))
    # bins too thin to measure, or whose orders almost never leave the touch, say nothing about depth
    curve = curve[(curve["sweeps"] >= min_sweeps) & (curve["real_walk_bps"] >= 0.1 * step)].reset_index(drop=True)
    if len(curve) < 3:
        raise ValueError("too few sweeps with a price walk to fit an impact curve (need 3 size bins of "
                         f"{min_sweeps}+ sweeps); give more trades")
    x, y = np.log(curve["size"].to_numpy()), np.log(curve["real_walk_bps"].to_numpy())
    exponent = float(np.polyfit(x, y, 1)[0])
    # The ladder's mean walk, over the random place in the touch level an order starts from, is
    # step * (q / level0) ** (1 / g): a power law. So the real curve's log-log fit gives g = 1 / slope
    # and level0 from the intercept (step fixed at the tick).
    slope, intercept = np.polyfit(x, y, 1)
    g = float(np.clip(1.0 / slope, 1.0, 4.0))
    l0 = float(np.exp((math.log(step) - intercept) * g))
    best = (l0, g)
    sizes = curve["size"].to_numpy()
    l0, g = best
    levels = int(math.ceil((2 * sw["qty"].max() / l0) ** (1 / g))) + 1
    prof = DepthProfile(spread, step, l0, levels, g)
    curve["model_walk_bps"] = _model_walk(prof, sizes, mid)
    curve["model_mean_walk_bps"] = step * (sizes / l0) ** (1 / g)
    return Calibration(spread, step, l0, levels, g, exponent, len(sw), curve)


def plot(cal: Calibration, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = cal.curve
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.loglog(c["size"], c["real_walk_bps"], "o", label=f"real sweeps, binned mean (n={cal.sweeps:,})")
    q = np.geomspace(c["size"].min(), c["size"].max(), 60)
    mid = 1.0
    ax.loglog(q, cal.level_step_bps * (q / cal.level0_qty) ** (1 / cal.depth_exponent), "-",
              label="calibrated venue: mean walk of its ladder")
    walk = _model_walk(cal.profile(), q, mid)
    keep = walk > 1e-9
    ax.loglog(q[keep], walk[keep], drawstyle="steps-post", lw=0.8, alpha=0.6,
              label="calibrated venue: one order from an empty touch")
    a = math.exp(np.polyfit(np.log(c["size"]), np.log(c["real_walk_bps"]), 1)[1])
    ax.loglog(q, a * q ** cal.exponent, ":", color="grey", label=f"power-law fit, exponent {cal.exponent:.2f}")
    ax.set_xlabel("aggressive order size (base units)")
    ax.set_ylabel("price walked through the book (bps)")
    ax.set_title("Impact vs size: real trades and the calibrated venue")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
