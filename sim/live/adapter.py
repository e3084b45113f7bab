"""The exchange port over ccxt's ``binanceusdm``: each request of the bot becomes ccxt calls.

Answers become the port's reports (read from Binance's own JSON, ``info``, so quantities stay
exact) stamped with the venue's time (`VenueTime`); ccxt's exceptions become the bot's error tree
(`sim.live.errors`). Conditional orders go to Binance's algo service, as ccxt sends them: a bot
that places its TP/SL as orders (``SubmitOrder`` of type STOP_MARKET / TAKE_PROFIT_MARKET) sees
them as orders under its own client ids, their triggered children's fills attributed to them; a bot
that speaks the algo requests (``SubmitAlgoOrder`` ...) gets algo reports.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from decimal import Decimal
from typing import Any

import ccxt

from sim.core.errors import ExchangeError, Rejected
from sim.core.ids import parse_client_id
from sim.core.messages import (
    AccountReport,
    AlgoOrderReport,
    AmendOrder,
    CancelAlgoOrder,
    CancelOrder,
    Candle,
    CandlesReport,
    FetchAccount,
    FetchAlgoOrder,
    FetchCandles,
    FetchFills,
    FetchOpenAlgoOrders,
    FetchOpenOrders,
    FetchOrder,
    FetchPositions,
    FetchTicker,
    FillReport,
    FillsReport,
    OpenAlgoOrdersReport,
    OpenOrdersReport,
    OrderReport,
    PositionsReport,
    SubmitAlgoOrder,
    SubmitOrder,
    Ticker,
)
from sim.core.types import ClientOrderId, OrderRole, OrderType, RejectReason, TimeInForce, TriggerBy
from sim.live.errors import LiveConfigError, translate
from sim.live.wire import (
    TYPE_OUT,
    algo_as_order,
    algo_report,
    dec,
    fill_report,
    ms,
    order_report,
    position_report,
)

ACTS = frozenset({SubmitOrder, CancelOrder, AmendOrder, SubmitAlgoOrder, CancelAlgoOrder})
CONDITIONAL = frozenset({OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET})
TIMEFRAMES = {60_000: "1m", 180_000: "3m", 300_000: "5m", 900_000: "15m", 1_800_000: "30m", 3_600_000: "1h",
              7_200_000: "2h", 14_400_000: "4h", 21_600_000: "6h", 28_800_000: "8h", 43_200_000: "12h",
              86_400_000: "1d"}
USER_TRADES_WINDOW_MS = 7 * 86_400_000 - 60_000  # Binance answers userTrades for at most 7 days at a time
TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.POST_ONLY: "GTX"}


class VenueTime:
    """The venue's clock as seen from here: the local clock plus the offset measured against the
    venue's ``serverTime``, never running backwards, and never behind a time the venue reported."""

    def __init__(self, offset_ms: int = 0) -> None:
        self.offset_ms = offset_ms
        self.last = 0

    def now(self, seen: int = 0) -> int:
        t = max(int(time.time() * 1000) + self.offset_ms, seen, self.last)
        self.last = t
        return t


