"""Pushed updates from the venue's user-data stream (ccxt.pro), into the bot's inbox.

``watch_orders`` (ORDER_TRADE_UPDATE and ALGO_UPDATE), ``watch_my_trades`` and
``watch_positions`` (ACCOUNT_UPDATE) each run as a task. An update only wakes the bot early: it
reconciles against the venue's REST answers and never takes the stream for the truth, because a
stream can lose messages. A stream that fails is reconnected after a pause (ccxt.pro opens a new
socket and a new listen key on the next ``watch_*``); what it missed meanwhile, the bot's next
reconcile finds.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sim.core.messages import AlgoOrderReport, FillReport, OrderReport, PositionReport
from sim.core.types import (
    AlgoOrderId,
    ClientOrderId,
    FillKind,
    OrderStatus,
    OrderType,
    TradeId,
    TriggerBy,
    VenueOrderId,
)
from sim.live.wire import (
    ALGO_STATUS,
    LIQUIDATION_PREFIXES,
    SIDE,
    STATUS,
    TYPE,
    algo_as_order,
    dec,
    ms,
    opt_dec,
)

log = logging.getLogger("aethersim.live")
Update = OrderReport | AlgoOrderReport | FillReport | PositionReport
RECONNECT_PAUSE_S = 1.0


def order_update(o: dict, symbol: str, conditional_as_orders: bool, ts: int) -> Update | None:
    """An ORDER_TRADE_UPDATE or ALGO_UPDATE payload (the event's ``o``) as a port report."""
    if o.get("s") != symbol or o.get("S") not in SIDE:
        return None
    t = max(ts, ms(o.get("T")))
    if "aid" in o:  # ALGO_UPDATE
        status = ALGO_STATUS.get(str(o.get("X")))
        otype = TYPE.get(str(o.get("o")))
        if status is None or otype is None:
            return None
        qty = dec(o.get("q"))
        actual = str(o.get("ai") or "")
        algo = AlgoOrderReport(symbol, ClientOrderId(str(o.get("caid"))), AlgoOrderId(str(o["aid"])), SIDE[o["S"]],
                               otype, qty if qty else None, dec(o.get("tp")),
                               TriggerBy.MARK if o.get("wt") == "MARK_PRICE" else TriggerBy.LAST,
                               bool(o.get("R")), bool(o.get("cp")), status, VenueOrderId(actual) if actual else None,
                               None, t, t, ms(o.get("tt")) or None, str(o.get("rm") or ""),
                               actual_qty=dec(o.get("aq")), actual_price=opt_dec(o.get("ap")))
        if not conditional_as_orders:
            return algo
        filled = dec(o.get("aq"))
        child = None
        if actual:
            child = OrderReport(symbol, ClientOrderId(""), VenueOrderId(actual), algo.side, OrderType.MARKET,
                                algo.qty or filled, None, None, True,
                                OrderStatus.FILLED if filled and not status.is_open else OrderStatus.ACKNOWLEDGED,
                                filled, opt_dec(o.get("ap")), t)
        return algo_as_order(algo, child)
    status = STATUS.get(str(o.get("X")))
    otype = TYPE.get(str(o.get("ot") or o.get("o")))
    if status is None or otype is None:
        return None
    return OrderReport(symbol, ClientOrderId(str(o.get("c"))), VenueOrderId(str(o.get("i"))), SIDE[o["S"]], otype,
                       dec(o.get("q")), opt_dec(o.get("p")), opt_dec(o.get("sp")), bool(o.get("R")), status,
                       dec(o.get("z")), opt_dec(o.get("ap")), t)


def trade_update(o: dict, symbol: str) -> FillReport | None:
    """The trade in an ORDER_TRADE_UPDATE with execution type TRADE."""
    if o.get("s") != symbol or o.get("x") != "TRADE" or o.get("S") not in SIDE:
        return None
    cid = str(o.get("c") or "") or None
    kind = FillKind.LIQUIDATION if cid and cid.startswith(LIQUIDATION_PREFIXES) else FillKind.TRADE
    return FillReport(TradeId(str(o.get("t"))), symbol, VenueOrderId(str(o.get("i"))),
                      ClientOrderId(cid) if cid else None, SIDE[o["S"]], dec(o.get("l")), dec(o.get("L")),
                      float(dec(o.get("n"))), kind, ms(o.get("T")))


def position_update(p: dict, symbol: str, ts: int) -> PositionReport | None:
    """A position of an ACCOUNT_UPDATE (``a.P[]``)."""
    if p.get("s") != symbol or p.get("ps", "BOTH") != "BOTH":
        return None
    return PositionReport(symbol, dec(p.get("pa")), dec(p.get("ep")), ts)


class Streams:
    """The three user-data watchers, feeding ``deliver`` until `stop`."""

    def __init__(self, exchange: Any, market: str, symbol: str, deliver: Callable[[Update], None],
                 stamp: Callable[[int], int], conditional_as_orders: bool = True) -> None:
        self.ex = exchange
        self.market = market
        self.symbol = symbol
        self.deliver = deliver
        self.stamp = stamp
        self.conditional_as_orders = conditional_as_orders
        self.received = 0
        self.reconnects = 0
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        for name, watch in (("orders", self._orders), ("trades", self._trades), ("positions", self._positions)):
            self._tasks.append(asyncio.create_task(self._loop(name, watch), name=f"stream:{name}"))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _loop(self, name: str, watch: Callable[[], Any]) -> None:
        while True:
            try:
                await watch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure of a stream: reconnect; the bot reconciles
                self.reconnects += 1
                log.info("stream %s dropped (%s); reconnecting", name, type(exc).__name__)
                await asyncio.sleep(RECONNECT_PAUSE_S)

    def _push(self, update: Update | None) -> None:
        if update is not None:
            self.received += 1
            self.deliver(update)

    async def _orders(self) -> None:
        for o in await self.ex.watch_orders(self.market):
            self._push(order_update(o.get("info") or {}, self.symbol, self.conditional_as_orders, self.stamp(0)))

    async def _trades(self) -> None:
        for t in await self.ex.watch_my_trades(self.market):
            self._push(trade_update(t.get("info") or {}, self.symbol))

    async def _positions(self) -> None:
        for p in await self.ex.watch_positions([self.market]):
            ts = self.stamp(int(p.get("timestamp") or 0))
            self._push(position_update(p.get("info") or {}, self.symbol, ts))


__all__ = ["Streams", "order_update", "position_update", "trade_update"]
