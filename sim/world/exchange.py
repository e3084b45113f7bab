"""The simulated venue: orders, matching against the depth ladder, native TP/SL, margin.

It implements the exchange port and answers every query for real (positions, open orders, an
order by client id, fills since a time, account, ticker, candles), so the bot's reconciler runs
against it exactly as it would against a live venue.

Time: the venue catches up to ``now`` before it answers anything (`catch_up`), so at one instant
the venue always acts before the bot. Armed thresholds (TP/SL triggers by mark or last price,
resting limit prices, the liquidation price) are found by first-passage search over the price
path; the venue asks its `scheduler` to wake it at the first crossing and never steps ticks.

Matching model: a market order (or a triggered TP/SL, or the marketable part of a limit) walks
the ladder of `liquidity` and any rest beyond it is cancelled (IOC). A resting limit fills when
the mid trades to its price, in chunks: the k-th level the price trades through it fills
``resting_fill_fraction * level0_qty * (2k + 1)`` (the volume of that level, shared with the
queue), at the limit price with the maker fee.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sim.core.errors import Rejected
from sim.core.instrument import Instrument
from sim.core.messages import (
    AccountReport,
    AmendOrder,
    CancelOrder,
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
    TimeInForce,
    TradeId,
    VenueOrderId,
)
from sim.world.accounting import PositionBook
from sim.world.liquidity import DepthProfile, LiquiditySchedule, max_qty_within
from sim.world.margin import MarginTable, MarginTier, funding_payment, liquidation_price
from sim.world.market import PricePath
from sim.world.order_checks import check_order, forced_reject, trigger_would_fire
from sim.world.thresholds import candles_report, limit_level, threshold_bands
from sim.world.venue_orders import PRICE_Q, VenueObserver, VenueOrder, quote_price

__all__ = ["SimExchange", "VenueObserver", "VenueOrder", "VenueRules"]


@dataclass(frozen=True, slots=True)
class VenueRules:
    """Fees (fractions of notional), leverage, margin and order rules of the venue and the account."""

    taker_fee: float = 0.0004
    maker_fee: float = 0.0002
    leverage: int = 5
    max_leverage: int = 125
    maintenance_margin_rate: float = 0.004
    liquidation_fee: float = 0.0125
    price_band_pct: float = 0.05  # limit prices further than this from the mark are refused
    resting_fill_fraction: float = 0.5
    margin_tiers: tuple[MarginTier, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.leverage <= self.max_leverage:
            raise ValueError(f"leverage {self.leverage} outside 1..{self.max_leverage}")

    @property
    def margin_table(self) -> MarginTable:
        return MarginTable(self.margin_tiers) if self.margin_tiers else \
            MarginTable.flat(self.maintenance_margin_rate, self.max_leverage)


class SimExchange:
    """One account on one linear perpetual."""

    def __init__(self, instrument: Instrument, path: PricePath, depth: DepthProfile | LiquiditySchedule,
                 rules: VenueRules, balance: float, observer: VenueObserver,
                 scheduler: Callable[[int | None], None] = lambda t: None) -> None:
        self.instrument = instrument
        self.path = path
        self.liquidity = depth if isinstance(depth, LiquiditySchedule) else LiquiditySchedule(depth)
        self.rules = rules
        self.margin = rules.margin_table
        self.leverage = rules.leverage
        self.book = PositionBook(wallet=balance)
        self.initial_balance = balance
        self.observer = observer
        self.scheduler = scheduler
        self.orders: dict[ClientOrderId, VenueOrder] = {}
        self.resting: list[VenueOrder] = []
        self.fills: list[FillReport] = []
        self._fill_ts: list[int] = []
        self.now = path.t0_ms
        self.next_wake: int | None = None
        self._venue_seq = 0
        self._trade_seq = 0
        self._external_seq = 0
        self.reject_windows: list[tuple[int, int, RejectReason]] = []  # (start, end, reason) of reject_orders

    @property
    def depth(self) -> DepthProfile:
        """The baseline depth profile."""
        return self.liquidity.base

    @property
    def open_triggers(self) -> list[VenueOrder]:
        return [o for o in self.resting if o.is_trigger]

    # ------------------------------------------------------------------------------ the port
    def handle(self, request: Request, now_ms: int) -> Response:
        """Answer one request at ``now_ms`` (the every-cycle reconcile reads are matched first)."""
        self.catch_up(now_ms)
        match request:
            case FetchPositions():
                return self.positions_report()
            case FetchOpenOrders():
                return OpenOrdersReport(now_ms, tuple(o.report(now_ms) for o in self.resting))
            case FetchFills(since_ms=since):
                return FillsReport(now_ms, tuple(self.fills[bisect.bisect_left(self._fill_ts, since):]))
            case FetchCandles():
                return candles_report(self.path, request, now_ms)
            case FetchAccount():
                return self.account_report()
            case FetchOrder(client_id=cid):
                if cid not in self.orders:
                    raise Rejected(RejectReason.UNKNOWN_ORDER, f"no order {cid}", now_ms)
                return self.orders[cid].report(now_ms)
            case FetchTicker():
                mid = self.path.mid_at(now_ms)
                bid, ask = self.liquidity.at(now_ms).touch(mid)
                return Ticker(now_ms, bid, ask, self.path.price_at("last", now_ms), self.path.mark_at(now_ms))
            case SubmitOrder():
                if request.symbol != self.instrument.symbol:
                    raise Rejected(RejectReason.INVALID, f"unknown symbol {request.symbol}", now_ms)
                return self.submit(request, now_ms, source="bot").report(now_ms)
            case CancelOrder(client_id=cid):
                return self.cancel(cid, now_ms).report(now_ms)
            case AmendOrder():
                return self.amend(request, now_ms).report(now_ms)
        raise Rejected(RejectReason.INVALID, f"unsupported request {type(request).__name__}", now_ms)

    # ---------------------------------------------------------------------------- reports
    def positions_report(self) -> PositionsReport:
        b = self.book
        if b.qty == 0:
            return PositionsReport(self.now, ())
        return PositionsReport(self.now, (PositionReport(self.instrument.symbol, b.qty, quote_price(b.entry),
                                                         self.now),))

    def account_report(self) -> AccountReport:
        mark = self.path.mark_at(self.now)
        upnl = self.book.unrealized(mark)
        equity = self.book.wallet + upnl
        im = self.book.initial_margin(mark, self.leverage)
        return AccountReport(self.now, self.book.wallet, upnl, equity, im, equity - im, self.leverage)

    def equity(self, t_ms: int) -> float:
        return self.book.wallet + self.book.unrealized(self.path.mark_at(t_ms))

    # ---------------------------------------------------------------------------- orders
    def submit(self, req: SubmitOrder, now: int, source: str) -> VenueOrder:
        """Accept (and match what is marketable of) an order, or raise `Rejected`."""
        reason, detail = forced_reject(self.reject_windows, now) if source == "bot" else (None, "")
        if reason is None:
            reason, detail = check_order(self, req, now)
        if reason is not None:
            self.observer.on_reject(now, req, reason, detail)
            raise Rejected(reason, detail, now)
        self._venue_seq += 1
        mid = self.path.mid_at(now)
        order = VenueOrder(req.client_id, VenueOrderId(f"V{self._venue_seq}"), req.symbol, req.side, req.type,
                           req.qty, req.price, req.trigger_price, req.reduce_only, OrderStatus.ACKNOWLEDGED,
                           now, now, mid, req.trigger_by.value, req.time_in_force, source)
        self.orders[req.client_id] = order
        self.observer.on_order(now, order, "accepted", source)
        if req.type is OrderType.MARKET:
            self._take(order, now, limit_price=None)
            self._finish_ioc(order, now)
        elif req.type is OrderType.LIMIT:
            self._take(order, now, limit_price=float(req.price))  # type: ignore[arg-type]
            if req.time_in_force is TimeInForce.IOC or order.remaining == 0:
                self._finish_ioc(order, now)
            else:
                self._rest(order)
        else:
            self._rest(order)
        return order

    def cancel(self, cid: ClientOrderId, now: int) -> VenueOrder:
        order = self.orders.get(cid)
        if order is None or not order.status.is_open:
            raise Rejected(RejectReason.UNKNOWN_ORDER, f"no open order {cid}", now)
        self._close_order(order, OrderStatus.CANCELLED, now, "cancelled")
        return order

    def amend(self, req: AmendOrder, now: int) -> VenueOrder:
        """Change a resting order in place (quantity, limit price, trigger price)."""
        order = self.orders.get(req.client_id)
        if order is None or order not in self.resting:
            raise Rejected(RejectReason.UNKNOWN_ORDER, f"no resting order {req.client_id}", now)
        if req.qty is not None and (req.qty <= order.filled_qty or req.qty % self.instrument.lot_size):
            raise Rejected(RejectReason.INVALID, f"new quantity {req.qty} must exceed the filled {order.filled_qty}",
                           now)
        if req.trigger_price is not None and order.is_trigger:
            reason = trigger_would_fire(self.path, order.type, order.side, float(req.trigger_price),
                                        order.trigger_by, now)
            if reason:
                raise Rejected(RejectReason.WOULD_TRIGGER_IMMEDIATELY, reason, now)
            order.trigger_price = req.trigger_price
        if req.price is not None and order.type is OrderType.LIMIT:
            mid = self.path.mid_at(now)
            if abs(float(req.price) / mid - 1.0) > self.rules.price_band_pct:
                raise Rejected(RejectReason.PRICE_OUT_OF_BAND, f"limit {req.price} outside the band", now)
            order.price, order.trade_throughs = req.price, 0
        if req.qty is not None:
            order.qty = req.qty
        order.ts_updated = now
        self.observer.on_order(now, order, "amended")
        self._rearm()
        return order

    def _rest(self, order: VenueOrder) -> None:
        self.resting.append(order)
        self._rearm()

    def _close_order(self, order: VenueOrder, status: OrderStatus, now: int, what: str) -> None:
        order.status = status
        order.ts_updated = now
        if order in self.resting:
            self.resting.remove(order)
            self._rearm()
        self.observer.on_order(now, order, what)

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
        if order.is_trigger:
            order.arrival_mid = mid  # a triggered order reaches the market when it fires
        profile = self.liquidity.at(now)
        order.half_spread_bps = 0.5 * profile.spread_bps
        buy = order.side is Side.BUY
        want = float(qty)
        if limit_price is not None:
            want = min(want, max_qty_within(profile, buy, mid, limit_price))
        walk = profile.walk(buy, want, mid)
        filled = self.instrument.qty_down(walk.filled)
        if filled > 0:
            self._fill(order, filled, walk.avg_price, now, FillKind.TRADE)

    def _finish_ioc(self, order: VenueOrder, now: int) -> None:
        """An order that does not rest ends now: FILLED, or EXPIRED with what it got (IOC)."""
        if order in self.resting:
            self.resting.remove(order)
        status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.EXPIRED
        what = status.value if status is OrderStatus.FILLED or order.filled_qty == 0 else \
            "expired: remainder cancelled (IOC)"
        if order.reduce_only and order.filled_qty == 0 and status is OrderStatus.EXPIRED:
            what = "expired: nothing to reduce"
        order.status = status
        order.ts_updated = now
        self.observer.on_order(now, order, what)
        self._rearm()

    def _fill(self, order: VenueOrder | None, qty: Decimal, price: float, now: int, kind: FillKind,
              side: Side | None = None, fee_rate: float | None = None) -> FillReport:
        side = order.side if order is not None else side
        assert side is not None
        fee = float(qty) * price * (self.rules.taker_fee if fee_rate is None else fee_rate)
        self._trade_seq += 1
        fill = FillReport(TradeId(f"T{self._trade_seq}"), self.instrument.symbol,
                          order.venue_id if order else None, order.client_id if order else None, side, qty,
                          Decimal(repr(price)).quantize(PRICE_Q), fee, kind, now)
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

    def external_market(self, side: Side, qty: Decimal, now: int, reduce_only: bool = False,
                        price: Decimal | None = None,
                        time_in_force: TimeInForce = TimeInForce.GTC) -> VenueOrder | None:
        """Someone else (an operator, another system) trades on the account: market, or limit at
        ``price`` with its time in force. None when the venue refuses it (logged with its reason)."""
        self.catch_up(now)
        self._external_seq += 1
        req = SubmitOrder(self.instrument.symbol, ClientOrderId(f"ext-{self._external_seq}"), side,
                          OrderType.MARKET if price is None else OrderType.LIMIT, qty, price=price,
                          reduce_only=reduce_only, time_in_force=time_in_force)
        try:
            return self.submit(req, now, source="external")
        except Rejected:
            return None

    # ------------------------------------------------------------------------ account events
    def set_leverage(self, leverage: int, now: int) -> bool:
        """Change the account's leverage (refused above the tier's maximum for the position)."""
        self.catch_up(now)
        notional = abs(float(self.book.qty)) * self.path.mark_at(now)
        if not 1 <= leverage <= self.margin.tier(notional).max_leverage:
            return False
        self.leverage = leverage
        return True

    def transfer(self, amount: float, now: int) -> float:
        """Move margin in (positive) or out (negative; at most what is available). Returns the amount moved."""
        self.catch_up(now)
        if amount < 0:
            amount = -min(-amount, max(self.account_report().available_margin, 0.0))
        self.book.wallet += amount
        self.book.transfers += amount
        self._rearm()
        return amount

    def pay_funding(self, now: int, rate: float) -> float:
        """Settle one funding interval at the mark price; returns what the account received."""
        self.catch_up(now)
        paid = funding_payment(float(self.book.qty), self.path.mark_at(now), rate)
        self.book.wallet += paid
        self.book.funding += paid
        if paid:
            self._rearm()
        return paid

    # ------------------------------------------------------------------ triggers and time
    def maintenance_rate(self) -> float:
        return self.margin.tier(abs(float(self.book.qty)) * max(self.book.entry, 0.0)).mmr

    def liquidation_price(self) -> float | None:
        """Mark price at which equity falls to the maintenance margin (None when flat)."""
        return liquidation_price(float(self.book.qty), self.book.entry, self.book.wallet, self.maintenance_rate())

    def _level(self, o: VenueOrder) -> float:
        return limit_level(o, self.liquidity.at(self.now).level_step_bps)

    def _bands(self) -> dict[str, list[float]]:
        return threshold_bands(self.resting, self.liquidity.at(self.now).level_step_bps, self.liquidation_price(),
                               self.book.qty > 0)

    def _rearm(self) -> None:
        """Find the next threshold crossing after ``now`` and ask to be woken then."""
        start = self.path.index_at(self.now) + 1
        idx = None
        for series, (lo, hi) in self._bands().items():
            if lo > -math.inf or hi < math.inf:
                i = self.path.first_exit(start, lo, hi, series)
                if i is not None and (idx is None or i < idx):
                    idx = i
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
            elif (o.side is Side.BUY and mark <= self._level(o)) or (o.side is Side.SELL and mark >= self._level(o)):
                self._fill_resting(o, t)
        liq = self.liquidation_price()
        if liq is not None and ((self.book.qty > 0 and mark <= liq) or (self.book.qty < 0 and mark >= liq)):
            self._liquidate(t, mark)
        if self.next_wake is not None and self.next_wake <= t:
            self.next_wake = None
        self._rearm()

    def _fill_resting(self, o: VenueOrder, t: int) -> None:
        """The price traded through a resting limit: it fills one level's share, as a maker."""
        profile = self.liquidity.at(t)
        chunk = self.rules.resting_fill_fraction * profile.level0_qty * (2 * o.trade_throughs + 1)
        qty = self._reducible(o, min(o.remaining, max(self.instrument.qty_down(chunk), self.instrument.lot_size)))
        o.trade_throughs += 1
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
        """Close the whole position at the ladder's price, with the liquidation fee; cancel resting orders."""
        qty = abs(self.book.qty)
        side = Side.SELL if self.book.qty > 0 else Side.BUY
        walk = self.liquidity.at(t).walk(side is Side.BUY, float(qty), mid)
        self._fill(None, qty, walk.avg_price, t, FillKind.LIQUIDATION, side=side, fee_rate=self.rules.liquidation_fee)
        for o in list(self.resting):
            self._close_order(o, OrderStatus.CANCELLED, t, "cancelled by liquidation")
