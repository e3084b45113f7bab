"""A scripted fake venue that drives the bot without SimPy: a first-class test double.

It keeps a position, orders and fills, fills market (and IOC limit) orders at ``price``, whole
unless ``fill_caps`` says how much the next ones get (the rest expires, as an IOC remainder), and lets a test
change the venue behind the bot's back (``external_fill``), script an error for the next
requests of a kind (``fail_next``) or a pushed update that ends the next sleep early
(``early_wakes``). `drive` runs a bot generator against it to completion.
"""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sim.core import messages as m
from sim.core.errors import ExchangeError, Rejected, RequestTimeout
from sim.core.types import (
    AlgoOrderId,
    AlgoStatus,
    FillKind,
    OrderStatus,
    OrderType,
    RejectReason,
    Side,
    TimeInForce,
    TradeId,
    VenueOrderId,
)


class FakeVenue:
    def __init__(self, price: float = 100.0, symbol: str = "BTCUSDT") -> None:
        self.price, self.symbol, self.now = price, symbol, 1_000
        self.qty, self.entry = Decimal(0), Decimal(0)
        self.orders: dict[str, m.OrderReport] = {}
        self.fills: list[m.FillReport] = []
        self.requests: list[Any] = []
        self.failures: dict[type, list[ExchangeError]] = {}
        self.lose_reply: set[type] = set()  # handled, but the answer is lost (a timeout)
        self.lose: Any = None  # predicate: the next request it accepts is handled, but its answer is lost
        self.hold: Any = None  # predicate: the next request it accepts is still on the wire when the client
        # gives up (a timeout), and reaches the venue only at `arrive`
        self.held: list[Any] = []  # requests still on the wire, in order
        self.on_submit: Any = None  # called as a SubmitOrder arrives: the world moving under the bot
        self.on_request: dict[type, Any] = {}  # called once as the next request of a type arrives
        self.early_wakes: list[tuple[int, tuple]] = []  # (after_ms, updates): the next sleeps end early
        self.fill_caps: list[Decimal] = []  # the next taking orders fill at most this much (IOC: rest expires)
        self.available_margin = 10_000.0
        # ``"ack"``: a taking order (market, IOC) is answered ACKNOWLEDGED with nothing filled, and fills
        # just before the venue handles its next request (Binance's newOrderRespType=ACK)
        self.order_response = "result"
        # ``"algo"``: conditional orders only through the algo requests (ordinary ones are refused, -4120),
        # and a triggered one creates a child market order with the venue's own ids (Binance since 2025-12)
        self.conditional_orders = "legacy"
        self.algo_orders: dict[str, m.AlgoOrderReport] = {}
        self.matching: list[Any] = []  # acknowledged taking orders waiting for the matching engine
        self.match_after = 0  # requests the matching engine lets pass before it fills them (a busy one)
        self._busy = 0

    def fail_next(self, kind: type, error: ExchangeError, times: int = 1) -> None:
        """Answer the next ``times`` requests of ``kind`` with ``error`` (before the venue sees them)."""
        self.failures[kind] = [error] * times

    def external_fill(self, side: Side, qty: Decimal, cid: str | None = None, kind: FillKind = FillKind.TRADE) -> None:
        self._fill(cid, side, qty, kind)

    def _fill(self, cid: str | None, side: Side, qty: Decimal, kind: FillKind = FillKind.TRADE) -> None:
        signed = qty * side.sign
        new = self.qty + signed
        if new == 0:
            self.entry = Decimal(0)
        elif self.qty == 0 or (self.qty > 0) == (signed > 0):
            self.entry = (abs(self.qty) * self.entry + qty * Decimal(str(self.price))) / abs(new)
        elif (new > 0) != (self.qty > 0):
            self.entry = Decimal(str(self.price))
        self.qty = new
        self.fills.append(m.FillReport(TradeId(f"T{len(self.fills) + 1}"), self.symbol, None, cid, side, qty,
                                       Decimal(str(self.price)), 0.0, kind, self.now))

    def handle(self, req: Any, now: int) -> Any:
        self.now = now
        self.match()
        self.requests.append(req)
        if type(req) in self.on_request:
            self.on_request.pop(type(req))()
        if isinstance(req, m.SubmitOrder) and self.on_submit is not None:
            hook, self.on_submit = self.on_submit, None
            hook()
        if self.failures.get(type(req)):
            err = self.failures[type(req)].pop(0)
            err.ts = now
            raise err
        if self.hold is not None and self.hold(req):
            self.hold = None
            self.requests.pop()  # the venue has not seen it yet
            self.held.append(req)
            raise RequestTimeout("no answer in time", now)
        if type(req) in self.lose_reply or (self.lose is not None and self.lose(req)):
            self.lose_reply.discard(type(req))
            if self.lose is not None and self.lose(req):
                self.lose = None
            self._answer(req, now)
            raise RequestTimeout("no answer in time", now)
        return self._answer(req, now)

    def _answer(self, req: Any, now: int) -> Any:
        match req:
            case m.FetchPositions():
                pos = () if self.qty == 0 else (m.PositionReport(self.symbol, self.qty, self.entry, now),)
                return m.PositionsReport(now, pos)
            case m.SubmitAlgoOrder():
                known = self.algo_orders.get(req.client_algo_id)
                if known is not None and known.status.is_open:
                    raise Rejected(RejectReason.DUPLICATE_CLIENT_ID, ts=now)
                algo_id = AlgoOrderId(f"A{len(self.algo_orders) + 1}")
                report = m.AlgoOrderReport(self.symbol, req.client_algo_id, algo_id, req.side, req.type, req.qty,
                                           req.trigger_price, req.trigger_by, req.reduce_only, req.close_position,
                                           AlgoStatus.NEW, None, None, now, now)
                self.algo_orders[req.client_algo_id] = report
                return report
            case m.CancelAlgoOrder(client_algo_id=cid):
                a = self.algo_orders.get(cid)
                if a is None or not a.status.is_open:
                    raise Rejected(RejectReason.UNKNOWN_ORDER, ts=now)
                self.algo_orders[cid] = replace(a, status=AlgoStatus.CANCELLED, ts=now, updated_ms=now)
                return self.algo_orders[cid]
            case m.FetchAlgoOrder(client_algo_id=cid):
                if cid not in self.algo_orders:
                    raise Rejected(RejectReason.UNKNOWN_ORDER, ts=now)
                return replace(self.algo_orders[cid], ts=now)
            case m.FetchOpenAlgoOrders():
                return m.OpenAlgoOrdersReport(now, tuple(replace(a, ts=now) for a in self.algo_orders.values()
                                                         if a.status.is_open))
            case m.FetchOpenOrders():
                return m.OpenOrdersReport(now, tuple(o for o in self.orders.values() if o.status.is_open))
            case m.FetchFills(since_ms=since):
                return m.FillsReport(now, tuple(f for f in self.fills if f.ts >= since))
            case m.FetchOrder(client_id=cid):
                if cid not in self.orders:
                    raise Rejected(RejectReason.UNKNOWN_ORDER, ts=now)
                return self.orders[cid]
            case m.FetchTicker():
                return m.Ticker(now, self.price, self.price, self.price, self.price)
            case m.FetchAccount():
                return m.AccountReport(now, 10_000.0, 0.0, 10_000.0, 0.0, self.available_margin, 5)
            case m.FetchCandles():
                return m.CandlesReport(now, ())
            case m.SubmitOrder():
                if self.conditional_orders == "algo" and req.trigger_price is not None:
                    raise Rejected(RejectReason.INVALID, "-4120 order type not supported for this endpoint", ts=now)
                takes = req.type is OrderType.MARKET or (req.type is OrderType.LIMIT
                                                         and req.time_in_force is TimeInForce.IOC)
                if takes and self.order_response == "ack":
                    report = m.OrderReport(self.symbol, req.client_id, VenueOrderId(f"V{len(self.orders)}"),
                                           req.side, req.type, req.qty, req.price, req.trigger_price,
                                           req.reduce_only, OrderStatus.ACKNOWLEDGED, Decimal(0), None, now)
                    self.orders[req.client_id] = report
                    self.matching.append(req)
                    return report
                filled = req.qty if takes else Decimal(0)
                if takes and self.fill_caps:
                    filled = min(filled, self.fill_caps.pop(0))
                status = (OrderStatus.FILLED if filled == req.qty else OrderStatus.EXPIRED) if takes \
                    else OrderStatus.ACKNOWLEDGED
                report = m.OrderReport(self.symbol, req.client_id, VenueOrderId(f"V{len(self.orders)}"), req.side,
                                       req.type, req.qty, req.price, req.trigger_price, req.reduce_only, status,
                                       filled, Decimal(str(self.price)) if filled else None, now)
                self.orders[req.client_id] = report
                if filled:
                    self._fill(req.client_id, req.side, filled)
                return report
            case m.CancelOrder(client_id=cid):
                o = self.orders.get(cid)
                if o is None or not o.status.is_open:
                    raise Rejected(RejectReason.UNKNOWN_ORDER, ts=now)
                self.orders[cid] = _with_status(o, OrderStatus.CANCELLED)
                return self.orders[cid]
            case m.Sleep():
                if self.early_wakes and now + self.early_wakes[0][0] < req.until_ms:
                    after, updates = self.early_wakes.pop(0)  # a pushed update cuts the sleep short
                    self.now = now + after
                    return m.Woke(self.now, updates)
                self.now = req.until_ms
                return m.Woke(req.until_ms)
        raise AssertionError(f"unexpected request {req}")

    def match(self) -> None:
        """Fill the acknowledged taking orders (whole, or up to ``fill_caps``; the rest expires)."""
        if self.matching and self._busy < self.match_after:
            self._busy += 1
            return
        self._busy = 0
        waiting, self.matching = self.matching, []
        for req in waiting:
            filled = req.qty if not self.fill_caps else min(req.qty, self.fill_caps.pop(0))
            o = self.orders[req.client_id]
            self.orders[req.client_id] = replace(
                o, status=OrderStatus.FILLED if filled == req.qty else OrderStatus.EXPIRED, filled_qty=filled,
                avg_price=Decimal(str(self.price)) if filled else None, ts=self.now)
            if filled:
                self._fill(req.client_id, req.side, filled)

    def arrive(self) -> None:
        """The held requests reach the venue now (late, but inside the receive window)."""
        held, self.held = self.held, []
        for req in held:
            self.requests.append(req)
            self._answer(req, self.now)

    def trigger(self, cid: str) -> None:
        """Fire a resting TP/SL as the venue would: fill it whole at the current price. An algo order
        creates a child market order (the venue's own ids) that fills; the algo order names it."""
        if cid in self.algo_orders:
            a = self.algo_orders[cid]
            child = f"algo-{a.algo_id}"
            qty = a.qty if a.qty is not None else abs(self.qty)
            price = Decimal(str(self.price))
            self.orders[child] = m.OrderReport(self.symbol, child, VenueOrderId(f"V{len(self.orders)}"), a.side,
                                               OrderType.MARKET, qty, None, None, a.reduce_only, OrderStatus.FILLED,
                                               qty, price, self.now, self.now, client_algo_id=a.client_algo_id)
            self._fill(child, a.side, qty)
            self.algo_orders[cid] = replace(a, status=AlgoStatus.FINISHED, actual_order_id=self.orders[child].venue_id,
                                            actual_client_id=child, actual_qty=qty, actual_price=price,
                                            updated_ms=self.now, trigger_ms=self.now)
            return
        o = self.orders[cid]
        self.orders[cid] = _with_status(o, OrderStatus.FILLED, o.qty)
        self._fill(cid, o.side, o.qty)


def _with_status(o: m.OrderReport, status: OrderStatus, filled: Decimal | None = None) -> m.OrderReport:
    return replace(o, status=status, filled_qty=o.filled_qty if filled is None else filled)


def drive(gen: Any, venue: FakeVenue, step_ms: int = 10) -> Any:
    """Run a bot generator to completion against the fake venue, advancing time a little per request:
    the same protocol as every driver (``Reply``s in, requests out; nothing thrown, no clock set)."""
    reply: m.Reply | None = None
    while True:
        try:
            req = gen.send(reply)
        except StopIteration as stop:
            return stop.value
        try:
            answer: Any = venue.handle(req, venue.now + step_ms)
        except ExchangeError as exc:
            answer = exc
        reply = m.Reply(venue.now, answer)
