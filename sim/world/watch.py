"""Invariants 2 and 4 while the run goes: what the bot read, what it did, and when.

The driver tells the world every request the bot sends and every answer it receives. From them
the world knows three things the end of a run cannot tell:

- **when a reconcile completed cleanly**: a position read, an open-orders read and a fills read
  answered in that order, then lookups by client id (every one answered), then the next request.
  Right then the record must equal the venue as of those reads: the position as read, the entry
  within ``bot.entry_tolerance_bps``, and our live orders (those listed, plus those a lookup found
  live) with their trigger prices; and what the venue reported must be what its fills say
  (invariant 2 during the run, not only after the final reconcile);
- **what position the bot could know when it sent a protective order** (invariant 4 at
  acceptance; issue 15 bug 3): its last position read plus its own entry and exit fills since.
  A read is stale once a request of the bot went unanswered (a timeout) or the bot slept (a back-off)
  after it, or the bot restarted: then the bot could know the venue's position at the moment it
  sent the order (it should have read again). A protective order larger than the position the bot
  could know, or sent on a flat position, or on the side that would add to it, breaks the
  invariant. A change the bot could not know (an operator's trade, a TP/SL firing, after its read
  and while it acted or while the order was on its way) is tolerated at acceptance; the order is
  then a *misfit* under the grace period below;
- **whether a misfit was withdrawn in time** (invariant 4 continuously). A protective order of ours
  that is live while the position is flat (orphaned), larger than the position, or on the side
  that would add to it, is a misfit. GRACE PERIOD: from the first clean reconcile whose reads show
  the misfit to the end of the bot's *next* cycle (its sleep to the second cycle boundary after that
  reconcile: the rest of the cycle in which it learnt of it, plus one whole cycle, as DESIGN.md says
  "beyond one cycle"); by then the bot must have sent a cancel or an amend for that order, or the
  order must be gone or fit again.
  A cancel that got no answer counts as acting (the next reconcile resolves it); one the venue
  refused does not (a cancel in the wrong id space, a `CancelOrder` for an algo order, is refused).
  A reconcile that does not complete cleanly (outage, lost answers, an order of unknown status)
  restarts the grace period at the next clean one, and so does a crash: the bot cannot act on what
  it could not read.

Both routes of conditional orders are watched alike: on the algo route the reconcile's listing
includes the algo service's (`FetchOpenAlgoOrders`), lookups by client algo id count, a
`CancelAlgoOrder` is acting, and a protective order is an algo order by the definitions of
`sim.world.protective` (its quantity, or ``closePosition``; its working child once triggered).
The checks at acceptance live in `sim.world.acceptance`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from sim.core.errors import RateLimited, Rejected, RequestTimeout
from sim.core.ids import parse_client_id
from sim.core.messages import (
    AlgoOrderReport,
    AmendOrder,
    CancelAlgoOrder,
    CancelOrder,
    FetchAlgoOrder,
    FetchFills,
    FetchOpenAlgoOrders,
    FetchOpenOrders,
    FetchOrder,
    FetchPositions,
    FillsReport,
    OpenAlgoOrdersReport,
    OpenOrdersReport,
    OrderReport,
    PositionsReport,
    Sleep,
    SubmitAlgoOrder,
    SubmitOrder,
)
from sim.core.types import OrderRole, RejectReason, Side
from sim.world.acceptance import Acceptance, Problems
from sim.world.ledger import Ledger
from sim.world.protective import PROTECTIVE, fits, live_protective

_LOOKUPS = (FetchOrder, FetchAlgoOrder)  # after the fills read: lookups by client id (or client algo id)
_RECONCILE_READS = (FetchOrder, FetchAlgoOrder, FetchOpenAlgoOrders)  # still part of the reconcile


@dataclass(frozen=True, slots=True)
class _AlgoListed:
    """An open algo (conditional) order as listed or looked up: what the checks read of an order."""

    client_id: str
    side: Side
    qty: Decimal
    filled_qty: Decimal
    trigger_price: Decimal | None
    open: bool
    close_position: bool = False

    @classmethod
    def of(cls, a: AlgoOrderReport) -> _AlgoListed:
        return cls(a.client_algo_id, a.side, a.qty if a.qty is not None else ZERO, a.actual_qty, a.trigger_price,
                   a.status.is_open, a.close_position)

    @property
    def status(self) -> _AlgoListed:
        return self  # `report.status.is_open`, as for an order

    @property
    def is_open(self) -> bool:
        return self.open
ZERO = Decimal(0)
__all__ = ["Problems", "TruthView", "Watch", "fits"]


def _remaining(o: OrderReport | _AlgoListed) -> Decimal | None:
    """What a listed order can still trade (None: a close-position algo order, whatever the position is)."""
    return None if getattr(o, "close_position", False) else o.qty - o.filled_qty


@dataclass
class _Reconcile:
    """The reads of one reconcile in progress."""

    read_ts: int
    qty: Decimal
    entry: Decimal
    listed: dict[str, OrderReport] | None = None
    fills_read: bool = False
    lookups: dict[str, OrderReport | None] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)  # lookups whose last try got no answer
    begun: bool = False
    reread: bool = False  # the position is being read again after the fills (the snapshot straddled a fill)


class TruthView(Protocol):
    """What the watch reads of the world's ground truth (`GroundTruth`; a test may pass a stand-in)."""

    exchange: Any  # the venue (its fills, position, resting orders), or None before it is built
    record: Any  # the bot's record (read-only), or None
    ledger: Ledger
    entry_tolerance_bps: float
    venue_changes: int


