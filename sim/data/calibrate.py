"""Calibrate the venue's liquidity from real trades.

A market order on a real venue prints as several trades with the same timestamp and aggressor
side, one per price level it took. Each such sweep tells how far an order of that size walked
the book: ``walk = |last price - first price| / first price`` in bps. Binned by size on a log
scale, the mean walk against size is the real impact curve; its log-log slope is the impact
exponent (the square-root law says about 0.5).

The simulated ladder (level ``k`` at ``half_spread + k * step`` bps, the first ``k`` levels holding
``level0 * k ** depth_exponent``) walks ``step * n`` bps for an order that takes ``n`` whole levels
and part of the next. With the step set to the instrument's tick (in bps), ``level0`` and the
depth exponent are chosen so that the venue's own walk (`DepthProfile.walk`, what `SimExchange`
calls for every taker order), averaged over the real orders of each size bin, follows the real
mean walk as closely as it can (smallest worst-bin log error).

What the venue cannot do: it always walks from a full touch level, so an order smaller than
``level0_qty`` walks nothing (its impact is the half-spread only), while real small orders now and
then meet a nearly empty touch and walk a tick. The claim is therefore made over the sizes from
the touch size up (``applies_from``); the figure, the ``[liquidity]`` comment and the test say so.
The spread comes from consecutive trades of opposite aggressor sides (the bid-ask bounce).
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.data.checks import check_trades
from sim.world.liquidity import DepthProfile


@dataclass(frozen=True)
class Calibration:
    spread_bps: float
    level_step_bps: float
    level0_qty: float
    levels: int
    depth_exponent: float
    exponent: float  # the real curve's log-log slope (a power-law fit of the real points)
    sweeps: int
    curve: pd.DataFrame  # per size bin (20+ orders): size (median), real_walk_bps, sweeps, lo, hi (edges),
    #                      venue_walk_bps (mean over the bin's orders), applies (in the claimed range), ratio
    applies_from: float  # median size of the smallest bin the claim covers (>= level0_qty)
    max_factor: float  # worst venue/real ratio (either way) over the bins from applies_from up
    below_share: float  # share of the real orders in the bins below the claimed range

    def claim(self) -> str:
        c = self.curve[self.curve["applies"]]
        return (f"the venue's book walk is within a factor {self.max_factor:.2f} of the real mean walk in the size "
                f"bins of {self.applies_from:.4g} to {c['size'].max():.4g} (medians; level0_qty = "
                f"{self.level0_qty:.4g}); "
                f"smaller orders ({self.below_share:.0%} of the real ones) walk nothing on this venue: their impact "
                "is the half-spread only")

    def toml(self) -> str:
        claim = textwrap.fill(f"claim: {self.claim()}", 96, initial_indent="# ", subsequent_indent="# ")
        return (f"[liquidity]\n# calibrated from {self.sweeps:,} real sweeps; impact exponent {self.exponent:.2f}\n"
                f"{claim}\n"
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


def venue_walk_bps(profile: DepthProfile, sizes: np.ndarray, mid: float = 1.0) -> np.ndarray:
    """How far the venue's book walk takes a buy of each size: worst price minus the touch, in bps."""
    h = 0.5 * profile.spread_bps
    walk = np.array([(profile.walk(True, float(q), mid).worst_price / mid - 1) * 1e4 - h for q in sizes])
    return np.where(walk > 1e-9, walk, 0.0)  # float residue of a walk that stays at the touch


def _ladder_walk(step: float, l0: float, g: float, q: np.ndarray) -> np.ndarray:
    """`venue_walk_bps` for many sizes and candidate ladders at once (the fit's inner loop).

    The same arithmetic as `DepthProfile.walk`'s worst price: ``n`` whole levels taken, the worst
    fill one level further when a part of the next is taken too. The reported curve and the test
    use `DepthProfile.walk` itself.
    """
    n = np.floor((q / l0) ** (1.0 / g) + 1e-12)
    rest = q - l0 * n**g > 1e-12 * q
    return step * np.where(rest, n, np.maximum(n - 1, 0))


