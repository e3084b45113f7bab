"""The simulated venue: the exchange port over the matching engine, and the account's events.

It implements the exchange port and answers every query for real (positions, open orders, an
order by client or venue id, fills since a time, account, ticker, candles, and the algo service's
conditional orders), so the bot's reconciler runs against it exactly as it would against a live
venue. Orders, matching and time are `VenueCore`'s (`sim.world.matching`); conditional orders are
algo orders (`sim.world.algo_orders`) or, on the legacy route, resting trigger orders; refusals
carry Binance's codes (`sim.world.order_checks`).
"""
from __future__ import annotations

import bisect
from decimal import Decimal

from sim.core import venue_codes as vc
from sim.core.errors import Rejected
from sim.core.messages import (
    AmendOrder,
    CancelAlgoOrder,
    CancelOrder,
    FetchAccount,
    FetchAlgoOrder,
    FetchCandles,
    FetchFills,
    FetchOpenAlgoOrders,
    FetchOpenOrders,
    FetchOrder,
    FetchPositions,
    FetchTicker,
    FillsReport,
    OpenAlgoOrdersReport,
    OpenOrdersReport,
    PositionReport,
    PositionsReport,
    Request,
    Response,
    SubmitAlgoOrder,
    SubmitOrder,
    Ticker,
)
from sim.core.types import ClientOrderId, OrderType, Side, TimeInForce
from sim.world.algo_orders import AlgoOrder
from sim.world.liquidity import DepthProfile
from sim.world.margin import funding_payment
from sim.world.matching import VenueCore, refuse
from sim.world.order_checks import forced_reject
from sim.world.thresholds import candles_report
from sim.world.venue_orders import VenueObserver, VenueOrder, quote_price
from sim.world.venue_rules import VenueRules

__all__ = ["SimExchange", "VenueObserver", "VenueOrder", "VenueRules"]


class SimExchange(VenueCore):
    """One account on one linear perpetual, as the bot reaches it."""

    @property
    def depth(self) -> DepthProfile:
        """The ladder in force now (the `Book`'s)."""
        return self.liquidity.at(self.now)

    @property
    def open_triggers(self) -> list[VenueOrder]:
        return [o for o in self.resting if o.is_trigger]

    def handle(self, request: Request, now_ms: int) -> Response:
        """Answer one request at ``now_ms`` (the every-cycle reconcile reads are matched first)."""
        self.catch_up(now_ms)
        match request:
            case FetchPositions():
                return self.positions_report()
            case FetchOpenOrders():
                return OpenOrdersReport(now_ms, tuple(o.report(now_ms) for o in self.open_orders()))
            case FetchFills(since_ms=since):
                return FillsReport(now_ms, tuple(self.fills[bisect.bisect_left(self._fill_ts, since):]))
            case FetchCandles():
                return candles_report(self.path, request, now_ms)
            case FetchAccount():
                return self.account_report()
            case FetchOrder(client_id=cid, venue_id=vid):
                order = self.registry.find(now_ms, cid, vid)
                if order is None:
                    raise refuse(vc.NO_SUCH_ORDER, f"no order {vid or cid}", now_ms)
                return order.report(now_ms)
            case FetchTicker():
                mid = self.path.mid_at(now_ms)
                bid, ask = self.liquidity.touch(now_ms, mid)
                return Ticker(now_ms, bid, ask, self.path.price_at("last", now_ms), self.path.mark_at(now_ms))
            case FetchOpenAlgoOrders():
                return OpenAlgoOrdersReport(now_ms, tuple(a.report(now_ms) for a in self.algo.armed))
            case FetchAlgoOrder(client_algo_id=cid, algo_id=aid):
                return self.algo.find(now_ms, cid, aid).report(now_ms)
            case SubmitOrder() | SubmitAlgoOrder():
                if request.symbol != self.instrument.symbol:
                    raise refuse(vc.BAD_SYMBOL, f"unknown symbol {request.symbol}", now_ms)
                if isinstance(request, SubmitAlgoOrder):
                    return self.submit_algo(request, now_ms, source="bot").report(now_ms)
                return self.submit(request, now_ms, source="bot").report(now_ms)
            case CancelOrder(client_id=cid):
                return self.cancel(cid, now_ms).report(now_ms)
            case CancelAlgoOrder(client_algo_id=cid, algo_id=aid):
                return self.algo.cancel(now_ms, cid, aid).report(now_ms)
            case AmendOrder():
                return self.amend(request, now_ms).report(now_ms)
        raise refuse(vc.INVALID_ORDER_TYPE, f"unsupported request {type(request).__name__}", now_ms)

    def positions_report(self) -> PositionsReport:
        b = self.book
        if b.qty == 0:
            return PositionsReport(self.now, ())
        return PositionsReport(self.now, (PositionReport(self.instrument.symbol, b.qty, quote_price(b.entry),
                                                         self.now, self.position_ms),))

    def equity(self, t_ms: int) -> float:
        return self.book.wallet + self.book.unrealized(self.path.mark_at(t_ms))

    def submit_algo(self, req: SubmitAlgoOrder, now: int, source: str) -> AlgoOrder:
        """Accept a conditional order into the algo service, or raise `Rejected`."""
        check = forced_reject(self.reject_windows, now) if source == "bot" else (None, "")
        if check[0] is None:
            check = self.algo.check(req, now)
        if check[0] is not None:
            raise self._refused(req, check, now)
        return self.algo.place(req, now, source)

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

    def set_leverage(self, leverage: int, now: int) -> vc.VenueCode | None:
        """Change the account's leverage; the code it is refused with, None when done: above the
        tier's maximum for the position (-2027), or leaving negative available margin (-2028)."""
        self.catch_up(now)
        notional = abs(float(self.book.qty)) * self.path.mark_at(now)
        if not 1 <= leverage <= self.margin.tier(notional).max_leverage:
            return vc.MAX_LEVERAGE_RATIO
        if leverage < self.leverage and self.account_report(leverage).available_margin < 0:
            return vc.MIN_LEVERAGE_RATIO
        self.leverage = leverage
        return None

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