class CcxtVenue:
    """Implements the port (asynchronously) on a ccxt ``binanceusdm`` exchange object.

    ``conditional_as_orders``: answer TP/SL placed as ``SubmitOrder`` in the order shape and list
    open conditional orders among the open orders (the port contract before the algo requests).
    """

    def __init__(self, exchange: Any, symbol: str, *, secrets: tuple[str, ...] = (),
                 conditional_as_orders: bool = True) -> None:
        self.ex = exchange
        self.symbol = symbol
        self.secrets = secrets
        self.conditional_as_orders = conditional_as_orders
        self.time = VenueTime()
        self.market: str | None = None  # ccxt's unified symbol
        self.requests = 0
        self.errors = 0
        self._cid_of: dict[str, ClientOrderId] = {}  # Binance orderId -> the order's client id
        self._algo_of_child: dict[str, ClientOrderId] = {}  # a triggered child's orderId -> its algo client id
        self._algo_cids: set[str] = set()  # conditional orders of ours whose child is not known yet

    # ------------------------------------------------------------------------------- set-up
    async def connect(self) -> None:
        """Load the markets, find the symbol, and measure the venue's clock against ours."""
        try:
            await self.ex.load_markets()
            t0 = time.time() * 1000
            server = await self.ex.fetch_time()
            t1 = time.time() * 1000
        except Exception as exc:
            err = translate(exc, acts=False, ts=0, what="connecting", secrets=self.secrets)
            raise LiveConfigError(f"cannot start on the venue (check --venue and that it is up): {err}") from None
        self.time.offset_ms = int(server - (t0 + t1) / 2)
        found = self.ex.markets_by_id.get(self.symbol)
        if not found:
            raise LiveConfigError(f"the venue does not list {self.symbol} (the scenario's [market] symbol)")
        self.market = found[0]["symbol"]

    def watch_conditional(self, client_ids: list[str]) -> None:
        """Conditional orders of ours the venue may have triggered while we were away (from the record)."""
        self._algo_cids.update(client_ids)

    # ----------------------------------------------------------------------------- dispatch
    async def handle(self, request: Any) -> Any:
        """Answer one request or raise an `ExchangeError` (`LiveConfigError` when only the user can fix it)."""
        self.requests += 1
        try:
            return await self._dispatch(request)
        except ExchangeError:
            self.errors += 1
            raise
        except Exception as exc:
            self.errors += 1
            headers = getattr(self.ex, "last_response_headers", None) or {}
            retry = headers.get("Retry-After") or headers.get("retry-after")
            retry_ms = int(float(retry) * 1000) if retry and str(retry).replace(".", "", 1).isdigit() else None
            raise translate(exc, acts=type(request) in ACTS, ts=self.time.now(), what=type(request).__name__,
                            retry_after_ms=retry_ms, secrets=self.secrets) from None

    async def _dispatch(self, r: Any) -> Any:
        kind = type(r)
        if kind is FetchPositions:
            return await self.positions()
        if kind is FetchOpenOrders:
            return await self.open_orders()
        if kind is FetchFills:
            return await self.fills(r.since_ms)
        if kind is FetchOrder:
            return await self.lookup(r.client_id)
        if kind is FetchAccount:
            return await self.account()
        if kind is FetchTicker:
            return await self.ticker()
        if kind is FetchCandles:
            return await self.candles(r)
        if kind is SubmitOrder:
            return await self.submit(r)
        if kind is CancelOrder:
            return await self.cancel(r.client_id)
        if kind is AmendOrder:
            return await self.amend(r)
        if kind is SubmitAlgoOrder:
            return await self.submit_algo(r)
        if kind is CancelAlgoOrder:
            return await self.cancel_algo(r.client_algo_id)
        if kind is FetchAlgoOrder:
            return await self.fetch_algo(r.client_algo_id)
        if kind is FetchOpenAlgoOrders:
            return await self.open_algo()
        raise TypeError(f"the live adapter cannot answer {kind.__name__}")

    # -------------------------------------------------------------------------------- reads
    async def positions(self) -> PositionsReport:
        rows = await self.ex.fapiPrivateV3GetPositionRisk({"symbol": self.symbol})
        ts = self.time.now()
        return PositionsReport(ts, (position_report(rows, self.symbol, ts),))

    async def open_orders(self) -> OpenOrdersReport:
        if not self.conditional_as_orders:
            rows = await self.ex.fetch_open_orders(self.market)
            ts = self.time.now()
            return OpenOrdersReport(ts, tuple(self._order(o["info"], ts) for o in rows))
        rows, algos = await asyncio.gather(self.ex.fetch_open_orders(self.market),
                                           self.ex.fetch_open_orders(self.market, params={"trigger": True}))
        ts = self.time.now()
        orders = [self._order(o["info"], ts) for o in rows]
        orders += [algo_as_order(self._algo(a["info"], ts), None) for a in algos]
        return OpenOrdersReport(ts, tuple(orders))

    async def open_algo(self) -> OpenAlgoOrdersReport:
        algos = await self.ex.fetch_open_orders(self.market, params={"trigger": True})
        ts = self.time.now()
        return OpenAlgoOrdersReport(ts, tuple([await self._with_child(self._algo(a["info"], ts)) for a in algos]))

    async def lookup(self, cid: ClientOrderId) -> OrderReport:
        """An order by our client id; a conditional one (TP/SL role) from the algo service."""
        if self.conditional_as_orders and _is_conditional_role(cid):
            return await self._algo_as_order(cid)
        o = await self.ex.fetch_order(None, self.market, params={"clientOrderId": cid})
        return self._order(o["info"], self.time.now())

    async def fetch_algo(self, cid: ClientOrderId) -> AlgoOrderReport:
        a = await self.ex.fetch_order(None, self.market, params={"clientOrderId": cid, "trigger": True})
        return await self._with_child(self._algo(a["info"], self.time.now()))

    async def _with_child(self, algo: AlgoOrderReport) -> AlgoOrderReport:
        """The report with its child's client id (Binance's algo JSON names only the child's order id;
        the child's fills carry the child's client id, which is how the bot attributes them)."""
        child = algo.actual_order_id
        if child is None or algo.actual_client_id is not None:
            return algo
        if str(child) not in self._cid_of:
            o = await self.ex.fetch_order(str(child), self.market)
            self._order(o["info"], self.time.now())
        return replace(algo, actual_client_id=self._cid_of[str(child)])

    async def _algo_as_order(self, cid: ClientOrderId) -> OrderReport:
        algo = await self.fetch_algo(cid)
        child = None
        if algo.actual_order_id is not None:
            o = await self.ex.fetch_order(algo.actual_order_id, self.market)
            child = self._order(o["info"], self.time.now())
        return algo_as_order(algo, child)

    async def fills(self, since_ms: int) -> FillsReport:
        now = self.time.now()
        since = since_ms if since_ms > now - USER_TRADES_WINDOW_MS else None  # older: the last 7 days
        rows: list[dict] = []
        while True:
            page = await self.ex.fetch_my_trades(self.market, since, 1000)
            rows += [t["info"] for t in page]
            if len(page) < 1000:
                break
            since = max(ms(t["info"]["time"]) for t in page) + 1
        seen: set[str] = set()
        out: list[FillReport] = []
        for t in sorted(rows, key=lambda t: (ms(t["time"]), int(t["id"]))):
            if str(t["id"]) in seen or ms(t["time"]) < since_ms:
                continue
            seen.add(str(t["id"]))
            out.append(fill_report(t, await self._client_id_of(str(t.get("orderId") or ""))))
        ts = self.time.now(max((f.ts for f in out), default=0))
        return FillsReport(ts, tuple(out))

    async def _client_id_of(self, order_id: str) -> ClientOrderId | None:
        """Whose order a trade belongs to (Binance's trade rows name only the order id)."""
        if not order_id:
            return None
        if order_id in self._algo_of_child and self.conditional_as_orders:
            return self._algo_of_child[order_id]
        if order_id not in self._cid_of:
            o = await self.ex.fetch_order(order_id, self.market)
            self._order(o["info"], self.time.now())
        cid = self._cid_of[order_id]
        if self.conditional_as_orders and parse_client_id(cid) is None and self._algo_cids:
            await self._find_parents()  # a child of one of our conditional orders?
            return self._algo_of_child.get(order_id, cid)
        return cid

    async def _find_parents(self) -> None:
        """Ask the algo service which child order each of our pending conditional orders made."""
        for cid in list(self._algo_cids):
            try:
                await self.fetch_algo(ClientOrderId(cid))  # `_algo` files its child, if it has one
            except ccxt.OrderNotFound:
                self._algo_cids.discard(cid)  # the venue never had it (or no longer keeps it)

    async def account(self) -> AccountReport:
        bal, risk = await asyncio.gather(self.ex.fetch_balance(),
                                         self.ex.fapiPrivateV2GetPositionRisk({"symbol": self.symbol}))
        a = bal["info"]
        lev = next((int(r.get("leverage") or 0) for r in risk if r.get("symbol") == self.symbol), 0)
        return AccountReport(self.time.now(ms(a.get("updateTime"))), float(dec(a.get("totalWalletBalance"))),
                             float(dec(a.get("totalUnrealizedProfit"))), float(dec(a.get("totalMarginBalance"))),
                             float(dec(a.get("totalInitialMargin"))), float(dec(a.get("availableBalance"))),
                             lev or 1)

    async def ticker(self) -> Ticker:
        book, mark, last = await asyncio.gather(
            self.ex.fapiPublicGetTickerBookTicker({"symbol": self.symbol}),
            self.ex.fapiPublicGetPremiumIndex({"symbol": self.symbol}),
            self.ex.fapiPublicGetTickerPrice({"symbol": self.symbol}))
        seen = max(ms(book.get("time")), ms(mark.get("time")), ms(last.get("time")))
        return Ticker(self.time.now(seen), float(dec(book["bidPrice"])), float(dec(book["askPrice"])),
                      float(dec(last["price"])), float(dec(mark["markPrice"])))

    async def candles(self, r: FetchCandles) -> CandlesReport:
        tf = TIMEFRAMES.get(r.interval_ms)
        if tf is None:
            raise Rejected(RejectReason.INVALID, f"Binance has no {r.interval_ms} ms candles ({sorted(TIMEFRAMES)})",
                           self.time.now())
        rows = await self.ex.fetch_ohlcv(self.market, tf, r.since_ms, min(r.limit, 1500))
        now = self.time.now()
        closed = tuple(Candle(int(t), float(o), float(h), float(lo), float(c)) for t, o, h, lo, c, *_ in rows
                       if int(t) >= r.since_ms and int(t) + r.interval_ms <= now)
        return CandlesReport(now, closed)

    # --------------------------------------------------------------------------------- acts
    async def submit(self, r: SubmitOrder) -> OrderReport:
        if r.type in CONDITIONAL:
            algo = await self.submit_algo(SubmitAlgoOrder(r.symbol, r.client_id, r.side, r.type,
                                                          r.trigger_price or Decimal(0), r.qty, r.trigger_by,
                                                          r.reduce_only))
            return algo_as_order(algo, None)
        params: dict[str, Any] = {"clientOrderId": r.client_id}
        if r.reduce_only:
            params["reduceOnly"] = True
        if r.type is OrderType.LIMIT:
            params["timeInForce"] = TIF[r.time_in_force]
        o = await self.ex.create_order(self.market, TYPE_OUT[r.type].lower(), r.side.value, float(r.qty),
                                       float(r.price) if r.price is not None else None, params)
        return self._order(o["info"], self.time.now())

    async def submit_algo(self, r: SubmitAlgoOrder) -> AlgoOrderReport:
        params: dict[str, Any] = {"clientOrderId": r.client_algo_id, "triggerPrice": float(r.trigger_price),
                                  "workingType": "MARK_PRICE" if r.trigger_by is TriggerBy.MARK else "CONTRACT_PRICE"}
        if r.close_position:
            params["closePosition"] = True
        elif r.reduce_only:
            params["reduceOnly"] = True
        a = await self.ex.create_order(self.market, TYPE_OUT[r.type], r.side.value,
                                       float(r.qty) if r.qty is not None else None, None, params)
        return await self._with_child(self._algo(a["info"], self.time.now()))

    async def cancel(self, cid: ClientOrderId) -> OrderReport:
        if self.conditional_as_orders and _is_conditional_role(cid):
            await self.ex.cancel_order(None, self.market, params={"clientOrderId": cid, "trigger": True})
            return await self._algo_as_order(cid)  # Binance's cancel answer has ids only: read it back
        o = await self.ex.cancel_order(None, self.market, params={"clientOrderId": cid})
        return self._order(o["info"], self.time.now())

    async def cancel_algo(self, cid: ClientOrderId) -> AlgoOrderReport:
        await self.ex.cancel_order(None, self.market, params={"clientOrderId": cid, "trigger": True})
        return await self.fetch_algo(cid)

    async def amend(self, r: AmendOrder) -> OrderReport:
        if r.trigger_price is not None or (self.conditional_as_orders and _is_conditional_role(r.client_id)):
            raise Rejected(RejectReason.INVALID, "Binance's conditional orders cannot be amended: cancel and replace",
                           self.time.now())
        current = await self.lookup(r.client_id)
        qty = r.qty if r.qty is not None else current.qty
        price = r.price if r.price is not None else current.price
        o = await self.ex.edit_order(current.venue_id, self.market, TYPE_OUT[current.type].lower(),
                                     current.side.value, float(qty), float(price) if price is not None else None)
        return self._order(o["info"], self.time.now())

    # ------------------------------------------------------------------------------ helpers
    def _order(self, info: dict, ts: int) -> OrderReport:
        rep = order_report(info, ts)
        self._cid_of[str(rep.venue_id)] = rep.client_id
        return rep

    def _algo(self, info: dict, ts: int) -> AlgoOrderReport:
        rep = algo_report(info, ts)
        if parse_client_id(rep.client_algo_id) is not None:
            if rep.actual_order_id is not None:
                self._algo_of_child[str(rep.actual_order_id)] = rep.client_algo_id
                self._algo_cids.discard(rep.client_algo_id)
            elif rep.status.is_open:
                self._algo_cids.add(rep.client_algo_id)
            else:
                self._algo_cids.discard(rep.client_algo_id)
        return rep

    def stamp(self, seen: int = 0) -> int:
        return self.time.now(seen)


def _is_conditional_role(cid: str) -> bool:
    parsed = parse_client_id(cid)
    return parsed is not None and parsed.role in (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS)


__all__ = ["ACTS", "CcxtVenue", "VenueTime"]
