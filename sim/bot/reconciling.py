"""Reconciling: fetch a venue snapshot, compare it with the record (`sim.bot.reconcile`, pure) and
write the corrections and drift findings to the record in one transaction.

The reconciler knows whether the last reconcile finished with nothing uncertain (``certain``) and
whether the first one after a restart is still to come (its findings are the crash's doing).
`recheck` is the reconcile after a surprise (a reject, an unresolved timeout, an outage): it says
whether the bot may go on trading this cycle.
"""
from __future__ import annotations

from dataclasses import replace

from sim.bot.algo import ConditionalRoute, as_order_report, as_report, child_aliases, is_algo, lookup_request
from sim.bot.execution import apply_update, never_arrived
from sim.bot.policies import BotConfig
from sim.bot.reconcile import ReconcileResult, reconcile
from sim.bot.record import PlatformRecord
from sim.bot.session import Io, Session
from sim.bot.state import OrderState
from sim.core.errors import ExchangeError, Rejected
from sim.core.ids import parse_client_id
from sim.core.messages import (
    AlgoOrderReport,
    FetchFills,
    FetchOpenAlgoOrders,
    FetchOpenOrders,
    FetchPositions,
    FillsReport,
    OpenAlgoOrdersReport,
    OpenOrdersReport,
    OrderReport,
    PositionsReport,
)
from sim.core.types import ClientOrderId, RejectReason


