"""Figures of a run, each a PNG a reader can take in at a glance (labels, units, legends)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.report.load import RunTables  # noqa: E402

CAUSE_COLOURS = {
    "take_profit_fill": "#2ca02c", "stop_loss_fill": "#d62728", "liquidation": "#7f0000",
    "external_change": "#9467bd", "partial_fill": "#ff7f0e", "missed_fill": "#8c564b",
    "order_vanished": "#e377c2", "unknown_order": "#7f7f7f", "protective_mismatch": "#bcbd22",
    "restart": "#17becf", "unexplained": "#000000",
}


ROLE_NAMES = {"en": "entry", "ex": "exit", "tp": "take-profit", "sl": "stop-loss", "entry": "entry", "exit": "exit",
              "take_profit": "take-profit", "stop_loss": "stop-loss"}


def _axes_time(ax: plt.Axes) -> None:
    loc = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.set_xlabel("time (UTC)")
    ax.grid(alpha=0.3)


def _legend_below(ax: plt.Axes, ncol: int = 4) -> None:
    """Legend under the plot, so it never hides data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.22), fontsize=8, ncol=ncol,
                  frameon=False)


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _ms_to_time(ms: pd.Series) -> pd.Series:
    return pd.to_datetime(ms.astype("Int64"), unit="ms", utc=True)


MIN_EPISODE_WIDTH = 0.004  # of the time axis: a drift episode of seconds in a run of days stays visible


def in_flight_mask(ts_ms: np.ndarray, orders: pd.DataFrame, drift: pd.DataFrame) -> np.ndarray:
    """True at timeline rows where record and venue differ only because an order's answer is on its way.

    The venue filled one of the bot's orders (``first_fill_ms``) and the answer has not reached the
    bot yet (``answered_ms``); the record catches up when it arrives. Rows inside a drift episode
    (began .. resolved) are drift, whatever else is in flight.
    """
    ts = np.asarray(ts_ms, dtype=np.int64)

    def covered(starts: np.ndarray, ends: np.ndarray, closed: bool) -> np.ndarray:
        keep = ends > starts if not closed else ends >= starts
        starts, ends = np.sort(starts[keep]), np.sort(ends[keep])
        begun = np.searchsorted(starts, ts, side="right")
        over = np.searchsorted(ends, ts, side="left" if closed else "right")
        return begun - over > 0

    flight = np.zeros(len(ts), dtype=bool)
    if len(orders) and {"first_fill_ms", "answered_ms"} <= set(orders.columns):
        o = orders[orders["first_fill_ms"].notna() & orders["answered_ms"].notna()]
        flight = covered(o["first_fill_ms"].to_numpy(np.int64), o["answered_ms"].to_numpy(np.int64), closed=False)
    if len(drift):
        began = drift["began_ms"].astype("float64").to_numpy()
        end = drift["resolved_ms"].fillna(drift["detected_ms"]).astype("float64").to_numpy()
        flight &= ~covered(began.astype(np.int64), end.astype(np.int64), closed=True)
    return flight


