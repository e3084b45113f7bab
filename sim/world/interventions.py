"""Scheduled interventions: an operator's or another system's hand on the account.

Each runs at its scenario time as a SimPy process acting on the venue directly, never through
the bot: the bot must discover the change by reconciling, which is what these exist to test.
"""
from __future__ import annotations

from collections.abc import Generator
from decimal import Decimal

import simpy

from sim.core.ids import parse_client_id
from sim.core.types import OrderRole, Side
from sim.scenario.schema import CancelProtective, Event, ExternalAdd, ExternalClose, ExternalReduce, ms
from sim.world.exchange import SimExchange
from sim.world.runlog import RunLog


def apply_intervention(event: Event, venue: SimExchange, now: int, log: RunLog) -> None:
    venue.catch_up(now)
    pos = venue.book.qty
    inst = venue.instrument
    detail = ""
    match event:
        case ExternalClose():
            if pos != 0:
                venue.external_market(Side.SELL if pos > 0 else Side.BUY, abs(pos), now, reduce_only=True)
            detail = f"closed {pos}"
        case ExternalReduce(fraction=f):
            qty = inst.qty_down(abs(pos) * Decimal(str(f)))
            if qty > 0:
                venue.external_market(Side.SELL if pos > 0 else Side.BUY, qty, now, reduce_only=True)
            detail = f"reduced {pos} by {qty}"
        case ExternalAdd(qty=q):
            side = Side.SELL if pos < 0 else Side.BUY
            venue.external_market(side, inst.qty_down(q), now)
            detail = f"added {side.value} {q}"
        case CancelProtective(which=which):
            roles = {"tp": {OrderRole.TAKE_PROFIT}, "sl": {OrderRole.STOP_LOSS},
                     "both": {OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS}}[which]
            cancelled = []
            for order in list(venue.open_triggers):
                parsed = parse_client_id(order.client_id)
                if parsed is not None and parsed.role in roles:
                    venue.cancel(order.client_id, now)
                    cancelled.append(order.client_id)
            detail = f"cancelled {', '.join(cancelled) or 'nothing'}"
    log.event(now, f"intervention_{event.kind}", "intervention", detail=detail)


def schedule_interventions(env: simpy.Environment, events: list[Event], start_ms: int, venue: SimExchange,
                           log: RunLog) -> None:
    def one(event: Event) -> Generator[simpy.Event, None, None]:
        yield env.timeout(max(0, start_ms + ms(event.at) - env.now))
        apply_intervention(event, venue, int(env.now), log)

    for event in events:
        env.process(one(event))
