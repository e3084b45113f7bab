"""Execution: one order through its lifecycle (submit, resolve an unanswered one, cancel).

Every order is written to the record (NEW, then SENT) *before* it is sent, under a client id
that names its intent, so a timeout or a crash can always be resolved by asking the venue about
that id; a timed-out order is queried, never blindly re-sent (one intent, one live order).
These are generator functions: they yield requests and get reports back (sans-IO).
"""
from __future__ import annotations

from decimal import Decimal

from sim.bot.algo import as_report, cancel_request, lookup_request, submit_request
from sim.bot.record import PlatformRecord
from sim.bot.session import Io, Session
from sim.bot.state import OrderState
from sim.core.errors import ExchangeError, RateLimited, Rejected, RequestTimeout
from sim.core.ids import make_client_id
from sim.core.instrument import Instrument
from sim.core.messages import FetchOrder, OrderReport, SubmitOrder
from sim.core.types import OrderRole, OrderStatus, OrderType, RejectReason, Side, TimeInForce, TriggerBy

ZERO = Decimal(0)
_TRADES = frozenset({OrderRole.ENTRY, OrderRole.EXIT})  # orders that take liquidity (not resting TP/SL)


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
           session: Session, order_type: OrderType = OrderType.MARKET, reduce_only: bool = False,
           trigger_price: Decimal | None = None, trigger_by: TriggerBy = TriggerBy.MARK,
           decision_id: int | None = None, decision_price: float | None = None, price: Decimal | None = None,
           time_in_force: TimeInForce = TimeInForce.GTC, intent: int | None = None, attempt: int = 0,
           recv_window_ms: int = 5_000, ack_polls: int = 4, ack_wait_ms: int = 200,
           algo: bool = False) -> Io[OrderState]:
    """Send one order and follow it to a known state; returns the `OrderState` (or raises nothing).

    An entry or exit the venue only acknowledged (nothing filled yet: an answer mode, or a busy matching
    engine) is followed until it is final (`await_outcome`): its fills may still come, and nothing may
    be chased, completed or re-sent meanwhile. A reject ends the order as REJECTED with its reason; a
    timeout is resolved by `FetchOrder`
    (the venue not knowing the id proves it never arrived only once the receive window has passed,
    see `never_arrived`); any other failure leaves the order UNKNOWN for the next reconcile to
    resolve, and the engine waits until then.
    """
    now = session.now
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
        report = as_report((yield from session.ask(submit_request(request) if algo else request)))
    except Rejected as exc:
        record.update_order(order, OrderStatus.REJECTED, exc.ts, str(exc), reject_reason=exc.reason.value)
        return order
    except RequestTimeout as exc:
        order.timed_out = True
        record.update_order(order, OrderStatus.UNKNOWN, exc.ts, "submit timed out: status unknown")
        yield from resolve_unknown(record, instrument, order, session, recv_window_ms, algo)
        if order.status.is_open and role in _TRADES:
            yield from await_outcome(record, instrument, order, session, ack_polls, ack_wait_ms)
        return order
    except RateLimited as exc:  # the venue did not take it; the caller may retry after the wait
        order.retry_after_ms = exc.retry_after_ms
        record.update_order(order, OrderStatus.REJECTED, exc.ts, str(exc), reject_reason="rate_limited")
        return order
    except ExchangeError as exc:  # unavailable: the venue did not take it
        record.update_order(order, OrderStatus.REJECTED, exc.ts, str(exc), reject_reason="unavailable")
        return order
    apply_report(record, order, report, session.now, "acknowledged by the venue", move_position=True)
    if order.status.is_open and role in _TRADES:
        yield from await_outcome(record, instrument, order, session, ack_polls, ack_wait_ms)
    return order


def await_outcome(record: PlatformRecord, instrument: Instrument, order: OrderState, session: Session,
                  polls: int, wait_ms: int) -> Io[None]:
    """An order that takes liquidity was acknowledged before it was done filling: find out how it ended.

    Ask the venue at once, then after waits that double from ``wait_ms`` (a pushed update ends a wait
    early: the lookup follows at once), up to ``polls`` asks. An order still working after that stays
    open in the record: the position it may still move is not acted on until a reconcile sees it end.
    """
    request = FetchOrder(instrument.symbol, order.client_id)
    for ask in range(polls):
        try:
            report: OrderReport = yield from session.call(request)
        except ExchangeError:
            report = None  # type: ignore[assignment]
        if report is not None:
            apply_report(record, order, report, session.now, "outcome by query", move_position=True)
            if not order.status.is_open:
                return
        if ask < polls - 1:
            yield from session.wait(session.now + wait_ms * 2 ** ask)


def never_arrived(order: OrderState, ts: int, recv_window_ms: int) -> bool:
    """Does the venue's "unknown order" at ``ts`` prove that ``order`` never reached it?

    Only once the receive window after its sending has passed: until then the request may still be on
    the wire, and the venue would still take it (a slow network, a request that outlived the client's
    timeout). Before that, "unknown" says only "not yet".
    """
    return ts >= order.created_ms + recv_window_ms


def resolve_unknown(record: PlatformRecord, instrument: Instrument, order: OrderState, session: Session,
                    recv_window_ms: int = 5_000, algo: bool = False) -> Io[None]:
    """Ask the venue about an order of unknown status by its client id (an algo order by its client algo id)."""
    try:
        report = as_report((yield from session.ask(lookup_request(instrument.symbol, order.client_id, algo))))
    except Rejected as exc:
        if exc.reason is RejectReason.UNKNOWN_ORDER and never_arrived(order, exc.ts, recv_window_ms):
            record.update_order(order, OrderStatus.REJECTED, exc.ts, "never reached the venue (query by id)",
                                reject_reason="never_arrived")
        return
    except ExchangeError:
        return  # still unknown: reconcile retries, the engine waits
    apply_report(record, order, report, session.now, "resolved by query", move_position=True)


def cancel(record: PlatformRecord, instrument: Instrument, order: OrderState, reason: str,
           session: Session, algo: bool = False) -> Io[bool]:
    """Cancel one of our orders; an order already gone is left for reconcile to explain. A cancel
    that times out leaves the order of unknown status (it may be cancelled or still live) until the
    venue says which."""
    try:
        report = as_report((yield from session.ask(cancel_request(instrument.symbol, order.client_id, algo))))
    except RequestTimeout as exc:
        record.update_order(order, OrderStatus.UNKNOWN, exc.ts, "cancel timed out: status unknown")
        return False
    except ExchangeError:
        return False
    apply_report(record, order, report, session.now, reason, move_position=True)
    return True


