"""The run's time figures (position, price, equity) as Plotly figures a reader zooms, pans and hovers.

Plotly, not Bokeh: its figures are plain JSON, `include_plotlyjs` embeds the library once in a
page that then works offline, the same objects render inline in Jupyter (and in VS Code and
Colab) with no server, and NautilusTrader and freqtrade users already read Plotly charts.

What is drawn is thinned (`sim.report.decimate`), what is measured never is: every fill, order
level and drift episode is its own point with its own hover text.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.report.decimate import minmax_rows, step_envelope
from sim.report.tables import RunTables

CAUSE_COLOURS = {
    "take_profit_fill": "#2ca02c", "stop_loss_fill": "#d62728", "liquidation": "#7f0000",
    "external_change": "#9467bd", "partial_fill": "#ff7f0e", "missed_fill": "#8c564b",
    "order_vanished": "#e377c2", "unknown_order": "#7f7f7f", "protective_mismatch": "#bcbd22",
    "restart": "#17becf", "unexplained": "#000000",
}
ROLE_NAMES = {"en": "entry", "ex": "exit", "tp": "take-profit", "sl": "stop-loss", "entry": "entry", "exit": "exit",
              "take_profit": "take-profit", "stop_loss": "stop-loss"}
TIME_HEIGHT = 330  # px of one time panel: tall enough to read, short enough for three on a laptop screen
GL_ABOVE = 5000  # marks in one trace above which the browser draws them with WebGL (SVG slows past a few thousand)


def scatter(n: int, **kw: object) -> go.Scatter | go.Scattergl:
    """A scatter trace of ``n`` marks: SVG for the usual few hundred, WebGL for tens of thousands."""
    return go.Scattergl(**kw) if n > GL_ABOVE else go.Scatter(**kw)


def times(ms: pd.Series | np.ndarray) -> np.ndarray:
    """Integer UTC milliseconds as naive UTC datetimes (Plotly draws them as they are: UTC)."""
    return pd.to_datetime(np.asarray(ms, dtype="int64"), unit="ms").to_numpy()


def _ts(df: pd.DataFrame) -> np.ndarray:
    return df["ts_ms"].to_numpy(np.int64) if "ts_ms" in df.columns else df.index.asi8 // 1_000_000


def time_layout(fig: go.Figure, title: str, height: int = TIME_HEIGHT, legend_y: float = -0.18) -> go.Figure:
    """The look every time figure shares: a title, UTC axis, legend below, zoom by dragging."""
    fig.update_layout(title=dict(text=title, font=dict(size=14)), height=height, template="plotly_white",
                      margin=dict(l=70, r=20, t=50, b=40), hovermode="closest",
                      legend=dict(orientation="h", yanchor="top", y=legend_y, x=0, font=dict(size=11)))
    fig.update_xaxes(type="date", showspikes=True, spikemode="across", spikethickness=1)
    return fig


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


def episode_text(ep: pd.Series) -> str:
    """One drift episode in a few hover lines: what, when, how long, what the bot corrected."""
    began = pd.to_datetime(ep["began_ms"] if pd.notna(ep["began_ms"]) else ep["detected_ms"], unit="ms")
    resolve = ep["resolve_s"]
    return (f"<b>drift #{int(ep['episode'])}: {str(ep['cause']).replace('_', ' ')}</b> ({ep['kind']})"
            f"<br>began {began:%Y-%m-%d %H:%M:%S.%f}"[:-3]
            + f"<br>detected after {ep['detect_s']:.3f} s"
            + ("" if pd.isna(resolve) else f", resolved after {resolve:.3f} s")
            + f"<br>record {ep['record_qty']:g} vs venue {ep['venue_qty']:g}"
            + f"<br>correction: {str(ep['correction'])[:160]}")


def draw_position(run: RunTables) -> go.Figure:
    """Record vs venue position, the gap (drift red, order in flight grey), and the drift episodes.

    Episodes are drawn at their true width in their own band (zoom in to see one of seconds in a
    run of days), each marked by a triangle where it began that carries its details on hover.
    """
    tl, dr = run.timeline, run.drift_episodes
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.62, 0.24, 0.14])
    if len(tl):
        ts = _ts(tl)
        venue, record = tl["exchange_qty"].to_numpy(float), tl["record_qty"].to_numpy(float)
        rows = step_envelope(ts, venue, record)
        t = times(ts[rows])
        fig.add_trace(go.Scatter(x=t, y=venue[rows], name="venue (truth)", line=dict(shape="hv", width=2.4,
                                 color="#1f77b4"), hovertemplate="venue %{y:g}<br>%{x}<extra></extra>"), 1, 1)
        fig.add_trace(go.Scatter(x=t, y=record[rows], name="platform record", line=dict(
            shape="hv", width=1.3, dash="dash", color="#ff7f0e"),
            hovertemplate="record %{y:g}<br>%{x}<extra></extra>"), 1, 1)
        gap = record - venue
        flight = in_flight_mask(ts, run.orders, dr) & (gap != 0)
        drift, grey = np.where(flight, 0.0, gap), np.where(flight, gap, 0.0)
        rows = step_envelope(ts, drift, grey)
        t = times(ts[rows])
        if grey.any():
            fig.add_trace(go.Scatter(x=t, y=grey[rows], name="record − venue: order in flight, not drift",
                                     line=dict(shape="hv", width=1, color="#9a9a9a"),
                                     hovertemplate="in flight %{y:g}<extra></extra>"), 2, 1)
        fig.add_trace(go.Scatter(x=t, y=drift[rows], name="record − venue: drift" + ("" if drift.any() else " (none)"),
                                 line=dict(shape="hv", width=1.4, color="#d62728"),
                                 hovertemplate="drift gap %{y:g}<extra></extra>"), 2, 1)
    if len(dr):
        end_ms = dr["resolved_ms"].fillna(dr["detected_ms"]).astype("float64")
        began_ms = dr["began_ms"].fillna(dr["detected_ms"]).astype("float64")  # began may be unknown
        for cause, g in dr.assign(_end=end_ms, _began=began_ms).groupby("cause", sort=True):
            colour = CAUSE_COLOURS.get(str(cause), "grey")
            b, e = g["_began"].to_numpy(), g["_end"].to_numpy()
            xs, ys = [], []
            for b0, e0 in zip(b, e, strict=True):
                xs += [b0, b0, e0, e0, b0, np.nan]
                ys += [0, 1, 1, 0, 0, None]
            x = pd.to_datetime(pd.Series(xs), unit="ms")
            fig.add_trace(go.Scatter(x=x, y=ys, fill="toself", mode="lines", line=dict(width=0.5, color=colour),
                                     fillcolor=colour, opacity=0.45, legendgroup=str(cause), showlegend=False,
                                     hoverinfo="skip"), 3, 1)
            fig.add_trace(go.Scatter(x=times(b.astype(np.int64)), y=np.full(len(g), 0.5), mode="markers",
                                     marker=dict(symbol="triangle-down", size=10, color=colour,
                                                 line=dict(width=0.5, color="black")),
                                     name=f"drift: {str(cause).replace('_', ' ')} ({len(g)})", legendgroup=str(cause),
                                     hovertext=[episode_text(ep) for _, ep in g.iterrows()],
                                     hovertemplate="%{hovertext}<extra></extra>"), 3, 1)
    fig.add_hline(0, line=dict(color="black", width=0.6), row=1, col=1)
    fig.update_yaxes(title_text="position (base, + long)", row=1, col=1)
    fig.update_yaxes(title_text="record − venue", row=2, col=1)
    fig.update_yaxes(range=[0, 1], showticklabels=False, showgrid=False, title_text="drift", row=3, col=1,
                     fixedrange=True)
    time_layout(fig, "Position: platform record vs venue; drift episodes at their true width (drag to zoom)",
                height=520, legend_y=-0.08)
    return fig


ROLE_STYLES = (("entry", "buy", "triangle-up", "#2ca02c", "entry buy"),
               ("entry", "sell", "triangle-down", "#d62728", "entry sell"),
               ("exit", None, "square", "#555555", "exit"),
               ("take_profit", None, "star", "#17becf", "take-profit fill"),
               ("stop_loss", None, "x", "#ff7f0e", "stop-loss fill"))
EVENT_GROUPS = {"operator": ("operator action", "#9467bd", "dot"), "market": ("market fault", "#8c564b", "dash"),
                "transport": ("transport fault", "#555555", "dashdot"),
                "process": ("bot process", "#000000", "longdash")}
EVENT_KINDS = {
    "external_close": "operator", "external_reduce": "operator", "external_add": "operator",
    "cancel_protective": "operator", "move_protective": "operator", "set_leverage": "operator",
    "transfer_out": "operator", "transfer_in": "operator", "external_order": "operator",
    "price_gap": "market", "thin_liquidity": "market", "latency_spike": "transport", "outage": "transport",
    "drop_updates": "transport", "bot_crash": "process",
}


def event_label(kind: str) -> tuple[str, str, str]:
    """Group label (``operator action: external close``), colour and dash of a world event."""
    kind = kind.removeprefix("intervention_")
    label, colour, dash = EVENT_GROUPS[EVENT_KINDS.get(kind, "operator")]
    return f"{label}: {kind.replace('_', ' ')}", colour, dash


def _fill_text(f: pd.DataFrame) -> list[str]:
    return [f"<b>{ROLE_NAMES.get(str(r), str(r))} {s} {q:g} @ {p:,.2f}</b><br>{c}<br>fee {fee:,.4f}<br>{t}"
            for r, s, q, p, c, fee, t in zip(f["role"], f["side"], f["qty"], f["price"], f["client_id"], f["fee"],
                                             times(_ts(f)).astype("datetime64[ms]").astype(str), strict=True)]


def draw_price(run: RunTables) -> go.Figure:
    """Mid (min/max per pixel), every fill by role, TP/SL levels while live, orders never filled, world events."""
    tl, fills, ev, orders = run.timeline, run.fills, run.events, run.orders
    fig = go.Figure()
    lo = hi = None
    if len(tl):
        ts, mid = _ts(tl), tl["mid"].to_numpy(float)
        rows = minmax_rows(ts, mid)
        fig.add_trace(go.Scatter(x=times(ts[rows]), y=mid[rows], name="mid", line=dict(width=1, color="#444444"),
                                 hovertemplate="mid %{y:,.2f}<br>%{x}<extra></extra>"))
        lo, hi = float(np.nanmin(mid)), float(np.nanmax(mid))
    if len(fills):
        ours = fills[fills["source"] == "bot"]
        for role, side, symbol, colour, label in ROLE_STYLES:
            f = ours[(ours["role"] == role) & ((ours["side"] == side) if side else True)]
            if len(f):
                fig.add_trace(_markers(f, symbol, colour, 9, f"{label} ({len(f)})", _fill_text(f)))
        for source, symbol, colour, size, label in (("external", "diamond", "#9467bd", 9, "external fill"),
                                                    ("liquidation", "cross", "#7f0000", 14, "liquidation fill")):
            f = fills[fills["source"] == source]
            if len(f):
                fig.add_trace(_markers(f, symbol, colour, size, f"{label} ({len(f)})", _fill_text(f)))
    if len(ev):
        _levels(fig, ev, tl)
        world = ev[ev["kind"].str.startswith("intervention_")]
        if len(world) and lo is not None:
            for group, (label, colour, dash) in EVENT_GROUPS.items():
                g = world[[EVENT_KINDS.get(k.removeprefix("intervention_"), "operator") == group
                           for k in world["kind"]]]
                if not len(g):
                    continue
                t = times(_ts(g))
                text = [f"<b>{event_label(k)[0]}</b><br>{d}" for k, d in zip(g["kind"], g["detail"].astype(str),
                                                                             strict=True)]
                fig.add_trace(go.Scatter(x=np.repeat(t, 3), y=np.tile([lo, hi, None], len(g)), mode="lines",
                                         line=dict(color=colour, dash=dash, width=1.2), name=f"{label} ({len(g)})",
                                         meta="event",
                                         hovertext=np.repeat(text, 3), hovertemplate="%{hovertext}<extra></extra>"))
    if len(orders):
        unfilled = orders[(orders["filled_qty"] <= 0) & ~orders["type"].isin(["take_profit_market", "stop_market"])]
        price = unfilled["decision_price"] if "decision_price" in unfilled.columns else None
        if price is not None and len(unfilled[price.notna()]):
            u = unfilled[price.notna()]
            text = [f"<b>{ROLE_NAMES.get(str(r), r)} {s} {q:g} ({ty}) not filled: {st}</b><br>{c}<br>{why or ''}"
                    for r, s, q, ty, st, c, why in zip(u["role"], u["side"], u["qty"], u["type"], u["record_status"],
                                                       u["client_id"], u["reject_reason"], strict=True)]
            fig.add_trace(scatter(len(u), x=times(u["decided_ms"]), y=u["decision_price"], mode="markers",
                                     marker=dict(symbol="circle-open", size=8, color="#b00000"),
                                     name=f"order not filled ({len(u)})", hovertext=text,
                                     hovertemplate="%{hovertext}<br>decided at %{y:,.2f}<extra></extra>"))
    fig.update_yaxes(title_text="price (quote)")
    return time_layout(fig, "Price with every fill, TP/SL levels while live, and world events (hover for details)",
                       height=440, legend_y=-0.12)


def _markers(f: pd.DataFrame, symbol: str, colour: str, size: int, name: str,
             text: list[str]) -> go.Scatter | go.Scattergl:
    return scatter(len(f), x=times(_ts(f)), y=f["price"], mode="markers", name=name, hovertext=text, meta="fill",
                   marker=dict(symbol=symbol, size=size, color=colour, line=dict(width=0.6, color="black")),
                   hovertemplate="%{hovertext}<extra></extra>")


def _levels(fig: go.Figure, ev: pd.DataFrame, tl: pd.DataFrame) -> None:
    """TP and SL trigger levels from acceptance to fill, cancel or expiry: one trace per kind, one hover per order."""
    acc = ev[(ev["kind"] == "order_accepted") & ev["price"].notna() & ev["client_id"].notna()]
    ends = ev[ev["kind"].isin(["order_filled", "order_cancelled", "order_expired"])]
    end_of = dict(zip(ends["client_id"], _ts(ends), strict=False))
    end_kind = dict(zip(ends["client_id"], ends["kind"].str.removeprefix("order_"), strict=False))
    last = int(_ts(tl).max()) if len(tl) else None
    cids = acc["client_id"].astype(str)
    for tag, name, colour in (("-tp-", "take-profit level", "#17becf"), ("-sl-", "stop-loss level", "#ff7f0e")):
        lv = acc[cids.str.contains(tag, regex=False)]
        if not len(lv):
            continue
        start = _ts(lv)
        stop = np.array([end_of.get(c, last) for c in lv["client_id"]], dtype=np.int64)
        x = np.column_stack([times(start), times(stop), np.full(len(lv), np.datetime64("NaT"))]).ravel()
        y = np.column_stack([lv["price"], lv["price"], np.full(len(lv), np.nan)]).ravel()
        text = [f"<b>{name} {p:,.2f}</b><br>{c}<br>ended: {end_kind.get(c, 'live at the end')}"
                for c, p in zip(lv["client_id"], lv["price"], strict=True)]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line=dict(color=colour, width=1.2), opacity=0.8,
                                 name=f"{name} ({len(lv)})", hovertext=np.repeat(text, 3),
                                 hovertemplate="%{hovertext}<extra></extra>"))


def draw_equity(run: RunTables) -> go.Figure:
    """Realistic equity against the ideal (test-mode) twin's: the gap is the cost of execution."""
    tl, ideal = run.timeline, run.ideal_timeline
    twin = ideal is not None and len(ideal) > 0
    fig = go.Figure()
    if len(tl):
        ts, eq = _ts(tl), tl["equity"].to_numpy(float)
        rows = minmax_rows(ts, eq)
        fig.add_trace(go.Scatter(x=times(ts[rows]), y=eq[rows], name="realistic execution", line=dict(width=1.6),
                                 hovertemplate="realistic %{y:,.2f}<br>%{x}<extra></extra>"))
    if twin:
        ts, eq = _ts(ideal), ideal["equity"].to_numpy(float)
        rows = minmax_rows(ts, eq)
        fig.add_trace(go.Scatter(x=times(ts[rows]), y=eq[rows], name="ideal execution (test-mode twin)",
                                 line=dict(width=1.3, dash="dash"),
                                 hovertemplate="ideal %{y:,.2f}<br>%{x}<extra></extra>"))
        title = "Equity: realistic vs ideal execution (the gap is the cost of execution)"
    else:
        title = "Equity under realistic execution (no ideal twin in this run)"
        fig.add_annotation(text="no ideal twin was run (--no-ideal-twin), so there is no cost of execution to show",
                           xref="paper", yref="paper", x=0, y=1.02, showarrow=False, xanchor="left",
                           font=dict(size=11, color="#555555"))
    fig.update_yaxes(title_text="equity (quote)")
    return time_layout(fig, title, height=320, legend_y=-0.2)
