"""The bot's cycle: the thin generator that does the I/O around the pure parts.

One cycle: reconcile (fetch positions, open orders, fills; look up orders the venue no longer
lists; compare; correct; record drift) -> if anything is still uncertain, stop here -> market
data -> strategy target -> engine decision on the live position -> margin check on a fresh
account -> orders -> protective posture -> sleep to the next cycle boundary.
"""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sim.bot.acting import ExecutionPolicy, pending_target, pursue
from sim.bot.clock import ReplyClock
from sim.bot.execution import ProtectivePolicy, apply_update, cancel, ensure_protection
from sim.bot.reconcile import ReconcileResult, reconcile
from sim.bot.record import PlatformRecord
from sim.bot.refusals import send
from sim.bot.sizing import SizingPolicy
from sim.bot.state import OrderState
from sim.bot.strategy.base import Strategy, target_problem
from sim.core.errors import ExchangeError, RateLimited, Rejected, RequestTimeout, StrategyError
from sim.core.ids import parse_client_id
from sim.core.instrument import Instrument
from sim.core.messages import (
    AmendOrder,
    CancelOrder,
    CandlesReport,
    FetchCandles,
    FetchFills,
    FetchOpenOrders,
    FetchOrder,
    FetchPositions,
    FillReport,
    FillsReport,
    OpenOrdersReport,
    OrderReport,
    PositionsReport,
    Sleep,
    SubmitOrder,
    Woke,
)
from sim.core.types import ClientOrderId, OrderRole, OrderStatus, RejectReason, Side

Io = Generator[Any, Any, Any]
ZERO = Decimal(0)
_ACTS = frozenset({SubmitOrder, CancelOrder, AmendOrder, Sleep})


@dataclass(frozen=True, slots=True)
class BotConfig:
    bot_id: str
    instrument: Instrument
    cycle_ms: int
    start_ms: int
    protective: ProtectivePolicy = ProtectivePolicy()
    entry_tolerance_bps: float = 1.0
    max_position: Decimal | None = None  # absolute base quantity the bot may hold
    max_leverage: float | None = None  # position notional / equity the bot may hold
    sizing: SizingPolicy = SizingPolicy()
    execution: ExecutionPolicy = ExecutionPolicy()


