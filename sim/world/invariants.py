"""DESIGN.md section 8, checked on every run from the world's ground truth.

Each check returns the problems it found (empty: it holds). The runner puts the verdicts in
``summary.json`` so a batch can count failures, and the property tests assert them over random
scenarios and fault schedules.
"""
from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from sim.core.ids import parse_client_id
from sim.core.types import FillKind, OrderRole
from sim.world.build import World

PROTECTIVE = (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS)
LEVERAGE_SLACK = 0.02


def conservation(world: World) -> list[str]:
    """1. The position is the signed sum of fills; the wallet is balance + realized - fees + funding + transfers."""
    v = world.venue
    signed = sum((f.qty * f.side.sign for f in v.fills), Decimal(0))
    problems = []
    if signed != v.book.qty:
        problems.append(f"position {v.book.qty} != signed sum of fills {signed}")
    b = v.book
    expected = v.initial_balance + b.realized_pnl - b.fees + b.funding + b.transfers
    if abs(b.wallet - expected) > 1e-6 * max(1.0, abs(expected)):
        problems.append(f"wallet {b.wallet:.6f} != balance + realized - fees + funding + transfers {expected:.6f}")
    return problems


def record_matches_truth(world: World) -> list[str]:
    """2. After the final reconcile, the record's position and our open orders equal the venue's."""
    rec, v = world.record.state, world.venue
    problems = []
    if rec.position.qty != v.book.qty:
        problems.append(f"record position {rec.position.qty} != venue {v.book.qty}")
    elif v.book.qty != 0:
        entry = float(rec.position.entry)
        if abs(entry - v.book.entry) > 1e-4 * v.book.entry:
            problems.append(f"record entry {entry} != venue {v.book.entry}")
    ours = {o.client_id for o in v.resting if (p := parse_client_id(o.client_id)) and p.bot_id == world.record.bot_id}
    ours |= {a.client_algo_id for a in v.algo.open_orders()  # conditional orders live in the algo service
             if (p := parse_client_id(a.client_algo_id)) and p.bot_id == world.record.bot_id}
    believed = {cid for cid, o in rec.orders.items() if o.status.is_open}
    if ours != believed:
        problems.append(f"open orders: venue {sorted(ours)} vs record {sorted(believed)}")
    return problems


def one_live_order_per_intent(world: World) -> list[str]:
    """3. One intent never becomes two live orders."""
    return [f"{world.truth.duplicates} duplicate live orders"] if world.truth.duplicates else []


def reduce_only_and_protection(world: World) -> list[str]:
    """4. Reduce-only fills never increase exposure; protective orders never exceed the live position
    and none is left live on a flat position (checked after the final reconcile and protection pass,
    and right after each bot action: a protective order accepted, a bot fill)."""
    problems = list(world.truth.protection_breaches[:5])
    pos = Decimal(0)
    orders = world.venue.orders
    for f in world.venue.fills:
        after = pos + f.qty * f.side.sign
        order = orders.get(f.client_id) if f.client_id else None
        if order is not None and order.reduce_only and abs(after) > abs(pos):
            problems.append(f"reduce-only {f.client_id} took |position| from {abs(pos)} to {abs(after)}")
        pos = after
    qty = world.venue.book.qty
    for o in world.venue.resting:
        p = parse_client_id(o.client_id)
        if p is None or p.role not in PROTECTIVE:
            continue
        if qty == 0:
            problems.append(f"protective {o.client_id} live on a flat position")
        elif o.remaining > abs(qty):
            problems.append(f"protective {o.client_id} for {o.remaining} exceeds the position {abs(qty)}")
    return problems


def exposure_limits(world: World) -> list[str]:
    """5. Bot fills never push the position past the configured limits: ``max_position`` (base units)
    and ``max_leverage`` (notional / equity, at the mid and equity right after the fill; a margin of
    ``LEVERAGE_SLACK`` allows for the price moving between the bot's decision and the fill)."""
    problems = []
    limit = world.scenario.bot.max_position
    if limit is not None:
        pos = Decimal(0)
        for f in world.venue.fills:
            before, pos = pos, pos + f.qty * f.side.sign
            if parse_client_id(f.client_id) is not None and f.kind is FillKind.TRADE and abs(pos) > limit \
                    and abs(pos) > abs(before):
                problems.append(f"bot fill {f.client_id} took the position to {pos} past max_position {limit}")
    lev = world.scenario.bot.max_leverage
    if lev is not None:
        for ts, cid, qty, used in world.truth.exposure_steps:
            if used > lev * (1 + LEVERAGE_SLACK):
                problems.append(f"t={ts}: bot fill {cid} took the position to {qty}, {used:.3f}x equity, "
                                f"past max_leverage {lev}")
    return problems


def no_fill_missing(world: World, record_path: Path) -> list[str]:
    """7. Every fill on the account is in the platform record (also across crashes and restarts)."""
    with sqlite3.connect(record_path) as conn:
        recorded = {r[0] for r in conn.execute("SELECT trade_id FROM fills")}
    missing = [f.trade_id for f in world.venue.fills if f.trade_id not in recorded]
    return [f"fills missing from the record: {missing[:5]}{'...' if len(missing) > 5 else ''}"] if missing else []


def check_all(world: World, record_path: Path) -> dict[str, list[str]]:
    """Every invariant's problems, by name (invariant 6, determinism, needs two runs: see the tests)."""
    return {
        "conservation": conservation(world),
        "record_matches_truth": record_matches_truth(world),
        "one_live_order_per_intent": one_live_order_per_intent(world),
        "reduce_only_and_protection": reduce_only_and_protection(world),
        "exposure_limits": exposure_limits(world),
        "no_fill_missing": no_fill_missing(world, record_path),
    }
