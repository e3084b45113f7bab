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
from sim.world.protective import fits, live_protection, owner_of_fill, trades_reduce_only

PROTECTIVE = (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS)
LEVERAGE_SLACK = 0.02


def conservation(world: World) -> list[str]:
    """1. The position is the signed sum of fills; the wallet is balance + realized - fees + funding + transfers.

    Recomputed by the checker's own arithmetic (`Ledger`), never from the venue's totals: realized
    PnL from the fills' prices and the average entry, fees as the fills report them, funding from
    each settlement's rate, the mark price then (not the mid: they differ when the mark is its own
    series) and the position the fills say was held, and transfers as
    the interventions booked them.
    """
    v, ledger = world.venue, world.truth.ledger
    problems = []
    signed = sum((f.qty * f.side.sign for f in v.fills), Decimal(0))
    if signed != v.book.qty:
        problems.append(f"position {v.book.qty} != signed sum of fills {signed}")
    funding, transfers = 0.0, 0.0
    ev = world.log.events.cols
    for ts, kind, qty, price in zip(ev["ts"], ev["kind"], ev["qty"], ev["price"], strict=True):
        if kind == "funding":
            held = ledger.positions_at(ts)
            logged = Decimal(str(qty)).quantize(v.instrument.lot_size)
            if logged not in held:
                problems.append(f"t={ts}: funding settled on a position of {logged}, the fills say {sorted(held)}")
            funding += -float(logged) * v.path.mark_at(ts) * price  # Binance settles at the mark
        elif kind in ("intervention_transfer_in", "intervention_transfer_out") and qty is not None:
            transfers += qty
    expected = v.initial_balance + ledger.realized - ledger.fees + funding + transfers
    if abs(v.book.wallet - expected) > 1e-6 * max(1.0, abs(expected)):
        problems.append(f"wallet {v.book.wallet:.6f} != balance + realized - fees + funding + transfers "
                        f"{expected:.6f} (realized {ledger.realized:.6f}, fees {ledger.fees:.6f}, "
                        f"funding {funding:.6f}, transfers {transfers:.2f}, by the fills)")
    if ledger.qty != 0 and abs(v.book.entry - ledger.entry) > 1e-9 * ledger.entry:
        problems.append(f"venue entry {v.book.entry} != average entry by the fills {ledger.entry}")
    return problems


def record_matches_truth(world: World) -> list[str]:
    """2. The record equals the truth after every clean reconcile during the run (see `Watch`) and
    after the final one: position, entry within ``bot.entry_tolerance_bps``, and our open orders."""
    rec, v = world.record.state, world.venue
    problems = world.truth.watch.record_problems.listed()
    if rec.position.qty != v.book.qty:
        problems.append(f"record position {rec.position.qty} != venue {v.book.qty}")
    elif v.book.qty != 0:
        entry = float(rec.position.entry)
        if abs(entry - v.book.entry) > max(1e-4, world.truth.entry_tolerance_bps * 1e-4) * v.book.entry:
            problems.append(f"record entry {entry} != venue {v.book.entry}")
    ours = {o.client_id for o in v.resting if (p := parse_client_id(o.client_id)) and p.bot_id == world.record.bot_id}
    ours |= {a.client_algo_id for a in v.algo.open_orders()  # conditional orders live in the algo service
             if (p := parse_client_id(a.client_algo_id)) and p.bot_id == world.record.bot_id}
    believed = {cid for cid, o in rec.orders.items() if o.status.is_open}
    if ours != believed:
        problems.append(f"open orders: venue {sorted(ours)} vs record {sorted(believed)}")
    return problems


def one_live_order_per_intent(world: World, record_path: Path | None = None) -> list[str]:
    """3. One intent never becomes two live orders, and one purpose never becomes two exposures.

    Counted three ways: two orders of one intent live or filled (a retry that did not ask first);
    two live protective orders of ours for one role at once (`Watch`); and the fills of one
    decision's orders adding up to more than the move it decided (from the position before to its
    target; a partial-fill chase stays within it, a blind retry under a new intent does not: both
    orders reached the venue and filled). The decisions are the bot's record's; the fills are the
    venue's.
    """
    problems = [f"{world.truth.duplicates} duplicate live orders"] if world.truth.duplicates else []
    problems += world.truth.watch.duplicate_problems.listed()
    if record_path is not None:
        problems += _decision_overfills(world, record_path)
    return problems


def _decision_overfills(world: World, record_path: Path) -> list[str]:
    with sqlite3.connect(record_path) as conn:  # a decision moves the position from before to its target
        decided = {int(i): abs(Decimal(t) - Decimal(b)) if t is not None else Decimal(q) for i, q, b, t in
                   conn.execute("SELECT id, qty, position_before, target_qty FROM decisions")}
        order_of = {cid: int(d) for cid, d in conn.execute(
            "SELECT client_id, decision_id FROM orders WHERE decision_id IS NOT NULL")}
    filled: dict[int, Decimal] = {}
    for f in world.venue.fills:
        d = order_of.get(f.client_id) if f.client_id else None
        if d is not None:
            filled[d] = filled.get(d, Decimal(0)) + f.qty
    return [f"decision {d} to move the position by {decided[d]} filled {q} across its orders"
            for d, q in sorted(filled.items()) if d in decided and q > decided[d]][:5]


def reduce_only_and_protection(world: World) -> list[str]:
    """4. Reduce-only fills never increase exposure nor flip it; protective orders never exceed the
    live position and none is left orphaned.

    Reduce-only is checked on every fill (size and sign: +0.07 -> -0.03 breaks it). Protection is
    checked when each protective order is accepted (against the position the bot could know when it
    sent it) and continuously during the run with the grace period of `sim.world.watch` (a misfit
    found by a clean reconcile must have been cancelled or amended by the end of that bot cycle),
    right after each bot fill, and after the final reconcile and protection pass.
    """
    problems = list(world.truth.protection_breaches[:5]) + world.truth.watch.protection_problems.listed()
    pos = Decimal(0)
    orders = world.venue.orders
    for f in world.venue.fills:
        after = pos + f.qty * f.side.sign
        order = orders.get(f.client_id) if f.client_id else None
        # an algo order's child trades reduce-only when its algo order is reduce-only or close-position
        if order is not None and trades_reduce_only(world.venue, order) and (abs(after) > abs(pos) or after * pos < 0):
            problems.append(f"t={f.ts}: reduce-only {owner_of_fill(world.venue, f.client_id)} "
                            f"({f.client_id}) took the position from {pos} to {after}")
        pos = after
    qty = world.venue.book.qty
    for lp in live_protection(world.venue):  # resting trigger orders, algo orders and their working children
        if qty == 0:
            problems.append(f"protective {lp.client_id} live on a flat position")
        elif not fits(lp.side, lp.remaining, qty):
            problems.append(f"protective {lp.describe()} does not fit the position {qty}")
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
        "one_live_order_per_intent": one_live_order_per_intent(world, record_path),
        "reduce_only_and_protection": reduce_only_and_protection(world),
        "exposure_limits": exposure_limits(world),
        "no_fill_missing": no_fill_missing(world, record_path),
    }
