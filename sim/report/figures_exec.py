"""Execution-quality and drift-latency figures (the transaction-cost view of a run), as Plotly figures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.report.decimate import ranks
from sim.report.figures import CAUSE_COLOURS, ROLE_NAMES, episode_text, scatter, time_layout, times
from sim.report.tables import RunTables

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


def draw_slippage(run: RunTables) -> go.Figure:
    """Slippage of every executed order against its filled size, by role, with the square-root fit."""
    ex = executed(run)
    fig = go.Figure()
    title = "Slippage vs filled size"
    if len(ex):
        symbols = {"en": "circle", "ex": "square", "tp": "star", "sl": "x"}
        for role, g in ex.groupby("role"):
            text = [f"<b>{c}</b><br>{s} {q:g} @ {p:,.2f} ({t})<br>arrival mid {m:,.2f}"
                    for c, s, q, p, t, m in zip(g["client_id"], g["side"], g["filled_qty"], g["avg_price"], g["type"],
                                                g["arrival_mid"], strict=True)]
            fig.add_trace(scatter(len(g), x=g["filled_qty"], y=g["slippage_bps"], mode="markers", opacity=0.7,
                                     name=f"{ROLE_NAMES.get(role, role)} ({len(g)})", hovertext=text,
                                     marker=dict(symbol=symbols.get(role, "circle"), size=8),
                                     hovertemplate="%{hovertext}<br>slippage %{y:.3f} bps<extra></extra>"))
        fit = sqrt_fit(ex["filled_qty"].to_numpy(float), ex["slippage_bps"].to_numpy(float))
        if fit is not None:
            q = np.linspace(ex["filled_qty"].min(), ex["filled_qty"].max(), 100)
            fig.add_trace(go.Scatter(x=q, y=fit[0] + fit[1] * np.sqrt(q), mode="lines", line=dict(color="black"),
                                     name=f"fit: {fit[0]:.2f} + {fit[1]:.2f}·√qty bps"))
            title += ", with the square-root fit"
        else:
            title += f": no fit (fewer than {MIN_FIT_SIZES} sizes; here {ex['filled_qty'].nunique()})"
    else:
        _say(fig, "no executed orders")
    fig.add_hline(0, line=dict(color="black", width=0.6))
    fig.update_xaxes(title_text="filled quantity per order (base units)", exponentformat="none")
    fig.update_yaxes(title_text="slippage vs arrival mid (bps, + = cost)")
    return _layout(fig, title, 380, legend_title="order role (count)")


def _layout(fig: go.Figure, title: str, height: int, legend_title: str = "") -> go.Figure:
    fig.update_layout(title=dict(text=title, font=dict(size=14)), height=height, template="plotly_white",
                      margin=dict(l=70, r=20, t=50, b=50), legend=dict(title=dict(text=legend_title)))
    return fig


def _say(fig: go.Figure, text: str) -> None:
    """A figure with nothing to draw says why, in words, instead of showing empty axes."""
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False, font=dict(size=14))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)


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


def draw_distributions(run: RunTables) -> go.Figure:
    """Histograms of slippage and shortfall per order, bins at least a tenth of a bp wide."""
    from plotly.subplots import make_subplots

    ex = executed(run)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("slippage vs arrival mid",
                                                        "implementation shortfall vs decision mid"))
    for i, col in enumerate(("slippage_bps", "shortfall_bps"), start=1):
        data = ex[col].dropna() if len(ex) else pd.Series(dtype=float)
        if not len(data):
            sub = fig.get_subplot(1, i)  # paper coordinates: an empty panel's axes are not drawn
            fig.add_annotation(text="no data (e.g. no decision price for TP/SL)", showarrow=False, xref="paper",
                               yref="paper", x=sum(sub.xaxis.domain) / 2, y=sum(sub.yaxis.domain) / 2)
            continue
        v, edges, xlim = histogram_bins(data)
        counts, _ = np.histogram(v, bins=edges)
        name = (f"1 order at {v[0]:.2f} bps" if len(v) == 1 else f"{len(v)} orders"
                + (f", all within {MIN_BIN_BPS / 2:g} bps of {edges.mean():.2f}" if len(edges) == 2 else ""))
        fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges), name=name,
                             marker_color="#1f77b4", opacity=0.85, legendgroup=col,
                             customdata=np.column_stack([edges[:-1], edges[1:]]),
                             hovertemplate="%{customdata[0]:.2f} to %{customdata[1]:.2f} bps: %{y} orders"
                                           "<extra></extra>"), 1, i)
        mean = float(v.mean())
        fig.add_trace(go.Scatter(x=[mean, mean], y=[0, counts.max() * 1.1], mode="lines", legendgroup=col,
                                 line=dict(color="black", dash="dash"), name=f"mean {mean:.2f} bps (per order)"),
                      1, i)
        fig.update_xaxes(range=list(xlim), row=1, col=i)
    fig.update_xaxes(title_text=f"bps (+ = cost; bins at least {MIN_BIN_BPS:g} bps wide)", exponentformat="none")
    fig.update_yaxes(title_text="orders", rangemode="tozero")
    return _layout(fig, "Cost per order", 360)


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


def draw_latency(run: RunTables) -> go.Figure:
    """Empirical CDFs of each leg: decision -> venue has it -> fills -> the bot knows; markers when few."""
    fig = go.Figure()
    legs = latency_legs(run.orders)
    dashes = ("solid", "dot", "dash", "longdash", "dashdot")
    for (label, d, types), dash in zip(legs, dashes, strict=False):
        y = np.arange(1, len(d) + 1) / len(d)
        few = len(d) <= FEW_POINTS
        keep = ranks(len(d))  # the CDF's shape in at most a couple of thousand steps; n counts every order
        fig.add_trace(go.Scatter(x=d[keep], y=y[keep], mode="lines+markers" if few else "lines", name=f"{label} "
                                 f"({', '.join(types)}; n={len(d)})", line=dict(shape="hv", dash=dash, width=2),
                                 marker=dict(size=7, symbol="circle-open"),
                                 hovertemplate="%{x:,.1f} ms: %{y:.0%} of orders<extra></extra>"))
    if not legs:
        _say(fig, "no orders reached the venue")
        return _layout(fig, "Order latency after the decision", 200)
    positive = np.concatenate([d[d > 0] for _, d, _ in legs])
    hi = max(float(d.max()) for _, d, _ in legs)
    lo = float(positive.min()) if len(positive) else 0.0
    if lo > 0 and hi / lo > 20:  # a wide spread: log scale, one label per decade so numbers never run together
        fig.update_xaxes(type="log", range=[np.log10(lo / 1.5), np.log10(hi * 1.5)], dtick=1,
                         title_text="milliseconds after the decision (log scale)")
    else:
        fig.update_xaxes(range=[0, max(hi, 1.0) * 1.15], nticks=8, title_text="milliseconds after the decision")
    fig.update_xaxes(tickformat=",~r", exponentformat="none")
    fig.update_yaxes(range=[0, 1.05], title_text="fraction of orders with the leg", tickformat=".0%")
    shown = sorted({t for _, _, types in legs for t in types}, key=list(TYPE_NAMES.values()).index)
    fig = _layout(fig, "Order latency after the decision (CDF per leg)<br><sup>orders shown: " + ", ".join(shown)
                  + "; fill legs: market and limit orders only (a TP/SL fills when its trigger crosses)</sup>", 420)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
    return fig


def draw_rejects(run: RunTables) -> go.Figure:
    o = run.orders
    rej = o[o["record_status"] == "rejected"]["reject_reason"].fillna("unknown") if len(o) else pd.Series(dtype=str)
    fig = go.Figure()
    if not len(rej):
        _say(fig, f"Rejects by reason: no rejects (of {len(o)} orders)")
        return _layout(fig, "", 120)
    counts = rej.value_counts().sort_values()
    fig.add_trace(go.Bar(x=counts.values, y=counts.index, orientation="h", marker_color="#d62728",
                         text=counts.values, textposition="outside", hovertemplate="%{y}: %{x} orders<extra></extra>"))
    fig.update_xaxes(title_text="orders", rangemode="tozero")
    fig.update_yaxes(automargin=True)
    return _layout(fig, f"Rejects by reason ({len(rej)} of {len(o)} orders)", 160 + 30 * len(counts))


def draw_drift_latency(run: RunTables) -> go.Figure:
    """Each episode at the time it began: how long until detected (filled) and until resolved (open).

    A time axis (linked to the others in the report) instead of one bar per episode: hundreds of
    episodes never crowd their labels, and a hover names each.
    """
    dr = run.drift_episodes
    fig = go.Figure()
    if not len(dr):
        _say(fig, "no drift episodes")
        return _layout(fig, "Drift episodes: how long until detected, and until resolved", 200)
    began = dr["began_ms"].fillna(dr["detected_ms"]).astype("int64")
    for cause, g in dr.assign(_b=began).groupby("cause", sort=True):
        colour = CAUSE_COLOURS.get(str(cause), "grey")
        text = [episode_text(ep) for _, ep in g.iterrows()]
        t = times(g["_b"])
        fig.add_trace(go.Scatter(x=t, y=g["detect_s"].astype(float), mode="markers", legendgroup=str(cause),
                                 name=f"{str(cause).replace('_', ' ')} ({len(g)})", hovertext=text,
                                 marker=dict(color=colour, size=9, line=dict(width=0.5, color="black")),
                                 hovertemplate="%{hovertext}<extra>detection</extra>"))
        fig.add_trace(go.Scatter(x=t, y=g["resolve_s"].fillna(g["detect_s"]).astype(float), mode="markers",
                                 legendgroup=str(cause), showlegend=False, hovertext=text,
                                 marker=dict(color=colour, size=9, symbol="diamond-open"),
                                 hovertemplate="%{hovertext}<extra>time in drift</extra>"))
    top = float(max(dr["resolve_s"].fillna(dr["detect_s"]).max(), dr["detect_s"].max(), 0.001))
    if top > 60:
        fig.update_yaxes(type="log", title_text="seconds (log scale)")
    else:
        fig.update_yaxes(title_text="seconds", rangemode="tozero")
    return time_layout(fig, "Drift episodes by when they began: detection latency (filled) and time in drift "
                       "(open diamond)", height=340, legend_y=-0.2)


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


def draw_costs(run: RunTables) -> go.Figure:
    """The cost of execution split by cause, and the fees outside the split below a dashed line."""
    parts, outside = cost_breakdown(run), fees_outside_split(run)
    names = list(parts) + [f"{k} (outside the split)" for k in outside]
    values = list(parts.values()) + list(outside.values())
    colours = ["#d62728" if v > 0 else "#2ca02c" for v in parts.values()] + ["#bbbbbb"] * len(outside)
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color=colours, text=[money(v) for v in values],
                           textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: %{text}<extra></extra>"))
    if outside:
        fig.add_hline(len(parts) - 0.5, line=dict(color="#666666", dash="dash", width=0.8))
    fig.add_vline(0, line=dict(color="black", width=0.6))
    total = run.summary["pnl"]["execution_cost"]
    lo, hi = min(0.0, *values), max(0.0, *values)
    pad = 0.25 * (hi - lo or 1.0)  # room for the value labels
    fig.update_xaxes(range=[lo - (pad if lo < 0 else 0), hi + pad], title_text="quote currency (+ = cost, − = gain)")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return _layout(fig, "Cost of execution by cause" + (f" (ideal − realistic PnL = {money(total)})"
                                                         if total is not None else " (no ideal twin: run with "
                                                         "--ideal-twin)"), 300 + 30 * len(outside))
