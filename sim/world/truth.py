"""Ground truth: what the world knows that the bot does not.

It listens to the venue (orders, fills, position) and samples the bot's record after every bot
step, so it can say when each divergence between record and venue began and ended (of the
position, and of our live orders: which are live and at what trigger price), and count
what a report must not take from the bot's own word: stale actions (orders sent while the record
differed from the venue), unintended exposure (a bot fill leaving a position beyond what the bot
targeted) and duplicates (two live orders for one intent).
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from sim.core.ids import parse_client_id
from sim.core.messages import AlgoOrderReport, FillReport, SubmitOrder
from sim.core.types import FillKind, OrderRole, RejectReason
from sim.world.exchange import SimExchange
from sim.world.ledger import Ledger
from sim.world.protective import live_protection
from sim.world.runlog import RunLog
from sim.world.venue_orders import VenueOrder
from sim.world.watch import Watch

_GONE = object()
PROTECTIVE = (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS)
ORDER_KINDS = frozenset({"order_vanished", "order_unknown_to_record", "order_moved", "protective_missing",
                         "protective_moved"})


class RecordView(Protocol):
    """Read-only view of the bot's platform record, as the world samples it."""

    def position_qty(self) -> Decimal: ...
    def target_qty(self) -> Decimal | None: ...
    def equity(self) -> float | None: ...
    def order_belief(self) -> tuple[dict[str, Decimal | None], frozenset[str]]: ...

    @property
    def version(self) -> int: ...


