"""What the bot does when the venue refuses an order or does not answer: by the next action.

Every order the bot sends (entries, exits, chases, protection) goes through `send`:

- **rate limited**: the venue's gateway refused before the venue saw the order, so nothing
  changed because of it. Wait until the retry-after (however often a pushed update wakes the
  bot first) and send the same intent again, up to ``rate_limit_attempts`` in all;
- **unavailable**: wait ``unavailable_wait_ms`` (back off), then reconcile: the outage may hide
  anything, and the bot must learn it before acting again;
- **a timeout the lookup by client id did not resolve**: reconcile at once (the order may be live);
- **any other reject** (margin, reduce-only would increase, minimum size, price band, ...):
  reconcile before anything else acts: a refusal means the bot's picture of the venue was wrong.
  The one exception is ``would_trigger_immediately`` for a TP/SL: the venue has said exactly what
  is true (the price is past the trigger) and the caller exits at market at once.

A reconcile that cannot finish, leaves an order uncertain or finds drift returns ``ok = False``
in the `Sent`: the caller does no further trading this cycle (the decision was made on a picture
that turned out wrong).

Cancels the bot must see through before it trades (`withdraw`) are handled the same way: rate
limited -> wait and cancel again; no answer, an outage or "unknown order" -> reconcile.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sim.bot.algo import as_report, cancel_request, is_algo
from sim.bot.desk import Desk
from sim.bot.execution import apply_report, submit
from sim.bot.session import Io
from sim.bot.state import OrderState
from sim.core.errors import ExchangeError, RateLimited, RequestTimeout, Unavailable
from sim.core.types import OrderRole, OrderStatus, RejectReason, Side

RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
NEVER_ARRIVED = "never_arrived"  # a timeout resolved: the venue does not know the id
_NO_RECONCILE = frozenset({RATE_LIMITED, NEVER_ARRIVED, RejectReason.WOULD_TRIGGER_IMMEDIATELY.value})


@dataclass(frozen=True, slots=True)
class Sent:
    """One order's last attempt, and whether the bot may go on trading (no reconcile after it found
    the picture wrong)."""

    order: OrderState
    ok: bool = True


def send(desk: Desk, role: OrderRole, side: Side, qty: Decimal, *, intent: int | None = None, attempt: int = 0,
         **kwargs: Any) -> Io[Sent]:
    """Submit one order (see `execution.submit`) and handle a refusal or a silence by its kind.

    A rate-limited order is re-sent under the same intent (the next attempt number) once the
    venue's retry-after has passed.
    """
    rec, pol, session = desk.record, desk.config.execution, desk.session
    intent = rec.allocate_intent() if intent is None else intent
    first = attempt
    while True:
        order: OrderState = yield from submit(rec, desk.config.instrument, role, side, qty, session=session,
                                              intent=intent, attempt=attempt,
                                              recv_window_ms=desk.config.recv_window_ms, ack_polls=pol.ack_polls,
                                              ack_wait_ms=pol.ack_wait_ms, **kwargs)
        if order.reject_reason != RATE_LIMITED or attempt - first + 1 >= pol.rate_limit_attempts:
            break
        yield from session.back_off(session.now + max(order.retry_after_ms or 0, 1))
        attempt += 1
    ok = yield from after_refusal(desk, order)
    return Sent(order, ok)


def after_refusal(desk: Desk, order: OrderState) -> Io[bool]:
    """Learn the truth before anything else acts, after a refusal or an unresolved timeout; False when
    that reconcile found the picture wrong."""
    if order.status is OrderStatus.UNKNOWN:
        return (yield from desk.reconciler.recheck())
    if order.status is not OrderStatus.REJECTED or order.reject_reason in _NO_RECONCILE:
        return True
    if order.reject_reason == UNAVAILABLE:
        yield from desk.session.back_off(desk.session.now + desk.config.execution.unavailable_wait_ms)
    return (yield from desk.reconciler.recheck())


def withdraw(desk: Desk, order: OrderState, reason: str) -> Io[bool]:
    """Cancel one of our orders and make sure it is gone; True when the record knows it is no longer
    live (cancelled, or found filled or gone by the reconcile a failed cancel triggers) and that
    reconcile, if any, found the picture right: the caller may trade."""
    pol, session = desk.config.execution, desk.session
    for _ in range(pol.rate_limit_attempts):
        try:
            algo = is_algo(order.role, desk.config.protective.route)
            request = cancel_request(desk.config.instrument.symbol, order.client_id, algo)
            report = as_report((yield from session.ask(request)))
        except RateLimited as exc:
            yield from session.back_off(session.now + max(exc.retry_after_ms, 1))
            continue
        except ExchangeError as exc:  # no answer, an outage, or the venue no longer has it: look
            if isinstance(exc, RequestTimeout):
                desk.record.update_order(order, OrderStatus.UNKNOWN, exc.ts, "cancel timed out: status unknown")
            if isinstance(exc, Unavailable):
                yield from session.back_off(session.now + pol.unavailable_wait_ms)
            ok = yield from desk.reconciler.recheck()
            return ok and not order.status.is_open and order.status is not OrderStatus.UNKNOWN
        apply_report(desk.record, order, report, session.now, reason, move_position=True)
        return True
    return False


__all__ = ["Sent", "after_refusal", "send", "withdraw"]