def _readable_span(td: pd.Timedelta) -> str:
    s = td.total_seconds()
    return f"{s:.0f} s" if s < 120 else (f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h")


def draw_position(run: RunTables) -> plt.Figure:
    """Record vs venue position over time, and the gap between them; drift episodes marked by cause.

    Episodes often last seconds in a run of days, so each is drawn at least 0.4 % of the axis
    wide (the caption says so) and marked with a triangle on the top edge where it began. Gaps while
    the bot's own order is in flight are grey: the record catches up when the answer arrives.
    """
    tl = run.timeline
    fig, (ax, gap_ax) = plt.subplots(2, 1, figsize=(11, 5.6), sharex=True, height_ratios=[3, 1.3])
    caption = "Gap panel: red = drift (record differs from the venue); grey = the bot's order is in flight."
    if len(tl):
        ax.step(tl.index, tl["exchange_qty"], where="post", lw=2.2, color="#1f77b4", label="venue (truth)")
        ax.step(tl.index, tl["record_qty"], where="post", lw=1.2, ls="--", color="#ff7f0e", label="platform record")
        gap = (tl["record_qty"] - tl["exchange_qty"]).to_numpy(float)
        flight = in_flight_mask(tl["ts_ms"].to_numpy(), run.orders, run.drift_episodes) & (gap != 0)
        if flight.any():
            gap_ax.step(tl.index, np.where(flight, gap, 0.0), where="post", lw=1.0, color="#9a9a9a",
                        label="record − venue: order in flight, not drift")
        drift = np.where(flight, 0.0, gap)
        gap_ax.step(tl.index, drift, where="post", lw=1.3, color="#d62728",
                    label="record − venue: drift" + ("" if drift.any() else " (none)"))
    dr = run.drift_episodes
    if len(dr) and len(tl):
        min_w = (tl.index.max() - tl.index.min()) * MIN_EPISODE_WIDTH
        caption += (f" Episode shading is widened to at least {MIN_EPISODE_WIDTH:.1%} of the time axis"
                    f" ({_readable_span(min_w)}) so short episodes stay visible.")
        seen = set()
        top = ax.get_xaxis_transform()  # x in data, y in axes: every marker on the top edge
        for _, ep in dr.iterrows():
            began = pd.to_datetime(ep["began_ms"], unit="ms", utc=True)
            end = pd.to_datetime(ep["resolved_ms"] if pd.notna(ep["resolved_ms"]) else ep["detected_ms"], unit="ms",
                                 utc=True)
            end = max(end, began + min_w)
            cause = ep["cause"]
            colour = CAUSE_COLOURS.get(cause, "grey")
            for a in (ax, gap_ax):
                a.axvspan(began, end, color=colour, alpha=0.3, lw=0)
            ax.plot([began], [1.0], marker="v", color=colour, ms=7, clip_on=False, transform=top, ls="none",
                    label=f"drift began: {cause.replace('_', ' ')}" if cause not in seen else None)
            seen.add(cause)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylabel("position (base units, + long)")
    ax.set_title("Position: platform record vs venue; drift episodes shaded from began to resolved", pad=12)
    gap_ax.set_ylabel("record − venue\n(base units)")
    gap_ax.axhline(0, color="black", lw=0.6)
    _axes_time(gap_ax)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    more = gap_ax.get_legend_handles_labels()
    fig.legend(handles + more[0], labels + more[1], loc="lower center", ncol=4, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.035))
    fig.text(0.5, 0.008, caption, ha="center", va="bottom", fontsize=7.5, color="#555555", wrap=True)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


def position_figure(run: RunTables, out: Path) -> Path:
    fig = draw_position(run)
    fig.savefig(out / "position.png", dpi=110)
    plt.close(fig)
    return out / "position.png"


def draw_equity(run: RunTables) -> plt.Figure:
    tl, ideal = run.timeline, run.ideal_timeline
    twin = ideal is not None and len(ideal) > 0
    fig, ax = plt.subplots(figsize=(11, 3.4))
    if len(tl):
        ax.plot(tl.index, tl["equity"], lw=1.5, label="realistic execution")
    if twin:
        times = ideal.index if "time" not in ideal.columns else ideal["time"]
        ax.plot(times, ideal["equity"], lw=1.2, ls="--", label="ideal execution (test-mode twin)")
        ax.set_title("Equity: realistic vs ideal execution (the gap is the cost of execution)")
    else:
        ax.set_title("Equity under realistic execution (no ideal twin in this run)")
        ax.text(0.01, 0.96, "no ideal twin was run (--no-ideal-twin), so there is no cost of execution to show",
                transform=ax.transAxes, ha="left", va="top", fontsize=8, color="#555555")
    ax.set_ylabel("equity (quote currency)")
    _axes_time(ax)
    _legend_below(ax)
    return fig


def equity_figure(run: RunTables, out: Path) -> Path:
    return _save(draw_equity(run), out / "equity.png")


EVENT_GROUPS = {  # world events by who or what acted: (group label, line style); operators act, faults happen
    "operator": ("operator", ":"),
    "market": ("market fault", "--"),
    "transport": ("transport fault", "-."),
    "process": ("bot process", (0, (1, 1.5))),
}
EVENT_KINDS = {  # kind: (group, colour)
    "external_close": ("operator", "#9467bd"), "external_reduce": ("operator", "#e377c2"),
    "external_add": ("operator", "#1f3a93"), "cancel_protective": ("operator", "#c51b8a"),
    "move_protective": ("operator", "#006d6f"), "set_leverage": ("operator", "#b8860b"),
    "transfer_out": ("operator", "#5b3a29"), "transfer_in": ("operator", "#4f7942"),
    "external_order": ("operator", "#4b0082"),
    "price_gap": ("market", "#8c564b"), "thin_liquidity": ("market", "#d2691e"),
    "latency_spike": ("transport", "#7f7f7f"), "outage": ("transport", "#000000"),
    "drop_updates": ("transport", "#bcbd22"),
    "bot_crash": ("process", "#000000"),
}