class Bot:
    """One bot instance: its record, its strategy and its configuration."""

    def __init__(self, config: BotConfig, record: PlatformRecord, strategy: Strategy,
                 clock: ReplyClock | None = None, restarted: bool = False) -> None:
        self.config = config
        self.record = record
        self.strategy = strategy
        self.clock = clock if clock is not None else ReplyClock(config.start_ms)
        self.last_candle_open: int | None = None
        self.cycles = 0
        self.early_reconciles = 0
        self._protected_version = -1
        self.halted = False  # a mid-cycle reconcile found the picture wrong: no more trading this cycle
        self.certain = False  # the last reconcile finished and left no order uncertain
        self.woken_by_surprise = False  # a back-off was cut short by a surprising pushed update
        # after a restart: the first reconcile's findings are the crash's doing, and the strategy's
        # history is replayed to warm it up without acting on signals from before the crash
        self.restarted = restarted
        self.warming = restarted
        # the reads every reconcile sends never change: built once (immutable values)
        self._fetch_positions = FetchPositions(config.instrument.symbol)
        self._fetch_open_orders = FetchOpenOrders(config.instrument.symbol)

    # ----------------------------------------------------------------------------- main loop
    def run(self, until_ms: int | None = None) -> Io:
        """The bot's life: a startup reconcile, then one cycle per interval.

        Its driver must call `before_request` with each request this yields, before sending it:
        that is where the record is committed (write-ahead: durable before anything that acts on
        the venue, and at the end of each cycle).
        """
        self.record.deferred = True
        return (yield from self._life(until_ms))

    def before_request(self, request: object) -> None:
        """Commit the record before a request that acts on the venue, and before sleeping.

        Reads need no commit: whatever a crash loses between two reads, the next reconcile learns
        again from the venue; an order sent without its intent on disk could be orphaned.
        """
        if type(request) in _ACTS:
            self.record.flush()

    def _life(self, until_ms: int | None) -> Io:
        cfg = self.config
        while until_ms is None or self.clock.now < until_ms:
            self.cycles += 1
            yield from self.cycle()
            if self.woken_by_surprise:  # noticed while backing off: look now, not at the next cycle
                yield from self.react()
            k = (self.clock.now - cfg.start_ms) // cfg.cycle_ms + 1
            boundary = cfg.start_ms + k * cfg.cycle_ms
            woke: Woke = yield Sleep(boundary)
            while woke.ts < boundary:  # woken early by pushed updates
                if self.surprising(woke.updates):
                    yield from self.react()
                woke = yield Sleep(boundary)

    def surprising(self, updates: tuple) -> bool:
        """Does a pushed update say the venue changed something the bot did not do itself?

        A fill or status change of one of our *resting* orders (a TP/SL firing, an operator's
        cancel), or anything about an order that is not ours. Updates about orders in flight are
        expected: their own responses will say the same.
        """
        orders = self.record.state.orders
        for u in updates:
            cid = getattr(u, "client_id", None)
            parsed = parse_client_id(cid)
            if parsed is None or parsed.bot_id != self.config.bot_id:
                return True
            order = orders.get(cid)
            if order is not None and order.status.is_open and (
                    isinstance(u, FillReport) or getattr(u, "status", order.status) is not order.status):
                return True
        return False

    def react(self) -> Io:
        """Reconcile now, between cycles, and put protection right (no new decisions)."""
        self.early_reconciles += 1
        self.woken_by_surprise = False
        result = yield from self.reconcile()
        if result is not None and not result.uncertain:
            yield from self.protect()

    def settle(self) -> Io:
        """The last pass before the bot stops: reconcile, withdraw protection that no longer fits
        (orphaned, or larger than the position), and reconcile again. It never trades."""
        result = yield from self.reconcile()
        if result is None:
            return
        qty = abs(self.record.state.position.qty)
        for order in list(self.record.state.open_protective()):
            if order.status.is_open and (qty == 0 or order.qty - order.filled_qty > qty):
                yield from cancel(self.record, self.config.instrument, order, "stopping: protection no longer fits",
                                  self.clock)
        yield from self.reconcile()

    def cycle(self) -> Io:
        self.halted = False
        self.woken_by_surprise = False
        result = yield from self.reconcile()
        if result is None or result.uncertain:
            return  # never act on state known to be uncertain
        if result.drifted and self.record.state.pending is not None and not result.after_restart:
            self.record.set_pending(None)  # the position moved for reasons of its own: decide afresh
        target = yield from self.strategy_target()
        if target is None:
            target = pending_target(self)
        if target is not None:
            yield from pursue(self, target)
        yield from self.protect()

    def uncertain(self) -> bool:
        """Is any order of ours of unknown status? Then the position the record holds may be stale."""
        return any(o.status is OrderStatus.UNKNOWN for o in self.record.state.orders.values())

    def protect(self) -> Io:
        """Put protection right, unless nothing in the record changed since it was found right.

        Protection is sized to the record's position, so it waits while the state is uncertain
        (an order of unknown status may have moved the position; the last reconcile did not
        finish): the next reconcile resolves it. Its orders go through the same refusal handling
        as entries (a rate-limited stop-loss is re-sent after the retry-after, not next cycle).
        """
        if self.record.version == self._protected_version or not self.certain or self.uncertain():
            return
        settled = yield from ensure_protection(self.record, self.config.instrument, self.config.protective,
                                               self.clock, send=self.send)
        self._protected_version = self.record.version if settled else -1

    def send(self, role: OrderRole, side: Side, qty: Decimal, **kwargs: Any) -> Io:
        """Submit one order with refusals handled by kind (see `sim.bot.refusals`)."""
        return (yield from send(self, role, side, qty, **kwargs))

    def back_off(self, until_ms: int) -> Io:
        """Wait until ``until_ms``: a pushed update that wakes the bot earlier does not end the wait
        (the venue said when to come back), but a surprising one is remembered and acted on."""
        woke: Woke = yield Sleep(until_ms)
        while woke.ts < until_ms:
            if self.surprising(woke.updates):
                self.woken_by_surprise = True
            woke = yield Sleep(until_ms)

    def recheck(self) -> Generator[Any, Any, ReconcileResult | None]:
        """Reconcile after a surprise (a reject, an unresolved timeout, an outage), before anything
        else acts; halt this cycle's trading unless the record proved right and certain."""
        result = yield from self.reconcile()
        if result is None or result.uncertain or result.drifted:
            self.halted = True
        return result

    def call(self, request: Any, attempts: int = 3) -> Io:
        """One read request, backing off for the venue's retry-after when rate limited, and asking
        again at once when the answer did not come in time (a read changes nothing: safe to repeat).

        Orders are not retried here: `send` handles their refusals by kind.
        """
        for attempt in range(attempts):
            try:
                return (yield request)
            except RateLimited as exc:
                if attempt == attempts - 1:
                    raise
                yield from self.back_off(self.clock.now + max(exc.retry_after_ms, 1))
            except RequestTimeout:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    # ---------------------------------------------------------------------------- reconcile
    def reconcile(self) -> Generator[Any, Any, ReconcileResult | None]:
        """Fetch a snapshot, compare it with the record and apply the corrections."""
        rec, sym = self.record, self.config.instrument.symbol
        try:
            positions: PositionsReport = yield from self.call(self._fetch_positions)
            open_orders: OpenOrdersReport = yield from self.call(self._fetch_open_orders)
            fills: FillsReport = yield from self.call(FetchFills(sym, rec.state.fills_since_ms))
        except ExchangeError:
            self.certain = False
            return None
        listed = {o.client_id for o in open_orders.orders}
        lookups: dict[ClientOrderId, OrderReport | None] = {}
        for order in rec.state.open_orders():
            if order.client_id in listed:
                continue
            try:
                lookups[order.client_id] = yield from self.call(FetchOrder(sym, order.client_id))
            except Rejected as exc:
                if exc.reason is RejectReason.UNKNOWN_ORDER:
                    lookups[order.client_id] = None  # the venue never had it
            except ExchangeError:
                pass  # no answer: stays uncertain, the engine waits
        result = reconcile(rec.state, positions, open_orders, fills.fills, lookups, sym, self.config.bot_id,
                           self.config.entry_tolerance_bps)
        if self.restarted:
            result = result.as_restart()  # what differs now is what the crash left behind
            self.restarted = False
        self.apply(result, self.clock.now)
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
                rec.add_order(order, "adopted from the venue")
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

    # ------------------------------------------------------------------------------ strategy
    def strategy_target(self) -> Io:
        strat = self.strategy
        iv = strat.candle_interval_ms
        try:
            if iv:
                since = self.config.start_ms if self.last_candle_open is None else self.last_candle_open + iv
                candles: CandlesReport = yield from self.call(FetchCandles(self.config.instrument.symbol, iv, since))
                for c in candles.candles:
                    strat.on_candle(c)
                    self.last_candle_open = c.open_ms
            target = strat.target(self.clock.now)
            problem = target_problem(target)
            if problem is not None:
                raise StrategyError(f"strategy {type(strat).__name__} returned {problem} at t={self.clock.now}")
            if self.warming:  # signals replayed from before a restart are history, not news
                self.warming = False
                return None
        except ExchangeError:
            return None
        except StrategyError:
            raise
        except Exception as exc:  # a user strategy's bug: stop the run, say where
            raise StrategyError(f"strategy {type(strat).__name__} raised at t={self.clock.now}: {exc!r}") from exc
        return target


__all__ = ["Bot", "BotConfig"]
