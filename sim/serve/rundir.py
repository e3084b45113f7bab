"""The run directory of a served session, written from the venue's side when the server stops.

``summary.json``, ``orders.parquet``, ``fills.parquet``, ``events.parquet``, ``timeline.parquet``
and ``report.html``, as for `aethersim run`, but about a client the venue never saw the inside of:
every order and fill with its latency and execution quality, every fault and intervention, and
the audit of the client's behaviour (`Audit`).
"""
from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from sim.serve.context import Ctx


def _time(ms: pd.Series) -> pd.Series:
    return pd.to_datetime(ms.astype("Int64"), unit="ms", utc=True)


def orders_frame(ctx: Ctx) -> pd.DataFrame:
    timing = ctx.audit.timing
    rows = []
    for o in ctx.world.venue.orders.values():
        sent, answered, outcome = timing.get(o.client_id, (None, None, None))
        rows.append((o.ts_created, o.client_id, o.venue_id, o.source, o.side.value, o.type.value, float(o.qty),
                     None if o.price is None else float(o.price), o.reduce_only, o.status.value, o.arrival_mid,
                     float(o.filled_qty), o.avg_price, o.fees, o.first_fill_ms, sent, answered, outcome,
                     o.half_spread_bps))
    df = pd.DataFrame(rows, columns=["arrived_ms", "client_id", "venue_id", "source", "side", "type", "qty", "price",
                                     "reduce_only", "venue_status", "arrival_mid", "filled_qty", "avg_price", "fees",
                                     "first_fill_ms", "sent_ms", "answered_ms", "answer", "half_spread_bps"])
    sign = df["side"].map({"buy": 1.0, "sell": -1.0})
    df["slippage_bps"] = sign * (df["avg_price"] - df["arrival_mid"]) / df["arrival_mid"] * 1e4
    df["ack_ms"] = df["arrived_ms"] - df["sent_ms"]  # request in at the server -> the venue has it
    df["latency_ms"] = df["answered_ms"] - df["sent_ms"]  # request in -> answer out (simulated ms)
    df.insert(0, "time", _time(df["arrived_ms"]))
    return df


def fills_frame(ctx: Ctx) -> pd.DataFrame:
    rows = [(f.ts, f.trade_id, f.client_id, f.side.value, float(f.qty), float(f.price), f.fee, f.kind.value,
             ctx.world.tap.realized.get(f.trade_id, 0.0)) for f in ctx.world.venue.fills]
    df = pd.DataFrame(rows, columns=["ts_ms", "trade_id", "client_id", "side", "qty", "price", "fee", "kind",
                                     "realized_pnl"])
    df.insert(0, "time", _time(df["ts_ms"]))
    return df


def write_run_dir(ctx: Ctx, out: Path, wall_seconds: float, stopped: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    w = ctx.world
    end = int(w.env.now)
    tables = {"orders": orders_frame(ctx), "fills": fills_frame(ctx)}
    ev = w.log.events.frame().rename(columns={"ts": "ts_ms"})
    ev.insert(0, "time", _time(ev["ts_ms"]))
    tl = w.log.timeline.frame().rename(columns={"ts": "ts_ms"})
    tl.insert(0, "time", _time(tl["ts_ms"]))
    tables.update(events=ev, timeline=tl)
    for name, df in tables.items():
        df.to_parquet(out / f"{name}.parquet", index=False)
    o = tables["orders"]
    mine = o[o["source"] == "bot"]
    v = w.venue
    summary = {
        "scenario": w.scenario.scenario.name, "seed": w.seed, "served": True, "speed": ctx.clock.speed,
        "sim_seconds": (end - w.open_ms) / 1000.0, "wall_seconds": round(wall_seconds, 3), "stopped": stopped,
        "requests": dict(sorted(ctx.audit.requests.items())),
        "orders": {"submitted": int(len(mine)), "filled": int((mine["venue_status"] == "filled").sum()),
                   "cancelled": int((mine["venue_status"] == "cancelled").sum()),
                   "external": int((o["source"] != "bot").sum())},
        "fills": int(len(tables["fills"])),
        "execution": {"slippage_bps_mean": _r(mine["slippage_bps"].mean()), "fees": _r(mine["fees"].sum()),
                      "latency_ms_p50": _r(mine["latency_ms"].median()),
                      "latency_ms_p99": _r(mine["latency_ms"].quantile(0.99))},
        "transport": {"requests": ctx.link.requests, "unknown_status": ctx.link.unknown,
                      "expired": ctx.link.expired, "refused_by_gateway": w.gateway.refused,
                      "updates_sent": w.updates.sent, "updates_dropped": w.updates.dropped,
                      "rate_limited_429": ctx.limiter.refused_429, "banned_418": ctx.limiter.refused_418},
        "position": str(v.book.qty), "wallet": v.book.wallet, "equity": v.equity(end),
        "initial_balance": v.initial_balance, "funding": v.book.funding, "transfers": v.book.transfers,
        "audit": ctx.audit.summary(end),
        "simulation_errors": ctx.clock.errors,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (out / "report.html").write_text(_report(summary, tables))
    return out


def _r(x: float) -> float | None:
    return None if pd.isna(x) else round(float(x), 3)


def _report(summary: dict, tables: dict[str, pd.DataFrame]) -> str:
    """A self-contained page: the summary, the audit, the orders and the faults and interventions."""
    ev = tables["events"]
    notable = ev[ev["kind"].astype(str).str.startswith(("intervention", "audit", "request_", "funding"))]
    parts = [f"<h1>aethersim serve: {html.escape(summary['scenario'])}</h1>",
             f"<p>{summary['sim_seconds']:.0f} s simulated in {summary['wall_seconds']:.0f} s; stopped: "
             f"{html.escape(summary['stopped'])}</p>",
             "<h2>Audit of the client</h2>", f"<pre>{html.escape(json.dumps(summary['audit'], indent=2))}</pre>",
             "<h2>Summary</h2>", f"<pre>{html.escape(json.dumps(summary, indent=2, default=str))}</pre>",
             "<h2>Orders</h2>", tables["orders"].drop(columns=["time"]).to_html(index=False, na_rep=""),
             "<h2>Faults, interventions and the audit's events</h2>",
             notable.drop(columns=["time"]).to_html(index=False, na_rep="")]
    return "<!doctype html><meta charset=utf-8><title>aethersim serve</title>" + "\n".join(parts)
