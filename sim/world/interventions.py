"""Scheduled interventions: an operator's or another system's hand on the account.

Each runs at its scenario time as a SimPy process acting on the venue directly, never through
the bot: the bot must discover the change by reconciling, which is what these exist to test.
Window events (latency spikes, outages, dropped updates, thin liquidity, price gaps) are
installed before the run by the composition root and only logged here when they begin.
"""
from __future__ import annotations

from collections.abc import Generator
from decimal import Decimal

import simpy

from sim.core.errors import Rejected
from sim.core.ids import parse_client_id
from sim.core.messages import AmendOrder, SubmitAlgoOrder
from sim.core.types import ClientOrderId, OrderRole, Side, TimeInForce, TriggerBy
from sim.scenario.schema import (
    BotCrash,
    CancelProtective,
    Event,
    ExternalAdd,
    ExternalClose,
    ExternalOrder,
    ExternalReduce,
    MoveProtective,
    RejectOrders,
    SetLeverage,
    TransferIn,
    TransferOut,
    ms,
)
from sim.world.algo_orders import AlgoOrder
from sim.world.exchange import SimExchange
from sim.world.runlog import RunLog

_ROLES = {"tp": {OrderRole.TAKE_PROFIT}, "sl": {OrderRole.STOP_LOSS},
          "both": {OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS}}


def _protective(venue: SimExchange, which: str) -> list:
    """The bot's open TP/SL orders of a kind: resting trigger orders (legacy route) and algo orders."""
    out: list = []
    for order in venue.open_triggers:
        parsed = parse_client_id(order.client_id)
        if parsed is not None and parsed.role in _ROLES[which]:
            out.append(order)
    for algo in venue.algo.armed:
        parsed = parse_client_id(algo.client_algo_id)
        if parsed is not None and parsed.role in _ROLES[which]:
            out.append(algo)
    return out


def _move(venue: SimExchange, order: object, by: float, now: int) -> str:
    """Move one TP/SL by ``by`` (a fraction of its trigger price). A legacy trigger order is amended
    in place; an algo order cannot be amended, so the operator cancels it and places another with
    an id of their own (``ext-algo-N``), as a person would on Binance."""
    inst = venue.instrument
    new = inst.price(float(order.trigger_price) * (1 + by))  # type: ignore[attr-defined]
    if isinstance(order, AlgoOrder):
        venue.algo.cancel(now, order.client_algo_id)
        venue._external_seq += 1
        cid = ClientOrderId(f"ext-algo-{venue._external_seq}")
        req = SubmitAlgoOrder(order.symbol, cid, order.side, order.type, new, order.qty, TriggerBy(order.trigger_by),
                              order.reduce_only, order.close_position)
        try:
            venue.submit_algo(req, now, source="external")
        except Rejected as exc:
            return f"{order.client_algo_id} cancelled, replacement {cid} refused ({exc.code_name})"
        return f"{order.client_algo_id} cancelled, replaced by {cid} at {new}"
    try:
        venue.amend(AmendOrder(inst.symbol, order.client_id, trigger_price=new), now)  # type: ignore[attr-defined]
    except Rejected as exc:
        return f"{order.client_id} refused ({exc.reason.value})"  # type: ignore[attr-defined]
    return f"{order.client_id}->{new}"  # type: ignore[attr-defined]


def apply_intervention(event: Event, venue: SimExchange, now: int, log: RunLog) -> None:
    venue.catch_up(now)
    pos = venue.book.qty
    inst = venue.instrument
    close_side = Side.SELL if pos > 0 else Side.BUY
    detail = ""
    amount = None  # money moved by a transfer, as the venue booked it (the checker's wallet arithmetic reads it)
    match event:
        case ExternalClose():
            if pos != 0:
                venue.external_market(close_side, abs(pos), now, reduce_only=True)
            detail = f"closed {pos}"
        case ExternalReduce(fraction=f):
            qty = inst.qty_down(abs(pos) * Decimal(str(f)))
            if qty > 0:
                venue.external_market(close_side, qty, now, reduce_only=True)
            detail = f"reduced {pos} by {qty}"
        case ExternalAdd(qty=q):
            side = Side.SELL if pos < 0 else Side.BUY
            done = venue.external_market(side, inst.qty_down(q), now)
            detail = f"added {side.value} {q}" + ("" if done else " (refused by the venue)")
        case CancelProtective(which=which):
            cancelled = []
            for o in _protective(venue, which):
                if isinstance(o, AlgoOrder):
                    venue.algo.cancel(now, o.client_algo_id)
                    cancelled.append(o.client_algo_id)
                else:
                    venue.cancel(o.client_id, now)
                    cancelled.append(o.client_id)
            detail = f"cancelled {', '.join(cancelled) or 'nothing'}"
        case MoveProtective(which=which, by_pct=by):
            moved = [_move(venue, o, by, now) for o in _protective(venue, which)]
            detail = f"moved {', '.join(moved) or 'nothing'}"
        case SetLeverage(leverage=lev):
            refused = venue.set_leverage(lev, now)
            detail = f"leverage {lev}" + ("" if refused is None else
                                          f" refused by the venue ({refused.code} {refused.name})")
        case TransferOut(amount=a):
            amount = venue.transfer(-a, now)
            detail = f"transferred out {-amount:.2f} of {a:.2f} asked"
        case TransferIn(amount=a):
            amount = venue.transfer(a, now)
            detail = f"transferred in {amount:.2f}"
        case ExternalOrder(side=side, qty=q, price_offset_pct=off, time_in_force=tif, reduce_only=ro):
            price = None if off is None else inst.price(venue.path.mid_at(now) * (1 + off))
            done = venue.external_market(Side(side), inst.qty_down(q), now, reduce_only=ro, price=price,
                                         time_in_force=TimeInForce(tif))
            detail = f"{side} {q} {'market' if price is None else f'limit {price} {tif}'}" + \
                (" reduce-only" if ro else "") + ("" if done else " (refused by the venue)")
        case BotCrash(point=point, restart_after=after):
            detail = f"crash {'now' if point == 'now' else 'armed for ' + point}, restart after {after}"
        case RejectOrders(reason=reason, duration=duration):
            detail = f"the venue refuses the bot's orders ({reason}) for {duration}"
        case _:
            detail = "window begins"
    log.event(now, f"intervention_{event.kind}", "intervention", qty=amount, detail=detail)


def schedule_interventions(env: simpy.Environment, events: list[Event], start_ms: int, venue: SimExchange,
                           log: RunLog) -> None:
    def one(event: Event) -> Generator[simpy.Event, None, None]:
        yield env.timeout(max(0, start_ms + ms(event.at) - env.now))
        apply_intervention(event, venue, int(env.now), log)

    for event in events:
        env.process(one(event))
