"""Execution: decisions and protective posture -> orders, and each order through its lifecycle.

Every order is written to the record (NEW, then SENT) *before* it is sent, under a client id
that names its intent, so a timeout or a crash can always be resolved by asking the venue about
that id; a timed-out order is queried, never blindly re-sent (one intent, one live order).
These are generator functions: they yield requests and get reports back (sans-IO).
"""
from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sim.bot.clock import ReplyClock
from sim.bot.record import PlatformRecord
from sim.bot.state import OrderState
from sim.core.errors import ExchangeError, RateLimited, Rejected, RequestTimeout
from sim.core.ids import make_client_id
from sim.core.instrument import Instrument
from sim.core.messages import CancelOrder, FetchOrder, OrderReport, SubmitOrder
from sim.core.types import OrderRole, OrderStatus, OrderType, RejectReason, Side, TimeInForce, TriggerBy

ZERO = Decimal(0)
Io = Generator[Any, Any, Any]


@dataclass(frozen=True, slots=True)
class ProtectivePolicy:
    """Native TP/SL posture: distances are fractions of the entry price."""

    enabled: bool = True
    take_profit_pct: float | None = 0.01
    stop_loss_pct: float | None = 0.005
    trigger_by: TriggerBy = TriggerBy.MARK


class Posture(StrEnum):
    """What `ensure_protection` found: the protection already matched, it changed some, or it stopped
    because an answer came late (time passed: the position may have moved since it was read)."""

    MATCHED = "matched"
    CHANGED = "changed"
    STALE = "stale"


def apply_report(record: PlatformRecord, order: OrderState, report: OrderReport, ts: int, reason: str,
                 move_position: bool) -> None:
    """Take the venue's report of one of our orders into the record (see `apply_update`)."""
    apply_update(record, order, report.status, report.filled_qty, report.avg_price, ts, reason, move_position)


def apply_update(record: PlatformRecord, order: OrderState, status: OrderStatus, filled_qty: Decimal,
                 avg_price: Decimal | None, ts: int, reason: str, move_position: bool) -> None:
    """Move an order to the venue's status and filled quantity.

    With ``move_position`` the newly reported filled quantity moves the record's position (an
    order's own response); reconcile passes False because it copies the venue's position.
    """
    new_filled = filled_qty - order.filled_qty
    with record.batch():
        if move_position and new_filled > 0 and avg_price is not None:
            prev_notional = order.filled_qty * (order.avg_price or ZERO)
            price = (filled_qty * avg_price - prev_notional) / new_filled
            record.apply_fill_to_position(new_filled * order.side.sign, price, ts, f"fill of {order.client_id}")
        record.update_order(order, status, ts, reason, filled_qty, avg_price)


def submit(record: PlatformRecord, instrument: Instrument, role: OrderRole, side: Side, qty: Decimal, *,
           clock: ReplyClock, order_type: OrderType = OrderType.MARKET, reduce_only: bool = False,
           trigger_price: Decimal | None = None, trigger_by: TriggerBy = TriggerBy.MARK,
           decision_id: int | None = None, decision_price: float | None = None, price: Decimal | None = None,
           time_in_force: TimeInForce = TimeInForce.GTC, intent: int | None = None, attempt: int = 0,
           recv_window_ms: int = 5_000) -> Io:
    """Send one order and follow it to a known state; returns the `OrderState` (or raises nothing).

    A reject ends the order as REJECTED with its reason; a timeout is resolved by `FetchOrder`
    (the venue not knowing the id proves it never arrived only once the receive window has passed,
    see `never_arrived`); any other failure leaves the order UNKNOWN for the next reconcile to
    resolve, and the engine waits until then.
    """
    now = clock.now
    intent = record.allocate_intent() if intent is None else intent
    cid = make_client_id(record.bot_id, intent, role, attempt)
    order = OrderState(cid, intent, role, side, order_type, qty, reduce_only, trigger_price, OrderStatus.NEW,
                       now, now, decision_id, decision_price)
    with record.batch():
        record.add_order(order, f"{role.name.lower()} intent {intent}")
        record.update_order(order, OrderStatus.SENT, now, "sending")
    request = SubmitOrder(instrument.symbol, cid, side, order_type, qty, price, trigger_price, trigger_by, reduce_only,
                          time_in_force)
    try:
        report: OrderReport = yield request
    except Rejected as exc:
        record.update_order(order, OrderStatus.REJECTED, exc.ts, str(exc), reject_reason=exc.reason.value)
        return order
    except RequestTimeout as exc:
        order.timed_out = True
        record.update_order(order, OrderStatus.UNKNOWN, exc.ts, "submit timed out: status unknown")
        yield from resolve_unknown(record, instrument, order, clock, recv_window_ms)
        return order
    except RateLimited as exc:  # the venue did not take it; the caller may retry after the wait
        order.retry_after_ms = exc.retry_after_ms
        record.update_order(order, OrderStatus.REJECTED, exc.ts, str(exc), reject_reason="rate_limited")
        return order
    except ExchangeError as exc:  # unavailable: the venue did not take it
        record.update_order(order, OrderStatus.REJECTED, exc.ts, str(exc), reject_reason="unavailable")
        return order
    apply_report(record, order, report, clock.now, "acknowledged by the venue", move_position=True)
    return order


