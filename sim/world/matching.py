"""The venue's matching engine: orders, fills against the depth ladder, triggers, and time.

Time: the venue catches up to ``now`` before it answers anything (`catch_up`), so at one instant
the venue always acts before the bot. Armed thresholds (TP/SL triggers by mark or last price,
resting limit prices, the liquidation price) are found by first-passage search over the price
path; the venue asks its `scheduler` to wake it at the first crossing and never steps ticks. Under
``order_response = "ack"`` a market, IOC or FOK order is answered ACKNOWLEDGED and matches after a
matching delay drawn per order: a wake-up like a crossing (`pending`).

Matching model: a market order (or a triggered TP/SL, or the marketable part of a limit) takes
from the `liquidity` book (a `sim.world.liquidity.Book`: touch, reach, take; the only way the venue
reaches the book) and any rest beyond it is cancelled (IOC). A resting limit fills when its `queue`
model says so (`sim.world.queue`: a queue position advanced by aggressive volume, or fill on
touch), at the limit price with the maker fee. A fill that closes or flips the position expires
its reduce-only limit orders, and close-position algo orders once flat (Binance).
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from decimal import Decimal

import numpy as np

from sim.core import venue_codes as vc
from sim.core.errors import Rejected
from sim.core.instrument import Instrument
from sim.core.messages import AccountReport, AmendOrder, FillReport, SubmitAlgoOrder, SubmitOrder
from sim.core.types import (
    ClientOrderId,
    FillKind,
    OrderStatus,
    OrderType,
    RejectReason,
    Side,
    TimeInForce,
    TradeId,
    VenueOrderId,
)
from sim.world.accounting import PositionBook
from sim.world.algo_orders import AlgoOrder, AlgoService
from sim.world.liquidity import Book, DepthProfile, LiquiditySchedule
from sim.world.margin import liquidation_price, open_order_margin
from sim.world.market import PricePath
from sim.world.order_checks import Check, check_order, forced_reject, trigger_would_fire
from sim.world.order_registry import Registry
from sim.world.queue import QueueModel, TouchQueue
from sim.world.thresholds import threshold_bands
from sim.world.venue_orders import PRICE_Q, VenueObserver, VenueOrder
from sim.world.venue_rules import VenueRules

_IMMEDIATE = (TimeInForce.IOC, TimeInForce.FOK)


def refuse(code: vc.VenueCode, detail: str, now: int) -> Rejected:
    """The venue's refusal: the reason the bot decides by, Binance's code, name and message."""
    message = detail if "{}" in code.message else f"{code.message} ({detail})" if detail else code.message
    return Rejected(code.reason, message, now, code.code, code.name)


class VenueCore:
    """The matching engine and order book of one account on one linear perpetual (the port and
    account operations are `SimExchange`'s)."""

    def __init__(self, instrument: Instrument, path: PricePath, depth: DepthProfile | Book,
                 rules: VenueRules, balance: float, observer: VenueObserver,
                 scheduler: Callable[[int | None], None] = lambda t: None,
                 matching_rng: np.random.Generator | None = None, queue: QueueModel | None = None) -> None:
        self.instrument = instrument
        self.path = path
        self.liquidity: Book = LiquiditySchedule(depth) if isinstance(depth, DepthProfile) else depth
        self.rules = rules
        self.margin = rules.margin_table
        self.leverage = rules.leverage
        self.book = PositionBook(wallet=balance)
        self.position_ms = path.t0_ms  # when the position last changed
        self.initial_balance = balance
        self.observer = observer
        self.scheduler = scheduler
        self.registry: Registry[VenueOrder] = Registry()
        self.orders: dict[str, VenueOrder] = self.registry.by_client  # newest order per client id
        self.resting: list[VenueOrder] = []
        self.pending: list[tuple[int, int, VenueOrder]] = []  # acknowledged, matching at (due, seq)
        self.algo = AlgoService(self)
        self.fills: list[FillReport] = []
        self._fill_ts: list[int] = []
        self.now = path.t0_ms
        self.next_wake: int | None = None
        self._venue_seq = 0
        self._trade_seq = 0
        self._external_seq = 0
        self._flat_pending = False  # the position closed or flipped: reduce-only orders to expire
        self.matching_rng = matching_rng if matching_rng is not None else np.random.default_rng(0)
        self.reject_windows: list[tuple[int, int, RejectReason]] = []  # (start, end, reason) of reject_orders
        self.queue: QueueModel = queue if queue is not None else \
            TouchQueue(path, self.liquidity, instrument, rules.resting_fill_fraction)

    def open_orders(self) -> list[VenueOrder]:
        """Resting orders, then acknowledged ones still waiting to match."""
        return self.resting + [o for _, _, o in self.pending if o.status.is_open]

    def account_report(self, leverage: int | None = None) -> AccountReport:
        """Margin figures; open orders reserve initial margin (as on Binance) for what they would open."""
        lev = self.leverage if leverage is None else leverage
        mark = self.path.mark_at(self.now)
        upnl = self.book.unrealized(mark)
        equity = self.book.wallet + upnl
        im = self.book.initial_margin(mark, lev) + open_order_margin(self.book.qty, mark, self.resting, lev)
        return AccountReport(self.now, self.book.wallet, upnl, equity, im, equity - im, lev)

    def _refused(self, request: SubmitOrder | SubmitAlgoOrder, check: Check, now: int) -> Rejected:
        code, detail = check
        assert code is not None
        self.observer.on_reject(now, request, code.reason, f"{code.code} {code.name}: {detail}")  # type: ignore[arg-type]
        return refuse(code, detail, now)

    def submit(self, req: SubmitOrder, now: int, source: str, parent: AlgoOrder | None = None) -> VenueOrder:
        """Accept an order and match what is marketable of it (at once, or after the matching delay
        under ``order_response = "ack"``), or raise `Rejected` with the venue's code."""
        check = forced_reject(self.reject_windows, now) if source == "bot" else (None, "")
        if check[0] is None:
            check = check_order(self, req, now, source)
        if check[0] is not None:
            raise self._refused(req, check, now)
        self._venue_seq += 1
        mid = self.path.mid_at(now)
        order = VenueOrder(req.client_id, VenueOrderId(f"V{self._venue_seq}"), req.symbol, req.side, req.type,
                           req.qty, req.price, req.trigger_price, req.reduce_only, OrderStatus.ACKNOWLEDGED,
                           now, now, mid, req.trigger_by.value, req.time_in_force, source)
        if parent is not None:
            order.client_algo_id = parent.client_algo_id
        self.registry.add(order)
        self.observer.on_order(now, order, "accepted", source)
        immediate = req.type is OrderType.MARKET or (req.type is OrderType.LIMIT and req.time_in_force in _IMMEDIATE)
        if immediate and self.rules.order_response == "ack":
            heapq.heappush(self.pending, (now + self._matching_delay(), self._venue_seq, order))
            self._rearm()
            return order
        self._match(order, now)
        self._settle(now)
        return order

    def _matching_delay(self) -> int:
        r = self.rules
        return max(1, int(round(r.matching_delay_ms * math.exp(r.matching_delay_sigma *
                                                               float(self.matching_rng.standard_normal())))))

    def _match(self, order: VenueOrder, now: int) -> None:
        if order.type is OrderType.MARKET:
            self._take(order, now, limit_price=None)
            self._finish_ioc(order, now)
        elif order.type is OrderType.LIMIT:
            price = float(order.price)  # type: ignore[arg-type]
            if order.time_in_force is TimeInForce.FOK and self.instrument.qty_down(self.liquidity.reach(
                    now, order.side is Side.BUY, self.path.mid_at(now), price)) < order.remaining:
                self._finish_ioc(order, now)  # acknowledged, then found unfillable whole: expires
                return
            self._take(order, now, limit_price=price)
            if order.time_in_force in _IMMEDIATE or order.remaining == 0:
                self._finish_ioc(order, now)
            else:
                self._rest(order, now)
        else:
            self._rest(order, now)

    def cancel(self, cid: ClientOrderId, now: int) -> VenueOrder:
        order = self.registry.find(now, cid)
        if order is None or not order.status.is_open:
            raise refuse(vc.CANCEL_REJECTED, f"no open order {cid}", now)
        self._close_order(order, OrderStatus.CANCELLED, now, "cancelled")
        return order

    def amend(self, req: AmendOrder, now: int) -> VenueOrder:
        """Change a resting limit order (quantity, price; it loses its queue place), or a legacy
        trigger order's trigger price. Algo orders cannot be amended (cancel and replace)."""
        order = self.registry.find(now, req.client_id)
        if order is None or order not in self.resting:
            raise refuse(vc.NO_SUCH_ORDER, f"no resting order {req.client_id}", now)
        if req.qty is not None and (req.qty <= order.filled_qty or req.qty % self.instrument.lot_size):
            raise refuse(vc.QTY_NOT_BY_STEP, f"new quantity {req.qty} must be a step multiple above the filled "
                         f"{order.filled_qty}", now)
        if req.trigger_price is not None and order.is_trigger:
            reason = trigger_would_fire(self.path, order.type, order.side, float(req.trigger_price),
                                        order.trigger_by, now)
            if reason:
                raise refuse(vc.WOULD_TRIGGER, reason, now)
            order.trigger_price = req.trigger_price
        if req.price is not None and order.type is OrderType.LIMIT:
            mid, band, p = self.path.mark_at(now), self.rules.price_band_pct, float(req.price)
            if order.side is Side.BUY and p > mid * (1 + band):
                raise refuse(vc.PRICE_ABOVE_MULTIPLIER_UP, f"buy limit {p} > mark {mid:.2f} x {1 + band:g}", now)
            if order.side is Side.SELL and p < mid * (1 - band):
                raise refuse(vc.PRICE_BELOW_MULTIPLIER_DOWN, f"sell limit {p} < mark {mid:.2f} x {1 - band:g}", now)
            order.price = req.price
        if req.qty is not None:
            order.qty = req.qty
        order.ts_updated = now
        if order.type is OrderType.LIMIT:
            self.queue.on_rest(order, now)  # an amended order goes to the back of the queue
        self.observer.on_order(now, order, "amended")
        self._rearm()
        return order

    def _rest(self, order: VenueOrder, now: int) -> None:
        self.resting.append(order)
        if order.type is OrderType.LIMIT:
            self.queue.on_rest(order, now)
        self._rearm()

    def _close_order(self, order: VenueOrder, status: OrderStatus, now: int, what: str) -> None:
        order.status = status
        order.ts_updated = now
        if order in self.resting:
            self.resting.remove(order)
            if order.type is OrderType.LIMIT:
                self.queue.on_leave(order, now)
            self._rearm()
        self.observer.on_order(now, order, what)
        if order.client_algo_id is not None:
            self.algo.child_changed(order, now)

    def _reducible(self, order: VenueOrder, qty: Decimal) -> Decimal:
        """How much of ``qty`` a reduce-only order may still trade (0: nothing left to reduce)."""
        pos = self.book.qty
        if not order.reduce_only:
            return qty
        if pos == 0 or (pos > 0) == (order.side is Side.BUY):
            return Decimal(0)
        return min(qty, abs(pos))

    def _take(self, order: VenueOrder, now: int, limit_price: float | None) -> None:
        """Take liquidity for the order's remainder, up to ``limit_price`` if given (taker fee)."""
        qty = self._reducible(order, order.remaining)
        if qty <= 0:
            return
        mid = self.path.mid_at(now)
        if order.is_trigger or order.ts_created < now:
            order.arrival_mid = mid  # a triggered (or acknowledged) order reaches the market when it matches
        walk = self.liquidity.take(now, order.side is Side.BUY, float(qty), mid, limit_price)
        order.half_spread_bps = walk.half_spread_bps
        filled = self.instrument.qty_down(walk.filled)
        if filled > 0:
            self._fill(order, filled, walk.avg_price, now, FillKind.TRADE)

    def _finish_ioc(self, order: VenueOrder, now: int) -> None:
        """An order that does not rest ends now: FILLED, or EXPIRED with what it got (IOC)."""
        if order in self.resting:
            self.resting.remove(order)
            self.queue.on_leave(order, now)
        status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.EXPIRED
        what = status.value if status is OrderStatus.FILLED or order.filled_qty == 0 else \
            "expired: remainder cancelled (IOC)"
        if order.reduce_only and order.filled_qty == 0 and status is OrderStatus.EXPIRED:
            what = "expired: nothing to reduce"
        self._close_order(order, status, now, what)
        self._rearm()

    def _fill(self, order: VenueOrder | None, qty: Decimal, price: float, now: int, kind: FillKind,
              side: Side | None = None, fee_rate: float | None = None) -> FillReport:
        side = order.side if order is not None else side
        assert side is not None
        fee = float(qty) * price * (self.rules.taker_fee if fee_rate is None else fee_rate)
        self._trade_seq += 1
        fill = FillReport(TradeId(f"T{self._trade_seq}"), self.instrument.symbol,
                          order.venue_id if order else None, order.client_id if order else None, side, qty,
                          Decimal(repr(price)).quantize(PRICE_Q), fee, kind, now, now,
                          fee_rate == self.rules.maker_fee and fee_rate is not None)
        before = self.book.qty
        self.book.apply_fill(qty * side.sign, float(fill.price), fee)
        self.position_ms = now
        if self.book.qty == 0 or (self.book.qty > 0) != (before > 0):
            self._flat_pending = True
        if order is not None:
            order.filled_qty += qty
            order.notional += float(qty) * float(fill.price)
            order.fees += fee
            order.first_fill_ms = order.first_fill_ms if order.first_fill_ms is not None else now
            order.last_fill_ms = now
            order.ts_updated = now
        self.fills.append(fill)
        self._fill_ts.append(now)
        self.observer.on_fill(fill, order)
        self.observer.on_position(now, self.book.qty)
        return fill

    def _settle(self, t: int) -> None:
        """After fills that closed or flipped the position: its reduce-only limit orders expire, and
        close-position algo orders once it is flat (Binance)."""
        if not self._flat_pending:
            return
        self._flat_pending = False
        pos = self.book.qty
        for o in [o for o in self.resting if o.reduce_only and o.type is OrderType.LIMIT]:
            if pos == 0 or (pos > 0) == (o.side is Side.BUY):
                self._close_order(o, OrderStatus.EXPIRED, t, "expired: position closed (reduce-only)")
        if pos == 0:
            self.algo.position_closed(t)

    def maintenance_rate(self) -> float:
        return self.margin.tier(abs(float(self.book.qty)) * max(self.book.entry, 0.0)).mmr

    def liquidation_price(self) -> float | None:
        """Mark price at which equity falls to the maintenance margin (None when flat)."""
        return liquidation_price(float(self.book.qty), self.book.entry, self.book.wallet, self.maintenance_rate())

    def _bands(self) -> dict[str, list[float]]:
        watched = self.resting + self.algo.armed if self.algo.armed else self.resting  # type: ignore[operator]
        return threshold_bands(watched, lambda o: self.queue.band(o, self.now), self.liquidation_price(),
                               self.book.qty > 0, getattr(self.queue, "series", "mark"))

    def rearm(self) -> None:
        self._rearm()

    def _rearm(self) -> None:
        """Find the next venue event after ``now`` (a threshold crossing, an acknowledged order's
        match) and ask to be woken then."""
        start = self.path.index_at(self.now) + 1
        idx = None
        for series, (lo, hi) in self._bands().items():
            if lo > -math.inf or hi < math.inf:
                i = self.path.first_exit(start, lo, hi, series)
                if i is not None and (idx is None or i < idx):
                    idx = i
        wake = None if idx is None else self.path.time_of(idx)
        if self.pending and (wake is None or self.pending[0][0] < wake):
            wake = self.pending[0][0]
        flow = self.queue.next_time(self.now) if self.resting else None
        if flow is not None and (wake is None or flow < wake):
            wake = flow
        if wake != self.next_wake:
            self.next_wake = wake
            self.scheduler(wake)

    def catch_up(self, now: int) -> None:
        """Fire every venue event due up to ``now``, in time order, then stand at ``now``."""
        while self.next_wake is not None and self.next_wake <= now:
            t = self.next_wake
            self.now = t
            self._fire(t)
        self.now = max(self.now, now)

    def _fire(self, t: int) -> None:
        while self.pending and self.pending[0][0] <= t:
            order = heapq.heappop(self.pending)[2]
            if order.status.is_open:
                self._match(order, t)
        mark = self.path.mark_at(t)  # the last-trade series is read (and built) only if a trigger watches it
        for o in list(self.resting):
            if o not in self.resting:
                continue
            if o.is_trigger:
                p = mark if o.trigger_by == "mark" else self.path.price_at("last", t)
                trig = float(o.trigger_price)  # type: ignore[arg-type]
                if (o.fires_on_rise and p >= trig) or (not o.fires_on_rise and p <= trig):
                    self.resting.remove(o)
                    self.observer.on_order(t, o, "triggered")
                    self._take(o, t, limit_price=None)
                    self._finish_ioc(o, t)
            else:
                qty = self.queue.fill_due(o, t)
                if qty > 0:
                    self._fill_resting(o, qty, t)
        for a in list(self.algo.armed):
            if a in self.algo.armed:
                p = mark if a.trigger_by == "mark" else self.path.price_at("last", t)
                trig = float(a.trigger_price)
                if (a.fires_on_rise and p >= trig) or (not a.fires_on_rise and p <= trig):
                    self.algo.fire(a, t)
        self._settle(t)
        liq = self.liquidation_price()
        if liq is not None and ((self.book.qty > 0 and mark <= liq) or (self.book.qty < 0 and mark >= liq)):
            self._liquidate(t, mark)
        if self.next_wake is not None and self.next_wake <= t:
            self.next_wake = None
        self._rearm()

    def _fill_resting(self, o: VenueOrder, due: Decimal, t: int) -> None:
        """The queue model says a resting limit fills ``due`` now: it fills as a maker at its price."""
        qty = self._reducible(o, min(o.remaining, due))
        if qty <= 0:
            self._close_order(o, OrderStatus.EXPIRED, t, "expired: nothing to reduce")
            return
        self._fill(o, qty, float(o.price), t, FillKind.TRADE, fee_rate=self.rules.maker_fee)  # type: ignore[arg-type]
        if o.remaining == 0:
            self._close_order(o, OrderStatus.FILLED, t, "filled")
        else:
            o.status = OrderStatus.PARTIALLY_FILLED
            o.ts_updated = t
            self.observer.on_order(t, o, "partially_filled")

    def _liquidate(self, t: int, mid: float) -> None:
        """Close the whole position at the ladder's price, with the liquidation fee; cancel open orders."""
        qty = abs(self.book.qty)
        side = Side.SELL if self.book.qty > 0 else Side.BUY
        walk = self.liquidity.take(t, side is Side.BUY, float(qty), mid)
        self._fill(None, qty, walk.avg_price, t, FillKind.LIQUIDATION, side=side, fee_rate=self.rules.liquidation_fee)
        self._flat_pending = False
        for o in self.open_orders():
            self._close_order(o, OrderStatus.CANCELLED, t, "cancelled by liquidation")
        self.algo.cancel_all(t, "cancelled by liquidation")
