"""Algo (conditional) order routes: ``/fapi/v1/algoOrder`` new, query, cancel; open and all algo orders.

Binance has taken conditional orders only through its algo service since 2025-12-09. They go to
the venue through the port's algo requests (`SubmitAlgoOrder`, `CancelAlgoOrder`,
`FetchAlgoOrder`, `FetchOpenAlgoOrders`); on trigger the venue creates a child market order,
named in ``actualOrderId`` and queryable on ``/fapi/v1/order``.
"""
from __future__ import annotations

from typing import Any

from sim.core.errors import Rejected
from sim.core.messages import (
    AlgoOrderReport,
    CancelAlgoOrder,
    FetchAlgoOrder,
    FetchOpenAlgoOrders,
    OpenAlgoOrdersReport,
    SubmitAlgoOrder,
)
from sim.core.types import AlgoOrderId, ClientOrderId, RejectReason, TriggerBy
from sim.serve.binance import SERVED_ALGO_TYPES, SIDE_IN, TYPE_IN, algo_json, order_id
from sim.serve.context import Ctx
from sim.serve.errors import BinanceError, bad
from sim.serve.params import Params
from sim.serve.rest_trade import check_price, check_qty

ALGO_TYPES = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")


async def new_algo_order(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p)
    p.choice("algoType", ("CONDITIONAL",), required=True)
    side = SIDE_IN[p.choice("side", ("BUY", "SELL"), required=True, code=-1117)]  # type: ignore[index]
    typ = p.choice("type", ALGO_TYPES, required=True, code=-1116)
    if typ not in SERVED_ALGO_TYPES:
        raise bad(-1116, f"Invalid orderType: {typ} is not served (STOP_MARKET and TAKE_PROFIT_MARKET are).")
    if p.choice("positionSide", ("BOTH", "LONG", "SHORT"), default="BOTH") != "BOTH":
        raise bad(-4061, "Order's position side does not match user's setting.")
    trigger = p.decimal("triggerPrice", required=True)
    assert trigger is not None
    check_price(ctx, trigger, "triggerPrice")
    close = p.bool("closePosition")
    reduce_only = p.bool("reduceOnly")
    qty = p.decimal("quantity", required=not close)  # with closePosition the venue refuses one (-4137)
    if qty is not None:
        check_qty(ctx, qty)
    working = p.choice("workingType", ("MARK_PRICE", "CONTRACT_PRICE"), default="CONTRACT_PRICE")
    cid = p.client_id("clientAlgoId") or ctx.auto_client_id()
    req = SubmitAlgoOrder(sym, ClientOrderId(cid), side, TYPE_IN[typ], trigger, qty,  # type: ignore[arg-type]
                          TriggerBy.MARK if working == "MARK_PRICE" else TriggerBy.LAST, reduce_only, close)
    ctx.audit.order_request(cid, reduce_only or close, p)

    def act(now: int) -> dict:
        rep = ctx.world.venue.handle(req, now)
        assert isinstance(rep, AlgoOrderReport)
        return algo_json(rep, ctx.wall, now)

    return await ctx.audit.watch(cid, ctx.link.call(act, "algoOrder"))


def _ref(p: Params) -> tuple[str, AlgoOrderId | None]:
    """The ``(client algo id, algo id)`` a query or cancel names (``algoId`` wins)."""
    aid, cid = p.int("algoId"), p.str("clientAlgoId")
    if aid is None and cid is None:
        raise bad(-1102, "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!")
    return cid or "", None if aid is None else AlgoOrderId(f"A{aid}")


def _created(ctx: Ctx, rep: AlgoOrderReport) -> int:
    held = ctx.world.venue.algo.registry.by_id.get(rep.algo_id)
    return held.ts_created if held is not None else rep.updated_ms


async def get_algo_order(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p, required=False) or ctx.world.symbol
    cid, aid = _ref(p)

    def act(now: int) -> dict:
        try:
            rep = ctx.world.venue.handle(FetchAlgoOrder(sym, ClientOrderId(cid), aid), now)
        except Rejected as exc:
            if exc.reason is RejectReason.UNKNOWN_ORDER:
                raise bad(-2013, "Order does not exist.") from None
            raise
        assert isinstance(rep, AlgoOrderReport)
        return algo_json(rep, ctx.wall, _created(ctx, rep))

    try:
        body = await ctx.link.call(act, "algoOrder query")
    except BinanceError as exc:
        if exc.code == -2013 and cid:  # "no such order" is an answer too
            ctx.audit.looked_up(cid, "algoOrder")
        raise
    ctx.audit.looked_up(body["clientAlgoId"], "algoOrder")
    return body


async def cancel_algo_order(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p, required=False) or ctx.world.symbol
    cid, aid = _ref(p)

    def act(now: int) -> dict:
        rep = ctx.world.venue.handle(CancelAlgoOrder(sym, ClientOrderId(cid), aid), now)
        assert isinstance(rep, AlgoOrderReport)
        return {"algoId": order_id(rep.algo_id), "clientAlgoId": rep.client_algo_id, "code": "200",
                "msg": "success"}

    body = await ctx.link.call(act, "algoOrder cancel")
    ctx.audit.looked_up(body["clientAlgoId"], "algoOrder cancel")
    return body


def _open(ctx: Ctx, now: int) -> tuple[AlgoOrderReport, ...]:
    rep = ctx.world.venue.handle(FetchOpenAlgoOrders(ctx.world.symbol), now)
    assert isinstance(rep, OpenAlgoOrdersReport)
    return rep.orders


async def open_algo_orders(ctx: Ctx, p: Params) -> Any:
    ctx.symbol(p, required=False)
    body = await ctx.link.call(lambda now: [algo_json(r, ctx.wall, _created(ctx, r)) for r in _open(ctx, now)],
                               "openAlgoOrders")
    ctx.audit.looked_up_all(body, "openAlgoOrders")
    return body


async def all_algo_orders(ctx: Ctx, p: Params) -> Any:
    """The account's algo orders the venue still retains, oldest first."""
    sym = ctx.symbol(p)
    limit = p.int("limit", default=500, lo=1, hi=1000)

    def act(now: int) -> list:
        rows = []
        for held in ctx.world.venue.algo.registry:
            if held.source == "bot":
                rep = ctx.world.venue.handle(FetchAlgoOrder(sym, held.client_algo_id, held.algo_id), now)
                assert isinstance(rep, AlgoOrderReport)
                rows.append(algo_json(rep, ctx.wall, held.ts_created))
        return rows[-limit:]

    body = await ctx.link.call(act, "allAlgoOrders")
    ctx.audit.looked_up_all(body, "allAlgoOrders")
    return body


async def cancel_all_algo(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p)

    def act(now: int) -> dict:
        for r in _open(ctx, now):
            try:
                ctx.world.venue.handle(CancelAlgoOrder(sym, r.client_algo_id), now)  # type: ignore[arg-type]
            except Rejected as exc:
                if exc.reason is not RejectReason.UNKNOWN_ORDER:
                    raise
        return {"code": 200, "msg": "The operation of cancel all open order is done."}
    return await ctx.link.call(act, "algoOpenOrders")
