"""The simulated venue: orders, matching against the depth ladder, native TP/SL, margin.

It implements the exchange port and answers every query for real (positions, open orders, an
order by client id, fills since a time, account, ticker, candles), so the bot's reconciler runs
against it exactly as it would against a live venue.

Time: the venue catches up to ``now`` before it answers anything (`catch_up`), so at one instant
the venue always acts before the bot. Armed thresholds (TP/SL triggers, the liquidation price)
are found by first-passage search over the price path; the venue asks its `scheduler` to wake it
at the first crossing, and never steps through ticks.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sim.core.errors import Rejected
from sim.core.instrument import Instrument
from sim.core.messages import (
    AccountReport,
    CancelOrder,
    Candle,
    CandlesReport,
    FetchAccount,
    FetchCandles,
    FetchFills,
    FetchOpenOrders,
    FetchOrder,
    FetchPositions,
    FetchTicker,
    FillReport,
    FillsReport,
    OpenOrdersReport,
    OrderReport,
    PositionReport,
    PositionsReport,
    Request,
    Response,
    SubmitOrder,
    Ticker,
)
from sim.core.types import (
    ClientOrderId,
    FillKind,
    OrderStatus,
    OrderType,
    RejectReason,
    Side,
    TradeId,
    VenueOrderId,
)
from sim.world.accounting import PositionBook
from sim.world.liquidity import DepthProfile
from sim.world.market import PricePath

_TRIGGER_TYPES = (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)
_PRICE_Q = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class VenueRules:
    """Fees (fractions of notional), leverage and margin rules of the venue and the account."""

    taker_fee: float = 0.0004
    maker_fee: float = 0.0002
    leverage: int = 5
    max_leverage: int = 125
    maintenance_margin_rate: float = 0.004
    liquidation_fee: float = 0.0125

    def __post_init__(self) -> None:
        if not 1 <= self.leverage <= self.max_leverage:
            raise ValueError(f"leverage {self.leverage} outside 1..{self.max_leverage}")


@dataclass(slots=True)
class VenueOrder:
    """An order as the venue holds it (mutable, world-internal)."""

    client_id: ClientOrderId
    venue_id: VenueOrderId
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    reduce_only: bool
    status: OrderStatus
    ts_created: int
    ts_updated: int
    arrival_mid: float
    filled_qty: Decimal = Decimal(0)
    notional: float = 0.0
    fees: float = 0.0
    first_fill_ms: int | None = None
    last_fill_ms: int | None = None

    @property
    def avg_price(self) -> float | None:
        return self.notional / float(self.filled_qty) if self.filled_qty else None

    def report(self, ts: int) -> OrderReport:
        avg = self.avg_price
        return OrderReport(
            symbol=self.symbol, client_id=self.client_id, venue_id=self.venue_id, side=self.side,
            type=self.type, qty=self.qty, price=self.price, trigger_price=self.trigger_price,
            reduce_only=self.reduce_only, status=self.status, filled_qty=self.filled_qty,
            avg_price=None if avg is None else Decimal(repr(avg)).quantize(_PRICE_Q), ts=ts,
        )

    @property
    def fires_on_rise(self) -> bool:
        """A trigger order that fires when the price rises to its trigger."""
        return (self.type is OrderType.TAKE_PROFIT_MARKET) == (self.side is Side.SELL)


class VenueObserver(Protocol):
    """What the world wants to hear from the venue (ground truth and the event log)."""

    def on_order(self, ts: int, order: VenueOrder, what: str, detail: str = "") -> None: ...
    def on_reject(self, ts: int, request: SubmitOrder, reason: RejectReason, detail: str) -> None: ...
    def on_fill(self, fill: FillReport, order: VenueOrder | None) -> None: ...
    def on_position(self, ts: int, qty: Decimal) -> None: ...


class SimExchange:
    """One account on one linear perpetual."""

    def __init__(self, instrument: Instrument, path: PricePath, depth: DepthProfile, rules: VenueRules,
                 balance: float, observer: VenueObserver,
                 scheduler: Callable[[int | None], None] = lambda t: None) -> None:
        self.instrument = instrument
        self.path = path
        self.depth = depth
        self.rules = rules
        self.book = PositionBook(wallet=balance)
        self.initial_balance = balance
        self.observer = observer
        self.scheduler = scheduler
        self.orders: dict[ClientOrderId, VenueOrder] = {}
        self.open_triggers: list[VenueOrder] = []
        self.fills: list[FillReport] = []
        self._fill_ts: list[int] = []
        self.now = path.t0_ms
        self.next_wake: int | None = None
        self._venue_seq = 0
        self._trade_seq = 0
        self._external_seq = 0

    # ------------------------------------------------------------------------------ the port
    def handle(self, request: Request, now_ms: int) -> Response:
        self.catch_up(now_ms)
        sym = self.instrument.symbol
        match request:
            case FetchPositions():
                return self.positions_report()
            case FetchOpenOrders():
                opened = tuple(o.report(now_ms) for o in self.orders.values() if o.status.is_open)
                return OpenOrdersReport(now_ms, opened)
            case FetchAccount():
                return self.account_report()
            case FetchOrder(client_id=cid):
                if cid not in self.orders:
                    raise Rejected(RejectReason.UNKNOWN_ORDER, f"no order {cid}", now_ms)
                return self.orders[cid].report(now_ms)
            case FetchFills(since_ms=since):
                return FillsReport(now_ms, tuple(self.fills[bisect.bisect_left(self._fill_ts, since):]))
            case FetchTicker():
                mid = self.path.mid_at(now_ms)
                bid, ask = self.depth.touch(mid)
                return Ticker(now_ms, bid, ask, mid, mid)
            case FetchCandles():
                return self._candles(request, now_ms)
            case SubmitOrder():
                if request.symbol != sym:
                    raise Rejected(RejectReason.INVALID, f"unknown symbol {request.symbol}", now_ms)
                return self.submit(request, now_ms, source="bot").report(now_ms)
            case CancelOrder(client_id=cid):
                return self.cancel(cid, now_ms).report(now_ms)
        raise Rejected(RejectReason.INVALID, f"unsupported request {type(request).__name__}", now_ms)

    # ---------------------------------------------------------------------------- reports
    def positions_report(self) -> PositionsReport:
        b = self.book
        if b.qty == 0:
            return PositionsReport(self.now, ())
        entry = Decimal(repr(b.entry)).quantize(_PRICE_Q)
        return PositionsReport(self.now, (PositionReport(self.instrument.symbol, b.qty, entry, self.now),))

    def account_report(self) -> AccountReport:
        mark = self.path.mid_at(self.now)
        upnl = self.book.unrealized(mark)
        equity = self.book.wallet + upnl
        im = self.book.initial_margin(mark, self.rules.leverage)
        return AccountReport(self.now, self.book.wallet, upnl, equity, im, equity - im, self.rules.leverage)

    def equity(self, t_ms: int) -> float:
        return self.book.wallet + self.book.unrealized(self.path.mid_at(t_ms))

    def _candles(self, req: FetchCandles, now: int) -> CandlesReport:
        iv = req.interval_ms
        if iv <= 0 or iv % self.path.tick_ms:
            raise Rejected(RejectReason.INVALID, f"interval {iv} ms is not a multiple of the tick", now)
        first = max(-(-req.since_ms // iv), -(-self.path.t0_ms // iv)) * iv
        last_open = min(now, self.path.end_ms + self.path.tick_ms) // iv * iv - iv  # last closed candle
        count = min((last_open - first) // iv + 1, req.limit) if last_open >= first else 0
        if count <= 0:
            return CandlesReport(now, ())
        first = last_open - (count - 1) * iv  # the newest `limit` candles
        rows = self.path.ohlc(first, iv, count)
        return CandlesReport(now, tuple(Candle(first + k * iv, *map(float, r)) for k, r in enumerate(rows)))

    # ---------------------------------------------------------------------------- orders
    def submit(self, req: SubmitOrder, now: int, source: str) -> VenueOrder:
        """Accept (and, for a market order, match) an order, or raise `Rejected`."""
        reason, detail = self._check(req, now)
        if reason is not None:
            self.observer.on_reject(now, req, reason, detail)
            raise Rejected(reason, detail, now)
        self._venue_seq += 1
        mid = self.path.mid_at(now)
        order = VenueOrder(req.client_id, VenueOrderId(f"V{self._venue_seq}"), req.symbol, req.side, req.type,
                           req.qty, req.price, req.trigger_price, req.reduce_only, OrderStatus.ACKNOWLEDGED,
                           now, now, mid)
        self.orders[req.client_id] = order
        self.observer.on_order(now, order, "accepted", source)
        if req.type is OrderType.MARKET:
            self._execute(order, now, FillKind.TRADE)
        else:
            self.open_triggers.append(order)
            self._rearm()
        return order

    def _check(self, req: SubmitOrder, now: int) -> tuple[RejectReason | None, str]:
        inst = self.instrument
        if req.client_id in self.orders:
            return RejectReason.DUPLICATE_CLIENT_ID, f"client id {req.client_id} already used"
        if req.qty <= 0 or req.qty % inst.lot_size:
            return RejectReason.INVALID, f"quantity {req.qty} is not a positive multiple of {inst.lot_size}"
        if req.qty < inst.min_qty:
            return RejectReason.BELOW_MIN_QTY, f"quantity {req.qty} < min {inst.min_qty}"
        mid = self.path.mid_at(now)
        if req.type is OrderType.LIMIT:
            return RejectReason.INVALID, "limit orders are not modelled yet"
        if req.type in _TRIGGER_TYPES:
            if req.trigger_price is None:
                return RejectReason.INVALID, "a trigger order needs trigger_price"
            fires_on_rise = (req.type is OrderType.TAKE_PROFIT_MARKET) == (req.side is Side.SELL)
            trig = float(req.trigger_price)
            if (fires_on_rise and mid >= trig) or (not fires_on_rise and mid <= trig):
                return RejectReason.PRICE_OUT_OF_BAND, f"trigger {trig} would fire at once (mark {mid:.2f})"
        if not req.reduce_only and float(req.qty) * mid < float(inst.min_notional):
            return RejectReason.BELOW_MIN_NOTIONAL, f"notional {float(req.qty) * mid:.2f} < {inst.min_notional}"
        pos = self.book.qty
        if req.reduce_only and (pos == 0 or (pos > 0) == (req.side is Side.BUY)):
            return RejectReason.REDUCE_ONLY_WOULD_INCREASE, f"reduce-only {req.side.value} against position {pos}"
        if not req.reduce_only and req.type is OrderType.MARKET:
            signed = req.qty * req.side.sign
            opening = abs(pos + signed) - abs(pos) if (pos + signed) * pos >= 0 else abs(pos + signed)
            if opening > 0:
                acct = self.account_report()
                need = float(opening) * mid / self.rules.leverage + float(req.qty) * mid * self.rules.taker_fee
                if need > acct.available_margin:
                    return (RejectReason.INSUFFICIENT_MARGIN,
                            f"needs {need:.2f} margin, {acct.available_margin:.2f} available")
        return None, ""

    def cancel(self, cid: ClientOrderId, now: int) -> VenueOrder:
        order = self.orders.get(cid)
        if order is None or not order.status.is_open:
            raise Rejected(RejectReason.UNKNOWN_ORDER, f"no open order {cid}", now)
        self._close_order(order, OrderStatus.CANCELLED, now, "cancelled")
        return order

    def _close_order(self, order: VenueOrder, status: OrderStatus, now: int, what: str) -> None:
        order.status = status
        order.ts_updated = now
        if order in self.open_triggers:
            self.open_triggers.remove(order)
            self._rearm()
        self.observer.on_order(now, order, what)

    def _execute(self, order: VenueOrder, now: int, kind: FillKind) -> None:
        """Match the rest of a market (or triggered) order against the ladder, IOC."""
        remaining = order.qty - order.filled_qty
        pos = self.book.qty
        if order.reduce_only:
            if pos == 0 or (pos > 0) == (order.side is Side.BUY):
                self._close_order(order, OrderStatus.EXPIRED, now, "expired: nothing to reduce")
                return
            remaining = min(remaining, abs(pos))
        mid = self.path.mid_at(now)
        if order.type in _TRIGGER_TYPES:
            order.arrival_mid = mid  # a triggered order reaches the market when it fires
        walk = self.depth.walk(order.side is Side.BUY, float(remaining), mid)
        qty = self.instrument.qty_down(walk.filled)
        if qty > 0:
            self._fill(order, qty, walk.avg_price, now, kind)
        status = OrderStatus.FILLED if order.filled_qty == order.qty else OrderStatus.EXPIRED
        order.ts_updated = now
        if order in self.open_triggers:
            self.open_triggers.remove(order)
        order.status = status
        self.observer.on_order(now, order, status.value)
        self._rearm()

    def _fill(self, order: VenueOrder | None, qty: Decimal, price: float, now: int, kind: FillKind,
              side: Side | None = None, fee_rate: float | None = None) -> FillReport:
        side = order.side if order is not None else side
        assert side is not None
        fee = float(qty) * price * (self.rules.taker_fee if fee_rate is None else fee_rate)
        self._trade_seq += 1
        fill = FillReport(TradeId(f"T{self._trade_seq}"), self.instrument.symbol,
                          order.venue_id if order else None, order.client_id if order else None, side, qty,
                          Decimal(repr(price)).quantize(_PRICE_Q), fee, kind, now)
        self.book.apply_fill(qty * side.sign, float(fill.price), fee)
        if order is not None:
            order.filled_qty += qty
            order.notional += float(qty) * float(fill.price)
            order.fees += fee
            order.first_fill_ms = order.first_fill_ms if order.first_fill_ms is not None else now
            order.last_fill_ms = now
        self.fills.append(fill)
        self._fill_ts.append(now)
        self.observer.on_fill(fill, order)
        self.observer.on_position(now, self.book.qty)
        return fill

    def external_market(self, side: Side, qty: Decimal, now: int, reduce_only: bool = False) -> VenueOrder | None:
        """Someone else (an operator, another system) trades on the account at market."""
        self.catch_up(now)
        self._external_seq += 1
        req = SubmitOrder(self.instrument.symbol, ClientOrderId(f"ext-{self._external_seq}"), side,
                          OrderType.MARKET, qty, reduce_only=reduce_only)
        try:
            return self.submit(req, now, source="external")
        except Rejected:
            return None

    # ------------------------------------------------------------------ triggers and time
    def liquidation_price(self) -> float | None:
        """Mark price at which equity falls to the maintenance margin (None when flat)."""
        q = float(self.book.qty)
        if q == 0:
            return None
        mmr = self.rules.maintenance_margin_rate
        # wallet + q (p - e) = |q| p mmr  =>  p = (q e - wallet) / (q - |q| mmr)
        denom = q - abs(q) * mmr
        p = (q * self.book.entry - self.book.wallet) / denom
        return max(p, 0.0)

    def _rearm(self) -> None:
        """Find the next threshold crossing after ``now`` and ask to be woken then."""
        lo, hi = -math.inf, math.inf
        for o in self.open_triggers:
            trig = float(o.trigger_price)  # type: ignore[arg-type]
            if o.fires_on_rise:
                hi = min(hi, trig)
            else:
                lo = max(lo, trig)
        liq = self.liquidation_price()
        if liq is not None:
            if self.book.qty > 0:
                lo = max(lo, liq)
            else:
                hi = min(hi, liq)
        wake = None
        if lo > -math.inf or hi < math.inf:
            idx = self.path.first_exit(self.path.index_at(self.now) + 1, lo, hi)
            wake = None if idx is None else self.path.time_of(idx)
        if wake != self.next_wake:
            self.next_wake = wake
            self.scheduler(wake)

    def catch_up(self, now: int) -> None:
        """Fire every threshold crossed up to ``now``, in time order, then stand at ``now``."""
        while self.next_wake is not None and self.next_wake <= now:
            t = self.next_wake
            self.now = t
            self._fire(t)
        self.now = max(self.now, now)

    def _fire(self, t: int) -> None:
        mid = self.path.mid_at(t)
        for o in [o for o in self.open_triggers if
                  (o.fires_on_rise and mid >= float(o.trigger_price)) or  # type: ignore[arg-type]
                  (not o.fires_on_rise and mid <= float(o.trigger_price))]:  # type: ignore[arg-type]
            self.observer.on_order(t, o, "triggered")
            self._execute(o, t, FillKind.TRADE)
        liq = self.liquidation_price()
        if liq is not None and ((self.book.qty > 0 and mid <= liq) or (self.book.qty < 0 and mid >= liq)):
            self._liquidate(t, mid)
        if self.next_wake is not None and self.next_wake <= t:
            self.next_wake = None
            self._rearm()

    def _liquidate(self, t: int, mid: float) -> None:
        """Close the whole position at the ladder's price, with the liquidation fee."""
        qty = abs(self.book.qty)
        side = Side.SELL if self.book.qty > 0 else Side.BUY
        walk = self.depth.walk(side is Side.BUY, float(qty), mid)
        self._fill(None, qty, walk.avg_price, t, FillKind.LIQUIDATION, side=side,
                   fee_rate=self.rules.liquidation_fee)
        for o in list(self.open_triggers):
            self._close_order(o, OrderStatus.CANCELLED, t, "cancelled by liquidation")
        self._rearm()
