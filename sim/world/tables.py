"""The run's tables as DataFrames, built once at the end from the venue, the log and the record.

Times are kept twice: ``*_ms`` integer milliseconds (exact, for arithmetic) and a UTC datetime
column (for people and plots).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from sim.core.ids import parse_client_id
from sim.world.build import World


def _time(ms: pd.Series) -> pd.Series:
    return pd.to_datetime(ms.astype("Int64"), unit="ms", utc=True)


def fills_frame(world: World) -> pd.DataFrame:
    rows = []
    for f in world.venue.fills:
        parsed = parse_client_id(f.client_id)
        source = "liquidation" if f.kind.value == "liquidation" else ("bot" if parsed else "external")
        rows.append((f.ts, f.trade_id, f.client_id, f.side.value, float(f.qty), float(f.price), f.fee,
                     f.kind.value, parsed.role.name.lower() if parsed else None, source))
    df = pd.DataFrame(rows, columns=["ts_ms", "trade_id", "client_id", "side", "qty", "price", "fee", "kind", "role",
                                     "source"])
    df.insert(0, "time", _time(df["ts_ms"]))
    return df


def record_orders(record_path: Path) -> pd.DataFrame:
    """The bot's orders as its record holds them, with when each was first answered and whether it
    ever went unknown: the record's half of the orders table, simulated or live."""
    with sqlite3.connect(record_path) as conn:
        rec = pd.read_sql_query(
            "SELECT o.client_id, o.role, o.side, o.type, CAST(o.qty AS REAL) AS qty, o.reduce_only,"
            " CAST(o.trigger_price AS REAL) AS trigger_price, o.status AS record_status, o.reject_reason,"
            " o.decision_id, o.decision_price, o.created_ms AS decided_ms, t.answered_ms,"
            " COALESCE(t.went_unknown, 0) AS went_unknown"
            " FROM orders o LEFT JOIN ("
            "   SELECT client_id,"
            "          MIN(CASE WHEN to_status NOT IN ('new', 'sent', 'unknown') THEN ts END) AS answered_ms,"
            "          SUM(to_status = 'unknown') AS went_unknown"
            "   FROM order_transitions GROUP BY client_id) t ON t.client_id = o.client_id"
            " ORDER BY o.created_ms, o.intent", conn)
    return rec


def execution_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Add the execution-quality columns to the orders joined with the venue's view of them
    (``arrived_ms``, ``arrival_mid``, ``filled_qty``, ``avg_price``, ``fees``, first and last fill,
    ``half_spread_bps``): slippage, shortfall, latencies and the cost split by cause."""
    df["filled_qty"] = df["filled_qty"].fillna(0.0)
    df["fees"] = df["fees"].fillna(0.0)
    df["reduce_only"] = df["reduce_only"].astype(bool)
    sign = df["side"].map({"buy": 1.0, "sell": -1.0})
    df["slippage_bps"] = sign * (df["avg_price"] - df["arrival_mid"]) / df["arrival_mid"] * 1e4
    df["shortfall_bps"] = sign * (df["avg_price"] - df["decision_price"]) / df["decision_price"] * 1e4
    df["latency_ms"] = df["answered_ms"] - df["decided_ms"]
    df["ack_ms"] = df["arrived_ms"] - df["decided_ms"]  # decision -> venue has it
    df["first_fill_after_ms"] = df["first_fill_ms"] - df["decided_ms"]
    df["last_fill_after_ms"] = df["last_fill_ms"] - df["decided_ms"]
    notional = df["filled_qty"] * df["arrival_mid"]
    # cost of each fill in quote currency, split by cause (positive = a cost)
    df["spread_cost"] = df["half_spread_bps"] * notional / 1e4
    df["impact_cost"] = (df["slippage_bps"] - df["half_spread_bps"]) * notional / 1e4
    df["delay_cost"] = sign * (df["arrival_mid"] - df["decision_price"]) * df["filled_qty"]
    df.insert(0, "time", _time(df["decided_ms"]))
    return df


def orders_frame(world: World, record_path: Path) -> pd.DataFrame:
    """The bot's orders (from its record) with what the venue saw of them."""
    rec = record_orders(record_path)
    venue_rows = []
    for o in world.venue.orders.values():
        venue_rows.append((o.client_id, o.status.value, o.ts_created, o.arrival_mid, float(o.filled_qty),
                           o.avg_price, o.fees, o.first_fill_ms, o.last_fill_ms, o.half_spread_bps))
    for a in world.venue.algo.registry:  # a TP/SL through the algo service: its execution is its child's
        c = a.child
        venue_rows.append((a.client_algo_id, a.status.value, a.ts_created,
                           *((c.arrival_mid, float(c.filled_qty), c.avg_price, c.fees, c.first_fill_ms,
                              c.last_fill_ms, c.half_spread_bps) if c is not None else
                             (None, 0.0, None, 0.0, None, None, None))))
    ven = pd.DataFrame(venue_rows, columns=["client_id", "venue_status", "arrived_ms", "arrival_mid", "filled_qty",
                                            "avg_price", "fees", "first_fill_ms", "last_fill_ms", "half_spread_bps"])
    return execution_columns(rec.merge(ven, on="client_id", how="left"))


def drift_frame(world: World, record_path: Path) -> pd.DataFrame:
    """Drift episodes from the record, with when each began according to the world's ground truth."""
    with sqlite3.connect(record_path) as conn:
        df = pd.read_sql_query(
            "SELECT id AS episode, detected_ms, resolved_ms, evidence_ms, kind, cause,"
            " CAST(record_qty AS REAL) AS record_qty, CAST(venue_qty AS REAL) AS venue_qty, correction"
            " FROM drift_episodes ORDER BY id", conn)
    began = []
    for det, ev, kind in zip(df["detected_ms"], df["evidence_ms"], df["kind"], strict=True):
        b = world.truth.began_for(int(det), kind)
        if b is None and pd.notna(ev):
            b = int(ev)
        began.append(b if b is not None else int(det))
    df.insert(1, "began_ms", pd.array(began, dtype="Int64"))
    df["detect_s"] = (df["detected_ms"] - df["began_ms"]) / 1000.0
    df["resolve_s"] = (df["resolved_ms"] - df["began_ms"]) / 1000.0
    df["size_gap"] = (df["record_qty"] - df["venue_qty"]).abs()
    df.insert(0, "time", _time(df["detected_ms"]))
    return df


def timeline_frame(world: World) -> pd.DataFrame:
    df = world.log.timeline.frame().rename(columns={"ts": "ts_ms"})
    df.insert(0, "time", _time(df["ts_ms"]))
    return df


def events_frame(world: World) -> pd.DataFrame:
    df = world.log.events.frame().rename(columns={"ts": "ts_ms"})
    df.insert(0, "time", _time(df["ts_ms"]))
    return df
