"""Protection: native TP/SL that match the live position (place, resize by cancel-and-replace, cancel).

Runs after a reconcile, so it works from the venue's position, never from an intent.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sim.bot.algo import is_algo
from sim.bot.execution import cancel, submit
from sim.bot.policies import ProtectivePolicy
from sim.bot.record import PlatformRecord
from sim.bot.session import Io, Session
from sim.bot.state import OrderState
from sim.core.instrument import Instrument
from sim.core.types import OrderRole, OrderStatus, OrderType, RejectReason, Side


class Posture(StrEnum):
    """What `ensure_protection` found: the protection already matched, it changed some, or it stopped
    because an answer came late (time passed: the position may have moved since it was read)."""

    MATCHED = "matched"
    CHANGED = "changed"
    STALE = "stale"


def protective_levels(policy: ProtectivePolicy, instrument: Instrument, qty: Decimal,
                      entry: Decimal) -> dict[OrderRole, Decimal]:
    """Trigger prices of the TP and SL for a position (empty when flat or disabled)."""
    if not policy.enabled or qty == 0 or entry <= 0:
        return {}
    direction = 1 if qty > 0 else -1
    e = float(entry)
    levels: dict[OrderRole, Decimal] = {}
    if policy.take_profit_pct:
        levels[OrderRole.TAKE_PROFIT] = instrument.price(e * (1 + direction * policy.take_profit_pct))
    if policy.stop_loss_pct:
        levels[OrderRole.STOP_LOSS] = instrument.price(e * (1 - direction * policy.stop_loss_pct))
    return levels


def ensure_protection(record: PlatformRecord, instrument: Instrument, policy: ProtectivePolicy,
                      session: Session, send: Callable[..., Io[OrderState]] | None = None,
                      place: bool = True) -> Io[Posture]:
    """Make native TP/SL match the live position: place, resize (cancel + replace) or cancel.

    Runs after reconcile, so it works from the venue's position, never from an intent. A
    protective order that would trigger at once means the price is already past it: the bot
    exits at market, reduce-only, as the order would have. ``send(role, side, qty, **submit
    kwargs)`` submits an order (default: `submit`; the bot passes one that handles refusals by
    kind). ``place=False`` only withdraws what no longer fits (safe on any read: it never adds
    exposure or sizes anything). Returns the `Posture`: MATCHED when nothing was sent; STALE when an order's answer came
    only after a timeout, before the next is placed: the caller reads the position afresh first
    (an operator or a trigger may have moved it while the bot waited).
    """
    if send is None:
        def send(role: OrderRole, side: Side, qty: Decimal, **kwargs: Any) -> Io[OrderState]:
            return (yield from submit(record, instrument, role, side, qty, session=session, **kwargs))
    settled = Posture.MATCHED
    pos = record.state.position
    qty0 = pos.qty
    want = protective_levels(policy, instrument, pos.qty, pos.entry)
    exit_side = Side.SELL if pos.qty > 0 else Side.BUY
    for order in list(record.state.open_protective()):
        if order.status not in (OrderStatus.ACKNOWLEDGED, OrderStatus.PARTIALLY_FILLED):
            continue
        if order.role not in want or order.qty != abs(pos.qty) or order.side is not exit_side:
            settled = Posture.CHANGED
            yield from cancel(record, instrument, order, "protective no longer matches the position", session,
                              is_algo(order.role, policy.route))
        else:
            del want[order.role]  # right size on the right side: keep it
    if not place:
        return settled
    for role, trigger in want.items():
        if any(o.role is role for o in record.state.open_protective()):
            continue  # one still in flight or of unknown status: never a second one
        settled = Posture.CHANGED
        otype = OrderType.TAKE_PROFIT_MARKET if role is OrderRole.TAKE_PROFIT else OrderType.STOP_MARKET
        order = yield from send(role, exit_side, abs(qty0), order_type=otype, reduce_only=True,
                                trigger_price=trigger, trigger_by=policy.trigger_by, algo=is_algo(role, policy.route))
        if order.status is OrderStatus.REJECTED and order.reject_reason == RejectReason.WOULD_TRIGGER_IMMEDIATELY.value:
            # exit at market as the order would have; first withdraw the other protection, which
            # would otherwise outlive the position
            for other in list(record.state.open_protective()):
                if other.status.is_open:
                    yield from cancel(record, instrument, other, "exiting at market: protection withdrawn", session,
                                      is_algo(other.role, policy.route))
            if record.state.open_protective():
                return Posture.CHANGED  # not known withdrawn (live, or a cancel unanswered): look again next pass
            yield from send(OrderRole.EXIT, exit_side, abs(record.state.position.qty), reduce_only=True)
            return Posture.CHANGED
        if order.status is OrderStatus.UNKNOWN or record.state.position.qty != qty0:
            return Posture.CHANGED  # the position moved or is in doubt: the next pass sizes protection afresh
        if order.timed_out or session.sight_lost:
            return Posture.STALE  # time passed unseen while the bot waited (a timeout, a back-off): read first
    return settled


__all__ = ["Posture", "ensure_protection", "protective_levels"]
