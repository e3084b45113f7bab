"""Figures of a run, each a PNG a reader can take in at a glance (labels, units, legends)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.report.load import RunTables  # noqa: E402

CAUSE_COLOURS = {
    "take_profit_fill": "#2ca02c", "stop_loss_fill": "#d62728", "liquidation": "#7f0000",
    "external_change": "#9467bd", "partial_fill": "#ff7f0e", "missed_fill": "#8c564b",
    "order_vanished": "#e377c2", "unknown_order": "#7f7f7f", "protective_mismatch": "#bcbd22",
    "restart": "#17becf", "unexplained": "#000000",
}


def _axes_time(ax: plt.Axes) -> None:
    loc = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.grid(alpha=0.3)


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _ms_to_time(ms: pd.Series) -> pd.Series:
    return pd.to_datetime(ms.astype("Int64"), unit="ms", utc=True)


def position_figure(run: RunTables, out: Path) -> Path:
    """Record vs venue position over time; drift episodes shaded from began to resolved."""
    tl = run.timeline
    fig, ax = plt.subplots(figsize=(11, 3.6))
    if len(tl):
        ax.step(tl.index, tl["exchange_qty"], where="post", lw=2.2, color="#1f77b4", label="venue (truth)")
        ax.step(tl.index, tl["record_qty"], where="post", lw=1.2, ls="--", color="#ff7f0e", label="platform record")
    seen = set()
    dr = run.drift_episodes
    for _, ep in dr.iterrows() if len(dr) else []:
        began = pd.to_datetime(ep["began_ms"], unit="ms", utc=True)
        end = pd.to_datetime(ep["resolved_ms"] if pd.notna(ep["resolved_ms"]) else ep["detected_ms"], unit="ms",
                             utc=True)
        if end <= began:
            end = began + pd.Timedelta(seconds=1)
        cause = ep["cause"]
        ax.axvspan(began, end, color=CAUSE_COLOURS.get(cause, "grey"), alpha=0.35,
                   label=f"drift: {cause}" if cause not in seen else None)
        seen.add(cause)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylabel("position (base units, + long)")
    ax.set_title("Position: platform record vs venue, drift episodes shaded (began → resolved)")
    _axes_time(ax)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    return _save(fig, out / "position.png")


def equity_figure(run: RunTables, ideal: pd.DataFrame | None, out: Path) -> Path:
    tl = run.timeline
    fig, ax = plt.subplots(figsize=(11, 3.4))
    if len(tl):
        ax.plot(tl.index, tl["equity"], lw=1.5, label="realistic execution")
    if ideal is not None and len(ideal):
        ax.plot(ideal["time"], ideal["equity"], lw=1.2, ls="--", label="ideal execution (test-mode twin)")
    ax.set_ylabel("equity (quote currency)")
    ax.set_title("Equity: realistic vs ideal execution (the gap is the cost of execution)")
    _axes_time(ax)
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, out / "equity.png")


def price_figure(run: RunTables, out: Path) -> Path:
    """Mid price with fills, TP/SL trigger levels and interventions."""
    tl, fills, ev = run.timeline, run.fills, run.events
    fig, ax = plt.subplots(figsize=(11, 4))
    if len(tl):
        ax.plot(tl.index, tl["mid"], lw=0.8, color="#444444", label="mid (sampled)")
    if len(fills):
        styles = {"entry": ("^", "#1f77b4"), "exit": ("v", "#555555"), "take_profit": ("*", "#2ca02c"),
                  "stop_loss": ("X", "#d62728")}
        for role, (marker, colour) in styles.items():
            f = fills[fills["role"] == role]
            if len(f):
                ax.scatter(f.index, f["price"], marker=marker, s=36, color=colour, zorder=3, label=f"fill: {role}")
        other = fills[fills["source"] != "bot"]
        if len(other):
            ax.scatter(other.index, other["price"], marker="D", s=30, color="#9467bd", zorder=3,
                       label="fill: external / liquidation")
    if len(ev):
        acc = ev[(ev["kind"] == "order_accepted") & ev["price"].notna()]
        ends = ev[ev["kind"].isin(["order_filled", "order_cancelled", "order_expired"])]
        end_of = dict(zip(ends["client_id"], ends.index, strict=False))
        last = tl.index.max() if len(tl) else None
        for t, row in acc.iterrows():
            colour = "#2ca02c" if "-tp-" in str(row["client_id"]) else "#d62728"
            ax.hlines(row["price"], t, end_of.get(row["client_id"], last), colors=colour, lw=0.8, alpha=0.6)
        for t in ev[ev["kind"].str.startswith("intervention_")].index:
            ax.axvline(t, color="#9467bd", ls=":", lw=1)
    ax.set_ylabel("price (quote currency)")
    ax.set_title("Price with fills; TP (green) / SL (red) trigger levels while live; interventions dotted")
    _axes_time(ax)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    return _save(fig, out / "price.png")


def slippage_figure(run: RunTables, out: Path) -> Path:
    o = run.orders
    fig, ax = plt.subplots(figsize=(6, 4))
    ex = o[(o["filled_qty"] > 0) & o["slippage_bps"].notna()] if len(o) else o
    if len(ex):
        for role, g in ex.groupby("role"):
            ax.scatter(g["filled_qty"], g["slippage_bps"], s=18, label=role, alpha=0.8)
        ax.legend(fontsize=8)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("filled quantity (base units)")
    ax.set_ylabel("slippage vs arrival mid (bps, + = cost)")
    ax.set_title("Slippage vs order size")
    ax.grid(alpha=0.3)
    return _save(fig, out / "slippage.png")


def all_figures(run: RunTables, ideal: pd.DataFrame | None, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [position_figure(run, out), equity_figure(run, ideal, out), price_figure(run, out),
            slippage_figure(run, out)]
