"""Order routes: new, query, cancel, open orders, all orders, cancel all, and the account's trades.

Parameters are checked here as Binance's API checks them (types, filters, what the endpoint
takes); the order itself goes to the venue through the port (`SubmitOrder`, `CancelOrder`,
`FetchOrder`), so it is matched, refused or filled exactly as in a simulation run.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sim.core.errors import Rejected
from sim.core.messages import CancelOrder, FetchOpenOrders, FetchOrder, OpenOrdersReport, SubmitOrder
from sim.core.types import ClientOrderId, OrderType, RejectReason, TimeInForce, TriggerBy
from sim.serve.binance import SIDE_IN, TIF_IN, TYPE_IN, order_json, trade_json
from sim.serve.context import Ctx
from sim.serve.errors import BinanceError, bad, mandatory
from sim.serve.params import Params
from sim.world.venue_orders import VenueOrder

ALGO_ONLY = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")
LEGACY_TYPES = ("STOP_MARKET", "TAKE_PROFIT_MARKET")  # taken on /order with --legacy-stops


def _places(x: Decimal) -> int:
    return max(0, -x.normalize().as_tuple().exponent)  # type: ignore[operator]


def check_qty(ctx: Ctx, qty: Decimal) -> None:
    """What Binance's API layer refuses before the matching engine: more decimals than the asset has
    (-1111); the venue checks the filters themselves (step, min, max, notional)."""
    if qty <= 0:
        raise bad(-4003, "Quantity less than or equal to zero.")
    if _places(qty) > _places(ctx.world.venue.instrument.lot_size):
        raise bad(-1111, "Precision is over the maximum defined for this asset.")


def check_price(ctx: Ctx, price: Decimal, name: str = "price") -> None:
    if price <= 0:
        raise bad(-4001, "Price less than 0.")
    if _places(price) > _places(ctx.world.venue.instrument.tick_size):
        raise bad(-1111, "Precision is over the maximum defined for this asset.")


async def new_order(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p)
    side = SIDE_IN[p.choice("side", ("BUY", "SELL"), required=True, code=-1117)]  # type: ignore[index]
    typ = p.str("type", required=True)
    legacy = ctx.world.venue.rules.conditional_orders == "legacy" and typ in LEGACY_TYPES
    if typ in ALGO_ONLY and not legacy:
        raise bad(-4120, "Order type not supported for this endpoint. Please use the Algo Order API endpoints "
                  "instead.")
    if typ not in ("LIMIT", "MARKET") and not legacy:
        raise bad(-1116, "Invalid orderType.")
    if p.choice("positionSide", ("BOTH", "LONG", "SHORT"), default="BOTH") != "BOTH":
        raise bad(-4061, "Order's position side does not match user's setting.")
    qty = p.decimal("quantity", required=True)
    assert qty is not None
    check_qty(ctx, qty)
    price = p.decimal("price", required=typ == "LIMIT")
    tif = TimeInForce.GTC
    if typ == "LIMIT":
        assert price is not None
        check_price(ctx, price)
        t = p.choice("timeInForce", ("GTC", "IOC", "FOK", "GTX", "GTD"), required=True, code=-1115)
        if t not in TIF_IN:
            raise bad(-1115, f"Invalid timeInForce: {t} is not served (GTC, IOC, FOK and GTX are).")
        tif = TIF_IN[t]  # type: ignore[index]
    elif price is not None:
        raise bad(-1106, "Parameter 'price' sent when not required.")
    trigger, trigger_by = None, TriggerBy.LAST
    if legacy:  # the pre-2025-12 route (--legacy-stops): a stop or take-profit market order on /order
        trigger = p.decimal("stopPrice", required=True)
        check_price(ctx, trigger, "stopPrice")  # type: ignore[arg-type]
        working = p.choice("workingType", ("MARK_PRICE", "CONTRACT_PRICE"), default="CONTRACT_PRICE")
        trigger_by = TriggerBy.MARK if working == "MARK_PRICE" else TriggerBy.LAST
    reduce_only = p.bool("reduceOnly")
    if p.bool("closePosition"):
        raise bad(-1106, "Parameter 'closePosition' sent when not required (use the Algo Order API).")
    cid = p.client_id("newClientOrderId") or ctx.auto_client_id()
    resp = p.choice("newOrderRespType", ("ACK", "RESULT"), default="ACK")
    req = SubmitOrder(sym, ClientOrderId(cid), side, TYPE_IN[typ], qty, price, trigger, trigger_by,  # type: ignore
                      reduce_only=reduce_only, time_in_force=tif)
    ctx.audit.order_request(cid, reduce_only, p)
    venue = ctx.world.venue

    def act(now: int) -> dict:
        venue.handle(req, now)
        o = venue.orders[ClientOrderId(cid)]
        body = order_json(o, ctx.wall)
        if resp == "ACK":  # the answer at acceptance, before matching
            body.update(status="NEW", executedQty="0", cumQty="0", cumQuote="0", avgPrice="0",
                        updateTime=ctx.wall(now))
        return body

    return await ctx.audit.watch(cid, ctx.link.call(act, "order"))


def order_ref(p: Params) -> tuple[str | None, str | None]:
    """The ``(client id, venue id)`` a query or cancel names (``orderId`` wins, as on Binance)."""
    oid = p.int("orderId")
    cid = p.str("origClientOrderId")
    if oid is None and cid is None:
        raise bad(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
    return cid, None if oid is None else f"V{oid}"


def find_order(ctx: Ctx, p: Params, now: int) -> VenueOrder | None:
    """The order named by ``orderId`` or ``origClientOrderId`` (None: the venue has none, or forgot it)."""
    cid, vid = order_ref(p)
    o = ctx.world.venue.registry.find(now, cid, vid)
    if o is not None and vid is not None and cid is not None and o.client_id != cid:
        return None
    return o


async def get_order(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p)

    order_ref(p)

    def act(now: int) -> dict:
        o = find_order(ctx, p, now)
        if o is None:
            raise bad(-2013, "Order does not exist.")
        ctx.world.venue.handle(FetchOrder(sym, o.client_id, o.venue_id), now)  # type: ignore[arg-type]
        return order_json(o, ctx.wall)

    try:
        body = await ctx.link.call(act, "order query")
    except BinanceError as exc:
        if exc.code == -2013 and p.str("origClientOrderId"):  # "no such order" is an answer too
            ctx.audit.looked_up(p.str("origClientOrderId"), "order")  # type: ignore[arg-type]
        raise
    ctx.audit.looked_up(body["clientOrderId"], "order")
    return body


async def cancel_order(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p)
    order_ref(p)  # parameter check before the trip

    def act(now: int) -> dict:
        o = find_order(ctx, p, now)
        if o is None:
            raise bad(-2011, "Unknown order sent.")
        ctx.world.venue.handle(CancelOrder(sym, o.client_id), now)  # type: ignore[arg-type]
        return order_json(o, ctx.wall)

    body = await ctx.link.call(act, "cancel")
    ctx.audit.looked_up(body["clientOrderId"], "cancel")
    return body


def _open(ctx: Ctx, now: int) -> list[VenueOrder]:
    rep = ctx.world.venue.handle(FetchOpenOrders(ctx.world.symbol), now)
    assert isinstance(rep, OpenOrdersReport)
    v = ctx.world.venue
    listed = {r.venue_id for r in rep.orders}
    return [o for o in v.open_orders() if o.venue_id in listed]  # legacy stops too; algo orders are apart


async def open_orders(ctx: Ctx, p: Params) -> Any:
    ctx.symbol(p, required=False)
    body = await ctx.link.call(lambda now: [order_json(o, ctx.wall) for o in _open(ctx, now)], "openOrders")
    ctx.audit.looked_up_all(body, "openOrders")
    return body


async def open_order(ctx: Ctx, p: Params) -> Any:
    ctx.symbol(p)

    def act(now: int) -> dict:
        o = find_order(ctx, p, now)
        if o is None or o not in _open(ctx, now):
            raise bad(-2013, "Order does not exist.")
        return order_json(o, ctx.wall)
    return await ctx.link.call(act, "openOrder")


async def all_orders(ctx: Ctx, p: Params) -> Any:
    ctx.symbol(p, required=False)
    oid, start, end = p.int("orderId"), p.int("startTime"), p.int("endTime")
    limit = p.int("limit", default=500, lo=1, hi=1000)

    def act(now: int) -> list:
        rows = [order_json(o, ctx.wall) for o in ctx.world.venue.registry if o.source in ("bot", "algo")
                and ctx.world.venue.registry.find(now, venue_id=o.venue_id) is not None]
        rows.sort(key=lambda r: r["orderId"])
        rows = [r for r in rows if (oid is None or r["orderId"] >= oid) and (start is None or r["time"] >= start)
                and (end is None or r["time"] <= end)]
        return rows[:limit] if oid is not None or start is not None else rows[-limit:]

    body = await ctx.link.call(act, "allOrders")
    ctx.audit.looked_up_all(body, "allOrders")
    return body


async def cancel_all(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p)

    def act(now: int) -> dict:
        for o in _open(ctx, now):
            try:
                ctx.world.venue.handle(CancelOrder(sym, o.client_id), now)  # type: ignore[arg-type]
            except Rejected as exc:  # filled meanwhile: nothing to cancel
                if exc.reason is not RejectReason.UNKNOWN_ORDER:
                    raise
        return {"code": 200, "msg": "The operation of cancel all open order is done."}
    return await ctx.link.call(act, "allOpenOrders")


async def user_trades(ctx: Ctx, p: Params) -> Any:
    ctx.symbol(p)
    oid, start, end, from_id = p.int("orderId"), p.int("startTime"), p.int("endTime"), p.int("fromId")
    limit = p.int("limit", default=500, lo=1, hi=1000)
    if from_id is not None and (start is not None or end is not None):
        raise bad(-4000, "fromId cannot be sent with startTime or endTime.")

    def act(now: int) -> list:
        tap = ctx.world.tap
        rows = []
        for f in ctx.world.venue.fills:
            row = trade_json(f, tap.realized.get(f.trade_id, 0.0), ctx.wall)
            if (oid is None or row["orderId"] == oid) and (from_id is None or row["id"] >= from_id) and \
                    (start is None or row["time"] >= start) and (end is None or row["time"] <= end):
                rows.append(row)
        return rows[:limit] if from_id is not None or start is not None else rows[-limit:]

    body = await ctx.link.call(act, "userTrades")
    ctx.audit.noticed("userTrades")
    return body


def require_one(p: Params, *names: str) -> None:
    if not any(n in p for n in names):
        raise mandatory(names[0])


__all__ = ["OrderType", "all_orders", "cancel_all", "cancel_order", "get_order", "new_order", "open_order",
           "open_orders", "user_trades"]