class GroundTruth:
    def __init__(self, log: RunLog) -> None:
        self.log = log
        self.exchange: SimExchange | None = None
        self.record: RecordView | None = None
        self.exchange_qty = Decimal(0)
        self.record_qty = Decimal(0)
        self.diverged_since: int | None = None
        self.divergences: list[tuple[int, int | None]] = []  # (began, ended)
        # our live orders at the venue (client id -> trigger price), and when the record's belief
        # about them (which are live, at what trigger) first differed from that
        self.venue_orders: dict[str, Decimal | None] = {}
        self.orders_diverged_since: int | None = None
        self.order_divergences: list[tuple[int, int | None]] = []
        self._belief_version: tuple[int, int] = (0, -1)  # (which record, its version) last sampled
        self._belief: tuple[dict[str, Decimal | None], frozenset[str]] = ({}, frozenset())
        self.stale_actions = 0
        self.unintended_exposure = 0
        self.duplicates = 0
        self._intents: dict[tuple, list[VenueOrder]] = {}
        # each bot fill that grew the position: (ts, client id, position after, its notional / equity),
        # for invariant 5; and protection found larger than the live position right after a bot fill
        # (at acceptance and during the run: see `Watch`), for invariant 4
        self.exposure_steps: list[tuple[int, str, Decimal, float]] = []
        self.protection_breaches: list[str] = []
        self.publish: Callable[[int, object], None] | None = None  # the venue's pushed-update stream
        self.ledger = Ledger()  # the account by the checker's own arithmetic (invariants 1 and 2)
        self.watch = Watch(self)  # the bot's reads and acts (invariants 2, 3 and 4 during the run)
        self.entry_tolerance_bps = 1.0
        self.down = False  # the bot process is dead: no record is in use, the timeline marks the gap
        self.venue_changes = 0  # orders and fills the venue reported so far (has anything changed since?)

    # ---------------------------------------------------------------- venue observer
    def on_order(self, ts: int, order: VenueOrder, what: str, detail: str = "") -> None:
        self.venue_changes += 1
        if self.publish is not None:
            self.publish(ts, order.report(ts))
        price = order.trigger_price if order.trigger_price is not None else order.avg_price
        self.log.event(ts, f"order_{what.split(':')[0].replace(' ', '_')}", "venue", order.client_id,
                       order.side.value, float(order.qty), None if price is None else float(price), detail or what)
        if parse_client_id(order.client_id) is not None and (self.record is None or self._ours(order.client_id)):
            if order.status.is_open:
                self.venue_orders[order.client_id] = order.trigger_price
            else:
                self.venue_orders.pop(order.client_id, None)
            self._compare_orders(ts)
        if what == "accepted":
            parsed = parse_client_id(order.client_id)
            if parsed is not None and parsed.role in PROTECTIVE and order.source == "bot":
                self.watch.accepted(ts, order, parsed.role)
            if parsed is not None:
                siblings = self._intents.setdefault(parsed.intent_key, [])
                if any(o.status.is_open or o.filled_qty > 0 for o in siblings):
                    self.duplicates += 1
                    self.log.event(ts, "duplicate_order", "truth", order.client_id,
                                   detail="second live order for one intent")
                siblings.append(order)

    def on_reject(self, ts: int, request: SubmitOrder, reason: RejectReason, detail: str) -> None:
        cid = getattr(request, "client_id", None) or getattr(request, "client_algo_id", None)
        qty = getattr(request, "qty", None)
        self.log.event(ts, "order_rejected", "venue", cid, request.side.value, None if qty is None else float(qty),
                       None, f"{reason.value}: {detail}")

    def on_algo(self, ts: int, report: AlgoOrderReport, what: str) -> None:
        """An algo (conditional) order changed: pushed to the bot and logged, and when one of ours is
        accepted the watch checks it as it checks a legacy TP/SL. (Its child order is followed
        through `on_order`.)"""
        if self.publish is not None:
            self.publish(ts, report)
        self.log.event(ts, f"algo_{what.split(':')[0].replace(' ', '_')}", "venue", report.client_algo_id,
                       report.side.value, None if report.qty is None else float(report.qty),
                       float(report.trigger_price), what)
        cid = report.client_algo_id
        if what == "accepted":
            self.watch.algo_accepted(ts, report)  # invariants 3 and 4 at acceptance, as for a legacy order
        if parse_client_id(cid) is not None and (self.record is None or self._ours(cid)):
            if report.status.is_open:  # our live TP/SL at the venue, as for a legacy-route order
                self.venue_orders[cid] = report.trigger_price
            else:
                self.venue_orders.pop(cid, None)
            self._compare_orders(ts)

    def on_fill(self, fill: FillReport, order: VenueOrder | None) -> None:
        self.ledger.add(fill)
        self.venue_changes += 1
        if self.publish is not None:
            self.publish(fill.ts, fill)
        self.log.event(fill.ts, f"fill_{fill.kind.value}", "venue", fill.client_id, fill.side.value,
                       float(fill.qty), float(fill.price), fill.trade_id)

    def on_position(self, ts: int, qty: Decimal) -> None:
        before = self.exchange_qty
        self.exchange_qty = qty
        self._compare(ts)
        self._timeline(ts)
        ex = self.exchange
        last = ex.fills[-1] if ex is not None and ex.fills and qty != before else None
        mine = parse_client_id(last.client_id) if last is not None and last.kind is FillKind.TRADE else None
        if mine is not None and ex is not None and mine.role not in PROTECTIVE:
            if abs(qty) > abs(before):
                mid = ex.path.mark_at(ts)
                equity = ex.book.wallet + (float(qty) * (mid - ex.book.entry) if qty else 0.0)
                lev = abs(float(qty)) * mid / equity if equity > 0 else float("inf")
                self.exposure_steps.append((ts, last.client_id, qty, lev))  # type: ignore[arg-type]
            for lp in live_protection(ex):  # either route (`sim.world.protective`)
                if lp.remaining is not None and lp.remaining > abs(qty):
                    self.protection_breaches.append(f"t={ts}: after bot fill {last.client_id} protective "
                                                    f"{lp.describe()} exceeds the position {qty}")
        if self.record is not None and qty != before:
            target = self.record.target_qty()
            if target is not None and qty != 0 and (target * qty < 0 or abs(qty) > abs(target)) and \
                    abs(qty) > abs(before):
                last = self.exchange.fills[-1] if self.exchange and self.exchange.fills else None
                if last is not None and parse_client_id(last.client_id) is not None:
                    self.unintended_exposure += 1
                    self.log.event(ts, "unintended_exposure", "truth", last.client_id, None, float(qty), None,
                                   f"position {qty} beyond target {target}")

    # ------------------------------------------------------------------- the bot side
    def after_bot_step(self, ts: int) -> None:
        """Sample the record after the bot ran (it may have corrected or updated itself)."""
        if self.record is None:
            return
        version = (id(self.record), self.record.version)
        if version == self._belief_version:
            return  # nothing written since the last sample: the position and orders are as then
        self._belief_version = version
        self._belief = self.record.order_belief()
        self._compare_orders(ts)
        qty = self.record.position_qty()
        if qty != self.record_qty:
            self.record_qty = qty
            self._compare(ts)
            self._timeline(ts)
        elif self.diverged_since is not None and qty == self.exchange_qty:
            self._compare(ts)

    def bot_received(self, ts: int, reply: object, error: Exception | None) -> None:
        """The bot is about to read an answer (or an error) from the venue."""
        if reply is not None or error is not None:
            self.watch.received(ts, reply, error)

    def bot_request(self, ts: int, request: object) -> None:
        """The bot sends a request (after its record was sampled: see `after_bot_step`)."""
        self.watch.request(ts, request)

    def bot_finished(self, ts: int) -> None:
        """The bot's generator returned (the final pass at the end of the run)."""
        self.after_bot_step(ts)
        self.watch.finished(ts)

    def bot_down(self, ts: int) -> None:
        """The bot process died: until a new one starts there is no record in use (the timeline says
        so with a gap, rather than showing the dead process's last view as drift)."""
        self.watch.down()
        self._timeline(ts)
        self.down = True
        self._timeline(ts)

    def bot_up(self, ts: int) -> None:
        """A new bot process starts from its record: the timeline resumes with what that record holds."""
        if not self.down:
            return
        self.down = False
        self._belief_version = (0, -1)
        self.after_bot_step(ts)
        self._timeline(ts)

    def before_submit(self, ts: int, request: SubmitOrder) -> None:
        """Count a stale action: an order sent while the record differs from the venue."""
        self.watch.before_submit(request)
        if self.record_qty != self.exchange_qty:
            self.stale_actions += 1
            self.log.event(ts, "stale_action", "truth", request.client_id, request.side.value, float(request.qty),
                           None, f"record {self.record_qty} vs venue {self.exchange_qty}")

    def sample(self, ts: int) -> None:
        """A periodic timeline point (each bot cycle), for the equity curve."""
        self._timeline(ts)

    def _compare(self, ts: int) -> None:
        if self.record_qty != self.exchange_qty:
            if self.diverged_since is None:
                self.diverged_since = ts
                self.divergences.append((ts, None))
        elif self.diverged_since is not None:
            self.divergences[-1] = (self.diverged_since, ts)
            self.diverged_since = None

    def _ours(self, cid: str) -> bool:
        parsed = parse_client_id(cid)
        bot_id = getattr(self.record, "bot_id", None)
        return parsed is not None and (bot_id is None or parsed.bot_id == bot_id)

    def _compare_orders(self, ts: int) -> None:
        """Do the record's live orders (and their trigger prices) differ from the venue's? Orders in
        flight (sent, or of unknown status) count neither way: their answer is on its way."""
        live, flight = self._belief
        venue = self.venue_orders
        same = all(venue.get(cid, _GONE) == trig for cid, trig in live.items() if cid not in flight) and \
            all(cid in live or cid in flight for cid in venue)
        if not same:
            if self.orders_diverged_since is None:
                self.orders_diverged_since = ts
                self.order_divergences.append((ts, None))
        elif self.orders_diverged_since is not None:
            self.order_divergences[-1] = (self.orders_diverged_since, ts)
            self.orders_diverged_since = None

    def _timeline(self, ts: int) -> None:
        ex = self.exchange
        if ex is None:
            return
        down = self.down
        rec_eq = self.record.equity() if self.record is not None and not down else None
        mid = ex.path.mark_at(ts)
        book = ex.book
        equity = book.wallet + (float(book.qty) * (mid - book.entry) if book.qty else 0.0)
        self.log.timeline.append(ts, mid, None if down else float(self.record_qty), float(self.exchange_qty), equity,
                                 rec_eq)

    def began_for(self, detected_ms: int, kind: str | None = None) -> int | None:
        """When the divergence the bot detected at ``detected_ms`` began (None: none was open then).

        Episodes about orders (one vanished, protection missing or moved, an order unknown to the
        record) look at the divergence of live orders first, the rest at the position's.
        """
        spans = (self.order_divergences, self.divergences) if kind in ORDER_KINDS else (self.divergences,)
        for divergences in spans:
            for began, ended in reversed(divergences):
                if began <= detected_ms and (ended is None or ended >= detected_ms):
                    return began
        return None
