"""The summary's stale actions and unintended exposure, for a live run, from the record and the fills.

A simulation counts them as they happen, watching the venue and the record side by side
(`sim.world.truth`). A live run has the same two sources afterwards: the account's every fill
(the venue's trade history, which gives the venue's position at any instant) and the platform
record (its position history, its orders and decisions), on one clock (the venue's, as the bot
learnt it). The definitions are the simulation's:

- a *stale action*: an order of ours sent while the record's position differed from the venue's;
- a *duplicate*: one intent of the bot live or filled twice at the venue;
- *unintended exposure*: a fill of one of our (non-protective) orders that grew the position past
  the target the bot had decided, or to the other side of it.
"""
from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from sim.core.ids import parse_client_id
from sim.core.messages import FillReport, OrderReport
from sim.core.types import FillKind, OrderRole

PROTECTIVE = (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS)


def _venue_position(fills: list[FillReport]) -> tuple[list[int], list[Decimal]]:
    """(times, position after each fill) of the account, in time order."""
    times, after, pos = [], [], Decimal(0)
    for f in fills:
        pos += f.qty * f.side.sign
        times.append(f.ts)
        after.append(pos)
    return times, after


def _at(times: list[int], values: list[Decimal], t: int, strict: bool = True) -> Decimal:
    """The value as of ``t`` (only changes before ``t`` when ``strict``)."""
    i = (bisect.bisect_left if strict else bisect.bisect_right)(times, t)
    return values[i - 1] if i else Decimal(0)


def stale_actions(record_path: Path, fills: Iterable[FillReport]) -> int:
    ordered = sorted(fills, key=lambda f: (f.ts, f.trade_id))
    v_times, v_pos = _venue_position(ordered)
    with sqlite3.connect(record_path) as conn:
        history = conn.execute("SELECT ts, qty FROM position_history ORDER BY ts, id").fetchall()
        sent = conn.execute("SELECT MIN(ts) FROM order_transitions WHERE to_status = 'sent' GROUP BY client_id"
                            ).fetchall()
    r_times = [int(t) for t, _ in history]
    r_pos = [Decimal(q) for _, q in history]
    return sum(1 for (t,) in sent if t is not None and
               _at(r_times, r_pos, int(t), strict=False) != _at(v_times, v_pos, int(t)))


def unintended_exposure(record_path: Path, fills: Iterable[FillReport], bot_id: str) -> int:
    with sqlite3.connect(record_path) as conn:
        decided = conn.execute("SELECT ts, target_qty FROM decisions ORDER BY ts, id").fetchall()
    d_times = [int(t) for t, _ in decided]
    targets = [None if q is None else Decimal(q) for _, q in decided]
    count, pos = 0, Decimal(0)
    for f in sorted(fills, key=lambda f: (f.ts, f.trade_id)):
        before, pos = pos, pos + f.qty * f.side.sign
        parsed = parse_client_id(f.client_id)
        if parsed is None or parsed.bot_id != bot_id or parsed.role in PROTECTIVE or f.kind is not FillKind.TRADE:
            continue
        i = bisect.bisect_right(d_times, f.ts)
        target = targets[i - 1] if i else None
        if target is not None and pos != 0 and (target * pos < 0 or abs(pos) > abs(target)) and \
                abs(pos) > abs(before):
            count += 1
    return count


def duplicates(orders: dict[str, OrderReport], fills: Iterable[FillReport]) -> int:
    """Second (third, ...) orders of one intent that the venue has live or filled: one decision
    became two orders there (the simulation's invariant 3, from the venue's answers)."""
    filled = {f.client_id for f in fills if f.client_id}
    by_intent: dict[tuple, int] = {}
    for cid, rep in orders.items():
        parsed = parse_client_id(cid)
        if parsed is not None and (rep.status.is_open or cid in filled):
            by_intent[parsed.intent_key] = by_intent.get(parsed.intent_key, 0) + 1
    return sum(n - 1 for n in by_intent.values() if n > 1)


__all__ = ["duplicates", "stale_actions", "unintended_exposure"]