def _binned_mean(values: np.ndarray, bins: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return (np.bincount(bins, weights=values, minlength=len(keep)) / np.maximum(np.bincount(bins, minlength=len(keep)),
                                                                                1))[keep]


def calibrate(trades: pd.DataFrame, tick_size: float, bins: int = 12, min_sweeps: int = 20) -> Calibration:
    """Fit the venue's ladder to the real sweeps (see the module docstring); sizes in base units.

    ``trades`` in time order; unsorted times, impossible prices, negative quantities and repeated
    trade ids are refused (`MarketDataError`, a ValueError), as for a replay.
    """
    check_trades(trades)
    sw = sweeps(trades)
    sw = sw[sw["qty"] > 0]
    mid = float(trades["price"].median())
    step = tick_size / mid * 1e4
    spread = max(bounce_spread_bps(trades), step)
    edges = np.geomspace(sw["qty"].min(), sw["qty"].max() * 1.0001, bins + 1)
    sw = sw.assign(bin=np.digitize(sw["qty"], edges) - 1)
    curve = sw.groupby("bin").agg(size=("qty", "median"), real_walk_bps=("walk_bps", "mean"),
                                  sweeps=("qty", "size"))
    curve = curve[curve["sweeps"] >= min_sweeps]  # bins too thin to measure
    # the real curve's exponent, over the bins whose orders leave the touch often enough to measure
    fit = curve[curve["real_walk_bps"] >= 0.1 * step]
    if len(fit) < 3:
        raise ValueError("too few sweeps with a price walk to fit an impact curve (need 3 size bins of "
                         f"{min_sweeps}+ sweeps); give more trades")
    x, y = np.log(fit["size"].to_numpy()), np.log(fit["real_walk_bps"].to_numpy())
    slope, intercept = np.polyfit(x, y, 1)
    exponent = float(slope)
    # A ladder whose walk is step * (q / l0) ** (1 / g) on average has g = 1 / slope and l0 from the
    # intercept: the first guess, and where the claim starts (orders below the touch size do not walk).
    g0 = float(np.clip(1.0 / slope, 1.0, 4.0))
    l0_guess = float(np.exp((math.log(step) - intercept) * g0))
    applies = curve["size"].to_numpy() >= l0_guess
    if applies.sum() < 3:
        raise ValueError(f"fewer than 3 size bins of {min_sweeps}+ sweeps at or above the fitted touch size "
                         f"({l0_guess:.4g}); give more trades")
    sizes_in = curve["size"].to_numpy()[applies]
    real_in = curve["real_walk_bps"].to_numpy()[applies]
    keep = np.zeros(bins, dtype=bool)
    keep[curve.index.to_numpy()[applies]] = True
    q, b = sw["qty"].to_numpy(float), sw["bin"].to_numpy()
    # then the venue's own walk, averaged over the real orders of each bin, against the real mean
    # walk: the smallest worst-bin log error (ties: least squares), l0 no larger than the range's start
    best = None
    for g in np.arange(1.0, 4.0001, 0.05):
        for l0 in np.geomspace(l0_guess / 10, sizes_in.min(), 60):
            venue = _binned_mean(_ladder_walk(step, l0, g, q), b, keep)
            if (venue <= 0).any():
                continue
            err = np.abs(np.log(venue / real_in))
            score = (float(err.max()), float((err**2).sum()))
            if best is None or score < best[0]:
                best = (score, float(l0), float(g))
    if best is None:
        raise ValueError("no ladder walks for every size bin above the touch size; give more trades")
    _, l0, g = best
    levels = int(math.ceil((2 * sw["qty"].max() / l0) ** (1 / g))) + 1
    prof = DepthProfile(spread, step, l0, levels, g)
    unique, inverse = np.unique(q, return_inverse=True)
    per_order = venue_walk_bps(prof, unique, mid)[inverse]
    curve = curve.assign(lo=edges[curve.index], hi=edges[curve.index + 1],
                         venue_walk_bps=[float(per_order[b == i].mean()) for i in curve.index],
                         applies=applies).reset_index(drop=True)
    curve["ratio"] = curve["venue_walk_bps"] / curve["real_walk_bps"]
    in_range = curve[curve["applies"]]
    max_factor = float(np.exp(np.abs(np.log(in_range["ratio"])).max()))
    applies_from = float(in_range["size"].min())
    return Calibration(spread, step, l0, levels, g, exponent, len(sw), curve, applies_from, max_factor,
                       float((q < in_range["lo"].min()).mean()))


def plot(cal: Calibration, path: str) -> None:
    """Real binned impact and the calibrated venue's own walk, log-log, with the claimed range marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = cal.curve
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    lo = c["lo"].min()
    ax.axvspan(lo, cal.curve[cal.curve["applies"]]["lo"].min(), color="grey", alpha=0.12, lw=0)
    ax.loglog(c["size"], c["real_walk_bps"], "o", color="C0", label=f"real orders, mean walk per size bin "
              f"(n={cal.sweeps:,})")
    a = c[c["applies"]]
    ax.loglog(a["size"], a["venue_walk_bps"], "s-", color="C3", mfc="none",
              label=f"calibrated venue, same orders (within x{cal.max_factor:.2f})")
    q = np.geomspace(cal.level0_qty, c["hi"].max(), 400)
    walk = venue_walk_bps(cal.profile(), q)
    keep = walk > 0
    ax.loglog(q[keep], walk[keep], drawstyle="steps-post", color="C3", lw=0.8, alpha=0.5,
              label="calibrated venue, one order (its book walk)")
    fit = c[c["real_walk_bps"] >= 0.1 * cal.level_step_bps]
    k = math.exp(np.polyfit(np.log(fit["size"]), np.log(fit["real_walk_bps"]), 1)[1])
    ax.loglog(q, k * q ** cal.exponent, ":", color="grey", label=f"power-law fit of the real points, exponent "
              f"{cal.exponent:.2f}")
    ax.axvline(cal.level0_qty, color="C3", lw=0.6, ls="--")
    ax.text(0.02, 0.97, f"shaded: size bins below the claimed range ({cal.below_share:.0%} of real orders);\n"
            f"below its touch size level0_qty = {cal.level0_qty:.3g} (dashed) the venue walks nothing:\n"
            "impact = half-spread only", transform=ax.transAxes, fontsize=7.5, va="top")
    ax.set_xlabel("aggressive order size (base units)")
    ax.set_ylabel("price walked through the book (bps)")
    ax.set_title("Impact vs size: real trades and the calibrated venue's book walk", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7.5, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
