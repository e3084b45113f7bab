"""Execution-quality and drift-latency figures (the transaction-cost view of a run)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402

from sim.report.figures import CAUSE_COLOURS, ROLE_NAMES, _save  # noqa: E402
from sim.report.load import RunTables  # noqa: E402

EXECUTED = ("market", "take_profit_market", "stop_market", "limit")


def executed(run: RunTables) -> pd.DataFrame:
    o = run.orders
    return o[(o["filled_qty"] > 0) & o["type"].isin(EXECUTED) & o["slippage_bps"].notna()] if len(o) else o


MIN_FIT_SIZES = 3  # a two-parameter curve through fewer distinct sizes fits anything


def sqrt_fit(qty: np.ndarray, slip_bps: np.ndarray) -> tuple[float, float] | None:
    """Least squares ``slippage = a + b * sqrt(qty)`` (the square-root impact law).

    None with fewer than three distinct sizes: two parameters through two sizes always fit exactly.
    """
    if len(np.unique(qty)) < MIN_FIT_SIZES:
        return None
    design = np.column_stack([np.ones_like(qty), np.sqrt(qty)])
    (a, b), *_ = np.linalg.lstsq(design, slip_bps, rcond=None)
    return float(a), float(b)


def draw_slippage(run: RunTables) -> plt.Figure:
    ex = executed(run)
    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    title = "Slippage vs filled size"
    if len(ex):
        markers = {"en": "o", "ex": "s", "tp": "*", "sl": "X"}
        for role, g in ex.groupby("role"):
            ax.scatter(g["filled_qty"], g["slippage_bps"], s=30, label=f"{ROLE_NAMES.get(role, role)} ({len(g)})",
                       alpha=0.6, marker=markers.get(role, "o"))
        fit = sqrt_fit(ex["filled_qty"].to_numpy(float), ex["slippage_bps"].to_numpy(float))
        if fit is not None:
            q = np.linspace(ex["filled_qty"].min(), ex["filled_qty"].max(), 100)
            ax.plot(q, fit[0] + fit[1] * np.sqrt(q), color="black", lw=1,
                    label=f"fit: {fit[0]:.2f} + {fit[1]:.2f}·√qty bps")
            title += ", with the square-root fit"
        else:
            sizes = ex["filled_qty"].nunique()
            title += f": no fit (fewer than {MIN_FIT_SIZES} sizes; here {sizes})"
        ax.legend(fontsize=8, title="order role (count)", title_fontsize=8, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), frameon=False)
    else:
        ax.text(0.5, 0.5, "no executed orders", ha="center", va="center", transform=ax.transAxes)
    ax.axhline(0, color="black", lw=0.6)
    ax.ticklabel_format(useOffset=False)
    ax.set_xlabel("filled quantity per order (base units)")
    ax.set_ylabel("slippage vs arrival mid (bps, + = cost)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def slippage_figure(run: RunTables, out: Path) -> Path:
    return _save(draw_slippage(run), out / "slippage.png")


MIN_BIN_BPS = 0.1  # narrower bins only draw float noise (costs are quoted to a hundredth of a bp at best)


def histogram_bins(values: pd.Series | np.ndarray, min_width: float = MIN_BIN_BPS,
                   max_bins: int = 40) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Values rounded to 1e-6 bps, bin edges at least ``min_width`` wide, and the x range to show.

    When every value lies within one minimum bin (all slippages 0.5 bps plus float noise, say)
    there is one bar, centred on the values, in a range of +-5 bins so it reads as one value.
    """
    v = np.round(np.asarray(values, dtype=float), 6)
    lo, hi = float(v.min()), float(v.max())
    if hi - lo < min_width:
        centre = round((lo + hi) / 2, 6)
        return v, np.array([centre - min_width / 2, centre + min_width / 2]), (centre - 5 * min_width,
                                                                               centre + 5 * min_width)
    n = min(max_bins, max(5, len(v) // 3))
    width = max(min_width, (hi - lo) / n)
    edges = lo + width * np.arange(int(np.ceil((hi - lo) / width)) + 1)
    if edges[-1] < hi:
        edges = np.append(edges, edges[-1] + width)
    pad = width / 2
    return v, edges, (lo - pad, float(edges[-1]) + pad)


def draw_distributions(run: RunTables) -> plt.Figure:
    ex = executed(run)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, col, title in ((axes[0], "slippage_bps", "slippage vs arrival mid"),
                           (axes[1], "shortfall_bps", "implementation shortfall vs decision mid")):
        data = ex[col].dropna() if len(ex) else pd.Series(dtype=float)
        if len(data):
            v, edges, xlim = histogram_bins(data)
            ax.hist(v, bins=edges, color="#1f77b4", alpha=0.8,
                    label=(f"1 order at {v[0]:.2f} bps" if len(v) == 1 else f"{len(v)} orders"
                           + (f", all within {MIN_BIN_BPS / 2:g} bps of {edges.mean():.2f}" if len(edges) == 2
                              else "")))
            ax.axvline(v.mean(), color="black", ls="--", lw=1, label=f"mean {v.mean():.2f} bps (per order)")
            ax.set_xlim(*xlim)
            ax.set_ylim(0, ax.get_ylim()[1] * 1.25)  # room for the legend above the bars
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(fontsize=8, loc="upper right")
        else:
            ax.text(0.5, 0.5, "no data (e.g. no decision price for TP/SL)", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8)
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
        ax.set_xlabel(f"bps (+ = cost; bins at least {MIN_BIN_BPS:g} bps wide)")
        ax.set_ylabel("orders")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    return fig


def distributions_figure(run: RunTables, out: Path) -> Path:
    return _save(draw_distributions(run), out / "cost_distributions.png")


TYPE_NAMES = {"market": "market", "limit": "limit", "take_profit_market": "TP", "stop_market": "SL"}
FEW_POINTS = 30  # below this many orders a CDF is mostly steps: mark each order


def latency_legs(orders: pd.DataFrame) -> list[tuple[str, np.ndarray, list[str]]]:
    """(label, sorted milliseconds, order types) for each leg of an order's life the data has.

    Placement legs (the venue has it; the answer reaches the bot) cover every order type. Fill
    legs cover market orders, and limit orders on their own line (their time includes resting on the
    book); TP/SL orders fill when their trigger crosses, which is not a latency, so they are left out.
    """
    if not len(orders) or "type" not in orders.columns:
        return []
    placed = orders[orders["type"].isin(TYPE_NAMES)]
    legs = []
    for col, label, types in (("ack_ms", "decision → venue has the order", list(TYPE_NAMES)),
                              ("latency_ms", "decision → answer reaches the bot", list(TYPE_NAMES)),
                              ("first_fill_after_ms", "decision → first fill", ["market"]),
                              ("last_fill_after_ms", "decision → last fill", ["market"]),
                              ("last_fill_after_ms", "decision → last fill, incl. resting", ["limit"])):
        if col not in placed.columns:
            continue
        rows = placed[placed["type"].isin(types) & placed[col].notna()]
        if len(rows):
            present = [TYPE_NAMES[t] for t in types if (rows["type"] == t).any()]
            legs.append((label, np.sort(rows[col].to_numpy(float)), present))
    return legs


def draw_latency(run: RunTables) -> plt.Figure:
    """Empirical CDFs of each leg: decision -> venue has it -> fills -> the bot knows; markers when few."""
    fig, ax = plt.subplots(figsize=(8, 5))
    legs = latency_legs(run.orders)
    styles = [("-", 4.0, 0.35, "o", 10), (":", 2.0, 1.0, "s", 7), ("--", 2.5, 0.8, "^", 8), ("-", 1.5, 1.0, "D", 5),
              ("-.", 1.5, 1.0, "v", 7)]  # overlaps stay visible
    hi = 0.0
    for (label, d, types), (ls, lw, alpha, marker, ms) in zip(legs, styles, strict=False):
        y = np.arange(1, len(d) + 1) / len(d)
        few = len(d) <= FEW_POINTS
        ax.step(d, y, where="post", ls=ls, lw=lw, alpha=alpha, marker=marker if few else None, ms=ms,
                mfc="none" if few else None, label=f"{label} ({', '.join(types)}; n={len(d)})")
        hi = max(hi, float(d.max()))
    if not legs:
        ax.text(0.5, 0.5, "no orders reached the venue", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        positive = np.concatenate([d[d > 0] for _, d, _ in legs])
        lo = float(positive.min()) if len(positive) else 0.0
        if lo > 0 and hi / lo > 20:  # a wide spread: log scale (zero-latency orders sit on the left edge)
            ax.set_xscale("log")
            ax.set_xlim(lo / 1.5, hi * 1.5)
            ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.set_xlabel("milliseconds after the decision (log scale)")
        else:
            ax.set_xlim(0, max(hi, 1.0) * 1.15)
            ax.set_xlabel("milliseconds after the decision")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 or v == 0 else f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
        ax.set_ylabel("fraction of orders with the leg")
        ax.grid(alpha=0.3, which="both")
    shown = sorted({t for _, _, types in legs for t in types}, key=list(TYPE_NAMES.values()).index)
    ax.set_title("Order latency after the decision (CDF per leg)\n"
                 + (f"orders shown: {', '.join(shown)}; fill legs: market and limit orders only (a TP/SL fills "
                   "when its trigger crosses)"
                    if legs else ""), fontsize=9)
    return fig


def latency_figure(run: RunTables, out: Path) -> Path:
    return _save(draw_latency(run), out / "latency.png")


def draw_rejects(run: RunTables) -> plt.Figure:
    o = run.orders
    rej = o[o["record_status"] == "rejected"]["reject_reason"].fillna("unknown") if len(o) else pd.Series(dtype=str)
    if not len(rej):
        fig, ax = plt.subplots(figsize=(6.5, 1.2))
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"Rejects by reason: no rejects (of {len(o)} orders)", ha="center", va="center",
                transform=ax.transAxes, fontsize=11)
        return fig
    fig, ax = plt.subplots(figsize=(6.5, 1.6 + 0.35 * rej.nunique()))
    counts = rej.value_counts().sort_values()
    ax.barh(counts.index, counts.values, color="#d62728")
    for i, v in enumerate(counts.values):
        ax.text(v, i, f" {v}", va="center", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("orders")
    ax.set_title(f"Rejects by reason ({len(rej)} of {len(o)} orders)")
    return fig


def rejects_figure(run: RunTables, out: Path) -> Path:
    return _save(draw_rejects(run), out / "rejects.png")


def drift_latency_figure(run: RunTables, out: Path) -> Path:
    dr = run.drift_episodes
    fig, ax = plt.subplots(figsize=(11, 3.4))
    if len(dr):
        x = np.arange(len(dr))
        colours = [CAUSE_COLOURS.get(c, "grey") for c in dr["cause"]]
        ax.bar(x - 0.2, dr["detect_s"], width=0.4, color=colours, label="detection latency (began → detected)")
        ax.bar(x + 0.2, dr["resolve_s"].fillna(dr["detect_s"]), width=0.4, color=colours, alpha=0.45,
               hatch="//", label="time in drift (began → resolved)")
        ax.set_xticks(x, [f"#{int(e)}\n{c.replace('_', ' ')}" for e, c in zip(dr["episode"], dr["cause"], strict=True)],
                      fontsize=7)
        top = float(max(dr["resolve_s"].fillna(dr["detect_s"]).max(), dr["detect_s"].max(), 0.001))
        if top > 60:
            ax.set_yscale("symlog", linthresh=1)
            ax.set_ylabel("seconds (log scale above 1 s)")
            ax.set_ylim(0, top * 4)
        else:
            ax.set_ylabel("seconds")
            ax.set_ylim(0, top * 1.2)
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no drift episodes", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("Drift episodes: how long until detected, and until resolved")
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, out / "drift_latency.png")


def cost_breakdown(run: RunTables) -> dict[str, float]:
    """The cost of execution split by cause (quote currency, + = cost); residual = path difference.

    ``fees`` are the fees of the bot's own orders. Fees the account paid for fills the bot did not
    send (a liquidation, another system's trades) are not a cost of executing the bot's orders; they
    are left out of the split (see `fees_outside_split`) and, where the two runs differ in them, show
    up in the path difference. With an ideal twin the parts sum to ideal − realistic PnL.
    """
    ex = executed(run)
    s = run.summary
    parts = {
        "spread": float(ex["spread_cost"].sum()) if len(ex) else 0.0,
        "impact": float(ex["impact_cost"].sum()) if len(ex) else 0.0,
        "fees": _fees_by_source(run).get("bot", 0.0),
        "funding": -float(s["pnl"].get("funding") or 0.0),
        "delay": float(ex["delay_cost"].dropna().sum()) if len(ex) else 0.0,
    }
    total = s["pnl"]["execution_cost"]
    if total is not None:
        parts["path difference"] = float(total) - sum(parts.values())
    return parts


OUTSIDE_SPLIT = {"liquidation": "liquidation fee", "external": "fees of external trades"}


def _fees_by_source(run: RunTables) -> dict[str, float]:
    f = run.fills
    if not len(f) or "fee" not in f.columns:
        return {}
    return {str(k): float(v) for k, v in f.groupby("source")["fee"].sum().items()}


def fees_outside_split(run: RunTables) -> dict[str, float]:
    """Fees the account paid on fills the bot did not send: ``liquidation fee``, ``fees of external trades``."""
    by = _fees_by_source(run)
    return {name: by[src] for src, name in OUTSIDE_SPLIT.items() if by.get(src)}


def money(v: float) -> str:
    """Two decimals with thousands separators, never "-0.00"."""
    return f"{round(v, 2) + 0.0:,.2f}"


def draw_costs(run: RunTables) -> plt.Figure:
    parts, outside = cost_breakdown(run), fees_outside_split(run)
    names = list(parts) + [f"{k}\n(outside the split)" for k in outside]
    values = list(parts.values()) + list(outside.values())
    fig, ax = plt.subplots(figsize=(7.5, 3.4 + 0.35 * len(outside)))
    colours = ["#d62728" if v > 0 else "#2ca02c" for v in parts.values()] + ["#bbbbbb"] * len(outside)
    bars = ax.barh(names, values, color=colours)
    for bar in bars[len(parts):]:
        bar.set_hatch("//")
        bar.set_edgecolor("#666666")
    for i, v in enumerate(values):
        label = money(v)
        ax.text(v, i, f" {label} " if label.startswith("-") else f" {label}", va="center",
                ha="right" if label.startswith("-") else "left", fontsize=8)
    if outside:
        ax.axhline(len(parts) - 0.5, color="#666666", ls="--", lw=0.8)
    ax.axvline(0, color="black", lw=0.6)
    total = run.summary["pnl"]["execution_cost"]
    ax.set_title("Cost of execution by cause" + (f" (ideal − realistic PnL = {money(total)})" if total is not None
                                                  else " (no ideal twin: run with --ideal-twin)"), fontsize=10)
    ax.set_xlabel("quote currency (+ = cost, − = gain)"
                  + ("; below the line: fees of fills the bot did not send" if outside else ""))
    lo, hi = min(0.0, *values), max(0.0, *values)
    pad = 0.18 * (hi - lo or 1.0)  # room for the value labels
    ax.set_xlim(lo - (pad if lo < 0 else 0), hi + pad)
    ax.invert_yaxis()
    return fig


def cost_figure(run: RunTables, out: Path) -> Path:
    return _save(draw_costs(run), out / "cost_breakdown.png")


def exec_figures(run: RunTables, out: Path) -> list[Path]:
    return [drift_latency_figure(run, out), slippage_figure(run, out), distributions_figure(run, out),
            latency_figure(run, out), rejects_figure(run, out), cost_figure(run, out)]