def never_arrived(order: OrderState, ts: int, recv_window_ms: int) -> bool:
    """Does the venue's "unknown order" at ``ts`` prove that ``order`` never reached it?

    Only once the receive window after its sending has passed: until then the request may still be on
    the wire, and the venue would still take it (a slow network, a request that outlived the client's
    timeout). Before that, "unknown" says only "not yet".
    """
    return ts >= order.created_ms + recv_window_ms


def resolve_unknown(record: PlatformRecord, instrument: Instrument, order: OrderState, clock: ReplyClock,
                    recv_window_ms: int = 5_000) -> Io:
    """Ask the venue about an order of unknown status by its client id."""
    try:
        report: OrderReport = yield FetchOrder(instrument.symbol, order.client_id)
    except Rejected as exc:
        if exc.reason is RejectReason.UNKNOWN_ORDER and never_arrived(order, exc.ts, recv_window_ms):
            record.update_order(order, OrderStatus.REJECTED, exc.ts, "never reached the venue (query by id)",
                                reject_reason="never_arrived")
        return
    except ExchangeError:
        return  # still unknown: reconcile retries, the engine waits
    apply_report(record, order, report, clock.now, "resolved by query", move_position=True)


def cancel(record: PlatformRecord, instrument: Instrument, order: OrderState, reason: str,
           clock: ReplyClock) -> Io:
    """Cancel one of our orders; an order already gone is left for reconcile to explain. A cancel
    that times out leaves the order of unknown status (it may be cancelled or still live) until the
    venue says which."""
    try:
        report: OrderReport = yield CancelOrder(instrument.symbol, order.client_id)
    except RequestTimeout as exc:
        record.update_order(order, OrderStatus.UNKNOWN, exc.ts, "cancel timed out: status unknown")
        return False
    except ExchangeError:
        return False
    apply_report(record, order, report, clock.now, reason, move_position=True)
    return True


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
                      clock: ReplyClock, send: Callable[..., Io] | None = None) -> Io:
    """Make native TP/SL match the live position: place, resize (cancel + replace) or cancel.

    Runs after reconcile, so it works from the venue's position, never from an intent. A
    protective order that would trigger at once means the price is already past it: the bot
    exits at market, reduce-only, as the order would have. ``send(role, side, qty, **submit
    kwargs)`` submits an order (default: `submit`; the bot passes one that handles refusals by
    kind). Returns the `Posture`: MATCHED when nothing was sent; STALE when an order's answer came
    only after a timeout, before the next is placed: the caller reads the position afresh first
    (an operator or a trigger may have moved it while the bot waited).
    """
    if send is None:
        def send(role: OrderRole, side: Side, qty: Decimal, **kwargs: Any) -> Io:
            return (yield from submit(record, instrument, role, side, qty, clock=clock, **kwargs))
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
            yield from cancel(record, instrument, order, "protective no longer matches the position", clock)
        else:
            del want[order.role]  # right size on the right side: keep it
    for role, trigger in want.items():
        if any(o.role is role for o in record.state.open_protective()):
            continue  # one still in flight or of unknown status: never a second one
        settled = Posture.CHANGED
        otype = OrderType.TAKE_PROFIT_MARKET if role is OrderRole.TAKE_PROFIT else OrderType.STOP_MARKET
        order = yield from send(role, exit_side, abs(qty0), order_type=otype, reduce_only=True,
                                trigger_price=trigger, trigger_by=policy.trigger_by)
        if order.status is OrderStatus.REJECTED and order.reject_reason == RejectReason.WOULD_TRIGGER_IMMEDIATELY.value:
            # exit at market as the order would have; first withdraw the other protection, which
            # would otherwise outlive the position
            for other in list(record.state.open_protective()):
                if other.status.is_open:
                    yield from cancel(record, instrument, other, "exiting at market: protection withdrawn", clock)
            if record.state.open_protective():
                return Posture.CHANGED  # not known withdrawn (live, or a cancel unanswered): look again next pass
            yield from send(OrderRole.EXIT, exit_side, abs(record.state.position.qty), reduce_only=True)
            return Posture.CHANGED
        if order.status is OrderStatus.UNKNOWN or record.state.position.qty != qty0:
            return Posture.CHANGED  # the position moved or is in doubt: the next pass sizes protection afresh
        if order.timed_out:
            return Posture.STALE  # time passed while the bot waited for this answer: read the position first
    return settled