class Watch:
    """Follows the bot's requests and answers for the checks above (see the module docstring)."""

    def __init__(self, truth: TruthView) -> None:
        self.truth = truth
        self.start_ms = 0
        self.cycle_ms = 60_000
        self.record_problems = Problems()  # invariant 2 at clean reconciles
        self.protection_problems = Problems()  # invariant 4: acceptance and grace period
        self.duplicate_problems = Problems()  # invariant 3: two live protective orders for one role
        self.clean_reconciles = 0
        # the last position read, if fresh: (venue fills when the bot received it, the position it says);
        # no entry or exit of the bot's can fill between the venue's answer and its arrival (it waits)
        self._read: tuple[int, Decimal] | None = None
        self._rec: _Reconcile | None = None
        self._last_request: Any = None
        self._last_error: type | None = None  # the kind of failure the bot's last request met, if any
        self._backing_off = False  # the bot sleeps for the venue's retry-after before asking again
        self.acceptance = Acceptance(truth, self.protection_problems, self.duplicate_problems)
        self._pending: dict[str, tuple[int, int]] = {}  # misfit client id -> (first seen, deadline boundary)
        self._carried: dict[str, tuple[int, int]] = {}
        # client id -> when the bot last sent a cancel or amend for it that the venue did not refuse
        self._acted: dict[str, int] = {}
        self._act: tuple[str, int | None] | None = None  # the cancel or amend awaiting its answer (and the time before)
        self._quiet: tuple = ()  # (record, its version, venue changes) at the last clean reconcile checked

    # ---------------------------------------------------------------- what the bot receives
    def received(self, now: int, reply: Any, error: Exception | None) -> None:
        """The bot is about to read ``reply`` (or ``error``; both None: nothing)."""
        kind = type(reply)
        self._last_error = type(error) if error is not None else None
        if kind is PositionsReport:
            qty, entry = ZERO, ZERO
            for p in reply.positions:
                qty, entry = p.qty, p.entry_price
            ex = self.truth.exchange
            self._read = (len(ex.fills) if ex is not None else 0, qty)
            rec = self._rec
            if rec is not None and rec.reread:  # the same reconcile, its position read again
                rec.read_ts, rec.qty, rec.entry, rec.reread = reply.ts, qty, entry, False
            else:
                self._rec = _Reconcile(reply.ts, qty, entry)
        elif kind is OpenOrdersReport:
            rec = self._rec
            if rec is not None and rec.listed is None:
                rec.listed = {o.client_id: o for o in reply.orders}
        elif kind is FillsReport:
            rec = self._rec
            if rec is not None and rec.listed is not None:
                rec.fills_read = True
        elif kind is OrderReport:
            rec = self._rec
            if rec is not None and rec.fills_read and type(self._last_request) is FetchOrder:
                rec.lookups[reply.client_id] = reply
                rec.failed.discard(reply.client_id)
        elif kind is OpenAlgoOrdersReport:  # the venue's algo service lists our TP/SL (Binance since 2025-12)
            rec = self._rec
            if rec is not None and rec.fills_read and rec.listed is not None:
                rec.listed.update({a.client_algo_id: _AlgoListed.of(a) for a in reply.orders})  # type: ignore[misc]
                rec.failed.discard("open algo orders")
        elif kind is AlgoOrderReport:
            rec = self._rec
            if rec is not None and rec.fills_read and type(self._last_request) is FetchAlgoOrder:
                rec.lookups[reply.client_algo_id] = _AlgoListed.of(reply)  # type: ignore[assignment]
                rec.failed.discard(reply.client_algo_id)
        elif error is not None:
            if isinstance(error, RequestTimeout):
                self._read = None  # the bot lost sight of the venue: its last read is stale
            elif isinstance(error, Rejected) and self._act is not None:
                cid, before = self._act  # the venue refused the cancel or amend (e.g. one of the wrong
                if before is None:  # id space: a CancelOrder for an algo order): it did not act
                    self._acted.pop(cid, None)
                else:
                    self._acted[cid] = before
            rec = self._rec
            if rec is not None and rec.fills_read and type(self._last_request) is FetchOpenAlgoOrders:
                rec.failed.add("open algo orders")  # the listing is incomplete: not a clean reconcile
            if rec is not None and rec.fills_read and type(self._last_request) in _LOOKUPS:
                last = self._last_request
                cid = last.client_id if type(last) is FetchOrder else last.client_algo_id
                if isinstance(error, Rejected) and error.reason is RejectReason.UNKNOWN_ORDER:
                    rec.lookups[cid] = None
                    rec.failed.discard(cid)
                else:
                    rec.failed.add(cid)

    # ------------------------------------------------------------------ what the bot sends
    def request(self, now: int, request: Any) -> None:
        kind, prev = type(request), type(self._last_request)
        self._last_request = request
        self._act = None
        backing_off = kind is Sleep and ((prev is FetchPositions and self._last_error is RateLimited) or
                                         (prev is Sleep and self._backing_off))
        retry = self._backing_off if kind is FetchPositions and prev is Sleep else \
            backing_off if kind is Sleep else kind is FetchPositions and prev is FetchPositions and \
            self._last_error is RequestTimeout
        self._backing_off = backing_off
        rec = self._rec
        if rec is not None:
            if rec.fills_read:  # lookups by client id, then anything else: the reconcile has been applied
                if kind is FetchPositions and not rec.lookups and not rec.reread:
                    rec.reread = True  # a fill newer than the position read: the bot reads it again
                elif rec.reread and retry:
                    pass  # the re-read got no answer: asked again at once, or after the venue's retry-after
                elif kind is FetchOpenOrders:  # a fresh reconcile from the position just read: the last was given up
                    self._abandon()
                    self._rec = _Reconcile(rec.read_ts, rec.qty, rec.entry, begun=True)
                    self._carried, self._pending = self._pending, {}
                elif kind is FetchOpenAlgoOrders:
                    rec.failed.add("open algo orders")  # until its answer comes
                elif kind not in _RECONCILE_READS:
                    self._rec = None
                    if rec.reread:  # the re-read never came back: the bot knows it does not know
                        self._abandon()
                    else:
                        self._reconciled(now, rec)
            elif rec.listed is None:  # after a position read
                if kind is FetchOpenOrders:
                    if not rec.begun:  # a reconcile begins: misfits are judged afresh at its end
                        rec.begun = True
                        self._carried, self._pending = self._pending, {}
                elif kind is not Sleep:  # not a reconcile (a read before deciding), or one given up
                    self._abandon()
            elif kind is not FetchFills and kind is not Sleep:
                self._abandon()
        if kind is Sleep:
            self._read = None  # a back-off or a cycle's end: time passed, the read is stale
            if self._pending:
                self._deadline(now, request.until_ms)
        elif kind is CancelOrder or kind is AmendOrder or kind is CancelAlgoOrder:
            cid = request.client_algo_id if kind is CancelAlgoOrder else request.client_id
            self._act = (cid, self._acted.get(cid))  # undone if the venue refuses it
            self._acted[cid] = now
        elif kind is SubmitAlgoOrder:  # the algo route: the position it could know is read back at acceptance
            self.acceptance.sent_algo(now, request, self._read)

    def _abandon(self) -> None:
        """A reconcile that did not complete: the bot is not certain, misfits wait for a clean one."""
        self._rec = None
        self._carried = {}

    def finished(self, now: int) -> None:
        """The bot's generator returned (the final pass): a reconcile that just ended is checked."""
        rec, self._rec = self._rec, None
        if rec is not None and rec.fills_read:
            self._reconciled(now, rec)

    def down(self) -> None:
        """The bot process died: what it read dies with it, and the grace period starts over."""
        self._read = None
        self._rec = None
        self._pending, self._carried = {}, {}

    # ------------------------------------------------------------------- protective orders
    def before_submit(self, request: SubmitOrder) -> None:
        """Remember the position the bot could know as it sends a protective order (legacy route)."""
        self.acceptance.before_submit(request, self._read)

    def accepted(self, ts: int, order: Any, role: OrderRole) -> None:
        """A protective order of ours reached the venue: was it sized on what the bot could know?"""
        parsed = parse_client_id(order.client_id)
        if parsed is not None:
            self.acceptance.accepted(ts, order, parsed)

    def algo_accepted(self, ts: int, report: AlgoOrderReport) -> None:
        """An algo (conditional) order reached the venue's algo service: the same checks."""
        self.acceptance.algo_accepted(ts, report)

    # ---------------------------------------------------------------------- reconcile ends
    def _reconciled(self, now: int, rec: _Reconcile) -> None:
        record = self.truth.record
        if record is None or rec.listed is None:
            return
        carried, self._carried = self._carried, {}
        key = (id(record), record.version, self.truth.venue_changes)
        if key == self._quiet and not rec.lookups and not rec.failed:  # nothing changed: the same verdict
            self.clean_reconciles += 1
            self._pending = carried
            return
        live, flight = record.order_belief()
        if rec.failed or flight:
            return  # not clean: the bot knows it does not know; misfits wait for a clean one
        self.clean_reconciles += 1
        self._quiet = key
        self._check_record(now, rec, record, live)
        bot_id = getattr(record, "bot_id", None)
        # the grace period ends with the bot's cycle after this one (DESIGN.md: "beyond one cycle")
        boundary = self.start_ms + ((now - self.start_ms) // self.cycle_ms + 2) * self.cycle_ms
        shown = dict(rec.listed)  # what the reads show live: listed, or found live by a lookup
        shown.update({cid: o for cid, o in rec.lookups.items() if o is not None and o.status.is_open})
        for cid, o in shown.items():
            p = parse_client_id(cid)
            if p is None or p.role not in PROTECTIVE or (bot_id is not None and p.bot_id != bot_id):
                continue
            if not fits(o.side, _remaining(o), rec.qty):
                self._pending[cid] = carried.get(cid) or self._pending.get(cid) or (now, boundary)

    def _check_record(self, now: int, rec: _Reconcile, record: Any, live: dict[str, Decimal | None]) -> None:
        held = self.truth.ledger.positions_at(rec.read_ts)
        if rec.qty not in held:
            self.record_problems.add(f"t={rec.read_ts}: the venue reported a position of {rec.qty}, its fills "
                                     f"say {sorted(held)}")
        rqty = record.position_qty()
        if rqty != rec.qty:
            self.record_problems.add(f"t={now}: after a clean reconcile the record holds {rqty}, the venue "
                                     f"{rec.qty} (read at t={rec.read_ts})")
        elif rec.qty != 0 and rec.entry > 0:
            entry = record.state.position.entry
            gap_bps = abs(float(entry) / float(rec.entry) - 1.0) * 1e4
            if gap_bps > self.truth.entry_tolerance_bps + 1e-6:
                self.record_problems.add(f"t={now}: after a clean reconcile the record's entry is {entry}, the "
                                         f"venue's {rec.entry} ({gap_bps:.2f} bps)")
        bot_id = getattr(record, "bot_id", None)
        expected = {cid: o.trigger_price for cid, o in rec.listed.items()
                    if (p := parse_client_id(cid)) is not None and (bot_id is None or p.bot_id == bot_id)}
        for cid, report in rec.lookups.items():
            if report is not None and report.status.is_open:
                expected[cid] = report.trigger_price
        if expected != live:
            extra = sorted(set(live) - set(expected))
            missing = sorted(set(expected) - set(live))
            moved = sorted(c for c in set(live) & set(expected) if live[c] != expected[c])
            self.record_problems.add(f"t={now}: after a clean reconcile the record's live orders differ from the "
                                     f"venue's: only in the record {extra}, only at the venue {missing}, "
                                     f"trigger differs {moved}")

    def _deadline(self, now: int, until_ms: int) -> None:
        """The bot goes to sleep: misfits whose grace period ends here must have been dealt with."""
        ex = self.truth.exchange
        for cid, (seen, boundary) in list(self._pending.items()):
            if until_ms < boundary:
                continue  # a back-off within the cycle, not its end
            del self._pending[cid]
            if ex is None or self._acted.get(cid, -1) >= seen:
                continue
            live = live_protective(ex, cid)  # a resting trigger order, or an algo order (or its working child)
            if live is not None and not fits(live.side, live.remaining, ex.book.qty):
                self.protection_problems.add(
                    f"t={now}: protective {live.describe()} misfit on a position of {ex.book.qty} since the "
                    f"clean reconcile at t={seen}; the cycle ended with no cancel sent (or only ones the venue "
                    f"refused)")