class Reconciler:
    """Brings the record to the venue's truth, one snapshot at a time."""

    def __init__(self, config: BotConfig, record: PlatformRecord, session: Session, restarted: bool = False) -> None:
        self.config = config
        self.record = record
        self.session = session
        self.certain = False  # the last reconcile finished and left no order uncertain
        self.restarted = restarted  # the next reconcile is the first after a restart
        # the reads every reconcile sends never change: built once (immutable values)
        self._fetch_positions = FetchPositions(config.instrument.symbol)
        self._fetch_open_orders = FetchOpenOrders(config.instrument.symbol)
        self.algo = config.protective.route is ConditionalRoute.ALGO
        # a triggered TP/SL's child order (the venue's client id) -> ours, kept until its fills are booked
        # (a child's fill may reach the trade history after the lookup that named the child)
        self._children: dict[ClientOrderId, ClientOrderId] = {}

    def recheck(self) -> Io[bool]:
        """Reconcile after a surprise, before anything else acts: True when the record proved right and
        certain (the bot may go on), False when the picture was wrong or could not be read (halt this
        cycle's trading: the decision in hand was made on a picture that turned out wrong)."""
        result = yield from self.reconcile()
        return result is not None and not result.uncertain and not result.drifted

    def reconcile(self) -> Io[ReconcileResult | None]:
        """Fetch a snapshot, compare it with the record and apply the corrections."""
        rec, sym = self.record, self.config.instrument.symbol
        try:
            positions: PositionsReport = yield from self.session.call(self._fetch_positions)
            open_orders: OpenOrdersReport = yield from self.session.call(self._fetch_open_orders)
            fills: FillsReport = yield from self.session.call(FetchFills(sym, rec.state.fills_since_ms))
            if self.session.sight_lost or any(f.ts > positions.ts for f in fills.fills):
                # the position was read before a fill these reads found, or a read after it went unanswered
                # (time passed unseen): the snapshot is not one instant, so read the position again
                positions = yield from self.session.call(self._fetch_positions)
            algo_reports: list[AlgoOrderReport] = []
            if self.algo:  # conditional orders live in the venue's algo service: list them there
                open_algo: OpenAlgoOrdersReport = yield from self.session.call(FetchOpenAlgoOrders(sym))
                algo_reports.extend(open_algo.orders)
                open_orders = replace(open_orders, orders=open_orders.orders + tuple(
                    as_order_report(r) for r in open_algo.orders))
        except ExchangeError:
            self.certain = False
            return None
        listed = {o.client_id for o in open_orders.orders}
        lookups: dict[ClientOrderId, OrderReport | None] = {}
        for order in rec.state.open_orders():
            if order.client_id in listed:
                continue
            algo = is_algo(order.role, self.config.protective.route)
            try:
                answer = yield from self.session.call(lookup_request(sym, order.client_id, algo))
                if isinstance(answer, AlgoOrderReport):
                    algo_reports.append(answer)
                lookups[order.client_id] = as_report(answer)
            except Rejected as exc:
                if exc.reason is RejectReason.UNKNOWN_ORDER and (
                        order.status.is_open or never_arrived(order, exc.ts, self.config.recv_window_ms)):
                    lookups[order.client_id] = None  # the venue had it and forgot it, or never had it
                # else: it may still arrive: it stays uncertain, the engine waits
            except ExchangeError:
                pass  # no answer: stays uncertain, the engine waits
        found = fills.fills
        aliases = self._children
        aliases.update(child_aliases(algo_reports))
        if aliases:  # a triggered TP/SL's child order filled: its fills are that TP's or SL's
            found = tuple(replace(f, client_id=aliases[f.client_id]) if f.client_id in aliases else f for f in found)
        result = reconcile(rec.state, positions, open_orders, found, lookups, sym, self.config.bot_id,
                           self.config.entry_tolerance_bps)
        for cid, report in lookups.items():
            order = rec.state.orders.get(cid)
            if report is not None and order is not None and report.updated_ms is not None and \
                    report.updated_ms > positions.ts and report.filled_qty != order.filled_qty:
                # the order filled after the position was read (a TP/SL fired while the bot read): this snapshot
                # is not one instant, so nothing is sized on it; the next reconcile reads the fill and position
                result.uncertain.append(cid)
        if self.restarted:
            result = result.as_restart()  # what differs now is what the crash left behind
            self.restarted = False
        self.apply(result, self.session.now)
        if aliases:
            self._children = {child: ours for child, ours in aliases.items() if ours in rec.state.orders}
        self.certain = not result.uncertain
        return result

    def apply(self, result: ReconcileResult, ts: int) -> None:
        """Write a reconcile result to the record in one transaction, stamped with when the bot learnt it."""
        rec = self.record
        with rec.batch():
            for fill, cause in result.new_fills:
                rec.add_fill(fill, "expected" if cause is None else cause.value)
            for upd in result.order_updates:
                order = rec.state.orders.get(upd.client_id)
                if order is not None:
                    apply_update(rec, order, upd.status, upd.filled_qty, upd.avg_price, ts, upd.reason,
                                 move_position=False)
            for report in result.adopted:
                parsed = parse_client_id(report.client_id)
                assert parsed is not None
                order = OrderState(report.client_id, parsed.intent, parsed.role, report.side, report.type, report.qty,
                                   report.reduce_only, report.trigger_price, report.status, ts, ts,
                                   filled_qty=report.filled_qty, avg_price=report.avg_price)
                rec.adopt_order(order, "adopted from the venue")
            episode = None
            if result.findings:
                first = result.findings[0]
                correction = "; ".join(f.detail for f in result.findings)
                episode = rec.add_drift_episode(ts, None if result.uncertain else ts,
                                                min((f.evidence_ms for f in result.findings if f.evidence_ms),
                                                    default=None),
                                                first.kind, first.cause.value, rec.state.position.qty,
                                                result.position[0] if result.position else rec.state.position.qty,
                                                correction)
            for cid, trigger in result.trigger_moves:
                order = rec.state.orders.get(cid)
                if order is not None:
                    rec.set_trigger_price(order, trigger, ts, "the venue reports it moved: live state is the truth",
                                          episode)
            if result.position is not None:
                before = rec.state.position
                if episode is not None:
                    rec.add_correction(episode, ts, "position", f"{before.qty}@{before.entry}",
                                       f"{result.position[0]}@{result.position[1]}", "venue is the truth source")
                rec.set_position(result.position[0], result.position[1], ts, "reconcile")
            if result.new_fills:
                rec.set_fills_since(max(f.ts for f, _ in result.new_fills))
            if not result.uncertain:  # a clean reconcile: what was found while uncertain is resolved now
                rec.resolve_drift_episodes(ts, "a reconcile with nothing uncertain: record matches the venue")


__all__ = ["Reconciler"]