def event_label(kind: str) -> tuple[str, str, object]:
    """Legend label, colour and line style of a world event (``intervention_<kind>`` in the log)."""
    kind = kind.removeprefix("intervention_")
    group, colour = EVENT_KINDS.get(kind, ("operator", "#9467bd"))
    label, ls = EVENT_GROUPS[group]
    return f"{label}: {kind.replace('_', ' ')}", colour, ls


def _event_order(kind: str) -> tuple[int, str]:
    kind = kind.removeprefix("intervention_")
    return list(EVENT_GROUPS).index(EVENT_KINDS.get(kind, ("operator", ""))[0]), kind


def draw_price(run: RunTables) -> plt.Figure:
    """Mid price with fills by side and role, TP/SL trigger levels while live, world events by kind."""
    tl, fills, ev = run.timeline, run.fills, run.events
    fig, ax = plt.subplots(figsize=(11, 4.8))
    if len(tl):
        ax.plot(tl.index, tl["mid"], lw=0.8, color="#444444", label="mid (at each cycle and change)")
    if len(fills):
        ours = fills[fills["source"] == "bot"]
        styles = [("entry", "buy", "^", "#2ca02c", "entry buy"), ("entry", "sell", "v", "#d62728", "entry sell"),
                  ("exit", None, "s", "#555555", "exit"), ("take_profit", None, "*", "#17becf", "take-profit fill"),
                  ("stop_loss", None, "X", "#ff7f0e", "stop-loss fill")]
        for role, side, marker, colour, label in styles:
            f = ours[(ours["role"] == role) & ((ours["side"] == side) if side else True)]
            if len(f):
                ax.scatter(f.index, f["price"], marker=marker, s=40, color=colour, zorder=3, label=label,
                           edgecolors="black", linewidths=0.3)
        for source, marker, colour, size, label in (
                ("external", "D", "#9467bd", 34, "external fill (operator / other system)"),
                ("liquidation", "P", "#7f0000", 90, "liquidation fill (the venue closed the position)")):
            f = fills[fills["source"] == source]
            if len(f):
                ax.scatter(f.index, f["price"], marker=marker, s=size, color=colour, zorder=4, label=label,
                           edgecolors="black", linewidths=0.4)
    if len(ev):
        acc = ev[(ev["kind"] == "order_accepted") & ev["price"].notna() & ev["client_id"].notna()]
        ends = ev[ev["kind"].isin(["order_filled", "order_cancelled", "order_expired"])]
        end_of = dict(zip(ends["client_id"], ends.index, strict=False))
        last = tl.index.max() if len(tl) else None
        cids = acc["client_id"].astype(str)
        for tag, kind, colour in (("-tp-", "take-profit level", "#17becf"), ("-sl-", "stop-loss level", "#ff7f0e")):
            levels = acc[cids.str.contains(tag, regex=False)]
            if len(levels):  # one call per kind: a long run has thousands of levels
                ends_at = [end_of.get(c, last) for c in levels["client_id"]]
                ax.hlines(levels["price"], levels.index, ends_at, colors=colour, lw=1.0, alpha=0.7, label=kind)
        world = ev[ev["kind"].str.startswith("intervention_")]
        for kind in sorted(world["kind"].unique(), key=_event_order):  # one call and one legend entry per kind
            g = world[world["kind"] == kind]
            label, colour, ls = event_label(str(kind))
            ax.vlines(g.index, 0, 1, transform=ax.get_xaxis_transform(), colors=colour, linestyles=ls, lw=1.2,
                      label=f"{label} ({len(g)})" if len(g) > 1 else label)
    ax.set_ylabel("price (quote currency)")
    ax.set_title("Price with the bot's fills, its TP/SL trigger levels while live, and world events by kind")
    _axes_time(ax)
    _legend_below(ax, ncol=4)
    return fig


def price_figure(run: RunTables, out: Path) -> Path:
    return _save(draw_price(run), out / "price.png")


def all_figures(run: RunTables, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    from sim.report.figures_exec import exec_figures

    return [position_figure(run, out), equity_figure(run, out), price_figure(run, out),
            *exec_figures(run, out)]
