"""A live run's tables, in the same shapes as a simulated run's (`sim.world.tables`).

What a simulation takes from its world (the venue's orders and fills, when a divergence began),
a live run takes from what the bot and the driver saw: the venue's answers to the last reads, the
mid the market stream showed when each order was answered (its arrival price, as measured from
here), and, when the venue is an ``aethersim serve``, the venue's own truth from its operator
endpoint.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from sim.core.ids import parse_client_id
from sim.core.messages import FillReport, OrderReport
from sim.world.runlog import RunLog
from sim.world.tables import _time, execution_columns, record_orders


def fills_frame(fills: Iterable[FillReport]) -> pd.DataFrame:
    rows = []
    for f in fills:
        parsed = parse_client_id(f.client_id)
        source = "liquidation" if f.kind.value == "liquidation" else ("bot" if parsed else "external")
        rows.append((f.ts, f.trade_id, f.client_id, f.side.value, float(f.qty), float(f.price), f.fee,
                     f.kind.value, parsed.role.name.lower() if parsed else None, source))
    df = pd.DataFrame(rows, columns=["ts_ms", "trade_id", "client_id", "side", "qty", "price", "fee", "kind", "role",
                                     "source"])
    df.insert(0, "time", _time(df["ts_ms"]))
    return df


def orders_frame(record_path: Path, venue: dict[str, OrderReport], arrival: dict[str, tuple[int, float, float | None]],
                 fills: Iterable[FillReport]) -> pd.DataFrame:
    """The bot's orders (from its record) with what the venue last said of them and the fills they got.

    ``arrival``: client id -> (venue time the order was answered, the mid and half spread (bps) the
    book stream showed then).
    """
    rec = record_orders(record_path)
    by_order: dict[str, list[FillReport]] = {}
    for f in fills:
        if f.client_id:
            by_order.setdefault(f.client_id, []).append(f)
    rows = []
    for cid in rec["client_id"]:
        rep = venue.get(cid)
        fs = by_order.get(cid, [])
        filled = float(sum(f.qty for f in fs))
        avg = sum(float(f.qty) * float(f.price) for f in fs) / filled if filled else None
        arrived, mid, half = arrival.get(cid, (None, None, None))
        rows.append((cid, rep.status.value if rep is not None else None, arrived, mid, filled, avg,
                     sum(f.fee for f in fs), min((f.ts for f in fs), default=None),
                     max((f.ts for f in fs), default=None), half))
    ven = pd.DataFrame(rows, columns=["client_id", "venue_status", "arrived_ms", "arrival_mid", "filled_qty",
                                      "avg_price", "fees", "first_fill_ms", "last_fill_ms", "half_spread_bps"])
    df = rec.merge(ven, on="client_id", how="left")
    for col in ("arrived_ms", "first_fill_ms", "last_fill_ms"):
        df[col] = df[col].astype("Int64")
    df["arrival_mid"] = df["arrival_mid"].astype(float)
    df["avg_price"] = df["avg_price"].astype(float)
    df["half_spread_bps"] = df["half_spread_bps"].astype(float)
    return execution_columns(df)


def drift_frame(record_path: Path) -> pd.DataFrame:
    """Drift episodes as the bot recorded them, each begun when the venue changed the position: the
    first fill the bot did not expect (a TP/SL, an operator, a liquidation) since the previous
    episode, at the venue's trade time; for an episode without such a fill (an order changed) the
    venue's time of the change the bot found (its evidence), else when the bot detected it."""
    with sqlite3.connect(record_path) as conn:
        df = pd.read_sql_query(
            "SELECT id AS episode, detected_ms, resolved_ms, evidence_ms, kind, cause,"
            " CAST(record_qty AS REAL) AS record_qty, CAST(venue_qty AS REAL) AS venue_qty, correction"
            " FROM drift_episodes ORDER BY id", conn)
        surprises = sorted(int(t) for (t,) in conn.execute("SELECT ts FROM fills WHERE attributed_to != 'expected'"))
    starts, previous = [], None
    for det, ev in zip(df["detected_ms"], df["evidence_ms"], strict=True):
        det = int(det)
        fills = [t for t in surprises if t <= det and (previous is None or t > previous)]
        starts.append(fills[0] if fills else int(ev) if pd.notna(ev) else det)
        previous = det
    df.insert(1, "began_ms", pd.array(starts, dtype="Int64"))
    df["detect_s"] = (df["detected_ms"] - df["began_ms"]) / 1000.0
    df["resolve_s"] = (df["resolved_ms"] - df["began_ms"]) / 1000.0
    df["size_gap"] = (df["record_qty"] - df["venue_qty"]).abs()
    df.insert(0, "time", _time(df["detected_ms"]))
    return df


def log_frames(log: RunLog) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(timeline, events) of the run log, as `sim.world.tables` writes them."""
    tl = log.timeline.frame().rename(columns={"ts": "ts_ms"})
    tl.insert(0, "time", _time(tl["ts_ms"]))
    ev = log.events.frame().rename(columns={"ts": "ts_ms"})
    ev.insert(0, "time", _time(ev["ts_ms"]))
    return tl, ev


__all__ = ["drift_frame", "fills_frame", "log_frames", "orders_frame"]
