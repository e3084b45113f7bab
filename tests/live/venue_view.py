"""Invariant 2 (the record equals the venue at the end) with the venue's algo orders counted.

`sim.world.invariants.record_matches_truth` compares the record's open orders with the venue's
resting (regular) orders; on Binance's contract a TP/SL is an algo order, listed apart.
"""
from __future__ import annotations

from typing import Any

from sim.core.ids import parse_client_id


def record_matches_venue(record: Any, venue: Any) -> list[str]:
    rec = record.state
    problems = []
    if rec.position.qty != venue.book.qty:
        problems.append(f"record position {rec.position.qty} != venue {venue.book.qty}")
    elif venue.book.qty != 0 and abs(float(rec.position.entry) - venue.book.entry) > 1e-4 * venue.book.entry:
        problems.append(f"record entry {rec.position.entry} != venue {venue.book.entry}")
    live = [o.client_id for o in venue.resting]
    algo = getattr(venue, "algo", None)
    if algo is not None:
        live += [a.client_algo_id for a in algo.open_orders()]
    ours = {c for c in live if (p := parse_client_id(c)) and p.bot_id == record.bot_id}
    believed = {cid for cid, o in rec.orders.items() if o.status.is_open}
    if ours != believed:
        problems.append(f"open orders: venue {sorted(ours)} vs record {sorted(believed)}")
    return problems
