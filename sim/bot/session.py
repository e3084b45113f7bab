"""The session: every exchange between the bot and its venue goes through here.

The bot is a generator that yields `Request`s and receives `Reply`s (see `sim.core.messages.Reply`).
The session owns what each exchange needs around it, so no driver has to do it by side channel:

- **time**: ``now`` is when the last reply reached the bot (``Reply.received_ms``); the bot has no
  other clock;
- **commit before acting**: the record is committed before a request that acts on the venue
  (submit, cancel, amend) and before sleeping, so an order's intent is durable before the order
  leaves; reads need no commit (whatever a crash loses between two reads, the next reconcile
  learns again from the venue);
- **errors**: a reply carrying an `ExchangeError` is raised where the request was yielded;
- **reads with back-offs** (`call`): a rate-limited read waits for the venue's retry-after, an
  unanswered one is asked again (a read changes nothing: safe to repeat);
- **sleeping** (`sleep`, `back_off`) and whether a pushed update that woke the bot was a surprise;
- **sight of the position** (`sight_lost`): time passed that the bot could not watch (a request went
  unanswered, or it slept) since its last position read, so that read may no longer hold.
"""
from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

from sim.bot.algo import as_order_report
from sim.bot.record import PlatformRecord
from sim.core.errors import ExchangeError, RateLimited, RequestTimeout
from sim.core.ids import parse_client_id
from sim.core.messages import (
    AlgoOrderReport,
    AmendOrder,
    CancelAlgoOrder,
    CancelOrder,
    FillReport,
    PositionsReport,
    Reply,
    Request,
    Sleep,
    SubmitAlgoOrder,
    SubmitOrder,
    Woke,
)

T = TypeVar("T")
Io = Generator[Request, Reply, T]  # what every bot generator yields, receives and returns
_ACTS = frozenset({SubmitOrder, CancelOrder, AmendOrder, SubmitAlgoOrder, CancelAlgoOrder, Sleep})


class Session:
    """One bot's line to its venue: time, durability, errors and back-offs for every request."""

    def __init__(self, record: PlatformRecord, bot_id: str, now: int) -> None:
        self.record = record
        self.bot_id = bot_id
        self.now = now
        self.surprised = False  # a back-off was cut short by a surprising pushed update: look soon
        self.sight_lost = True  # since the last position read, a request timed out or the bot slept

    def ask(self, request: Request) -> Io[Any]:
        """Send one request and return the venue's answer (or raise its error), learning the time."""
        if type(request) in _ACTS:
            self.record.flush()  # write-ahead: durable before anything that acts on the venue
        reply: Reply = yield request
        self.now = reply.received_ms
        answer = reply.answer
        kind = type(answer)
        if kind is PositionsReport:
            self.sight_lost = False
        elif kind is Woke or kind is RequestTimeout:
            self.sight_lost = True  # time passed unseen: an operator or a trigger may have moved the position
        if isinstance(answer, ExchangeError):
            raise answer
        return answer

    def call(self, request: Request, attempts: int = 3) -> Io[Any]:
        """One read, backing off for the venue's retry-after when rate limited, and asking again at once
        when the answer did not come in time. Orders are not retried here (see `refusals.send`)."""
        for attempt in range(attempts):
            try:
                return (yield from self.ask(request))
            except RateLimited as exc:
                if attempt == attempts - 1:
                    raise
                yield from self.back_off(self.now + max(exc.retry_after_ms, 1))
            except RequestTimeout:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def sleep(self, until_ms: int) -> Io[Woke]:
        """Sleep until ``until_ms``, or until a pushed update wakes the bot earlier."""
        woke: Woke = yield from self.ask(Sleep(until_ms))
        return woke

    def wait(self, until_ms: int) -> Io[Woke]:
        """Sleep until ``until_ms`` or the next pushed update, remembering a surprising one."""
        woke = yield from self.sleep(until_ms)
        if woke.updates and self.surprising(woke.updates):
            self.surprised = True
        return woke

    def back_off(self, until_ms: int) -> Io[None]:
        """Wait until ``until_ms``: a pushed update that wakes the bot earlier does not end the wait
        (the venue said when to come back), but a surprising one is remembered (``surprised``)."""
        woke = yield from self.sleep(until_ms)
        while woke.ts < until_ms:
            if self.surprising(woke.updates):
                self.surprised = True
            woke = yield from self.sleep(until_ms)

    def surprising(self, updates: tuple) -> bool:
        """Does a pushed update say the venue changed something the bot did not do itself?

        A fill or status change of one of our *resting* orders (a TP/SL firing, an operator's
        cancel), any change of a conditional order of ours, or anything about an order that is not
        ours. Updates about orders in flight are expected: their own responses will say the same.
        """
        orders = self.record.state.orders
        for u in updates:
            if isinstance(u, AlgoOrderReport):
                u = as_order_report(u)
            cid = getattr(u, "client_id", None)
            parsed = parse_client_id(cid)
            if parsed is None or parsed.bot_id != self.bot_id:
                return True
            order = orders.get(cid)  # type: ignore[arg-type]
            if order is not None and order.status.is_open and (
                    isinstance(u, FillReport) or getattr(u, "status", order.status) is not order.status):
                return True
        return False


__all__ = ["Io", "Session"]
