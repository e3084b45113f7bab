"""The Binance USD-M mapping of the venue's state: ids, enums and the REST JSON shapes.

Only this module (with `wire_events`) knows how Binance spells things; the venue and the port
contract stay exchange-neutral, as a live adapter would keep them. Numbers are JSON strings and
times are wall-clock epoch ms (``wall`` maps the venue's simulated time to it).
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sim.core.instrument import Instrument
from sim.core.messages import AlgoOrderReport, FillReport
from sim.core.types import AlgoStatus, OrderStatus, OrderType, Side, TimeInForce
from sim.world.venue_orders import VenueOrder

Wall = Callable[[float], int]

STATUS = {OrderStatus.ACKNOWLEDGED: "NEW", OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
          OrderStatus.FILLED: "FILLED", OrderStatus.CANCELLED: "CANCELED", OrderStatus.EXPIRED: "EXPIRED",
          OrderStatus.REJECTED: "REJECTED", OrderStatus.NEW: "NEW", OrderStatus.SENT: "NEW",
          OrderStatus.UNKNOWN: "NEW"}
ALGO_STATUS = {AlgoStatus.NEW: "NEW", AlgoStatus.CANCELLED: "CANCELED", AlgoStatus.TRIGGERING: "TRIGGERING",
               AlgoStatus.TRIGGERED: "TRIGGERED", AlgoStatus.FINISHED: "FINISHED", AlgoStatus.REJECTED: "REJECTED",
               AlgoStatus.EXPIRED: "EXPIRED"}
TYPE = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP_MARKET: "STOP_MARKET",
        OrderType.TAKE_PROFIT_MARKET: "TAKE_PROFIT_MARKET"}
TYPE_IN = {v: k for k, v in TYPE.items()}
TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.POST_ONLY: "GTX", TimeInForce.FOK: "FOK"}
TIF_IN = {v: k for k, v in TIF.items()}
SIDE = {Side.BUY: "BUY", Side.SELL: "SELL"}
SIDE_IN = {v: k for k, v in SIDE.items()}
ORDER_TYPES = ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]
SERVED_ORDER_TYPES = ("LIMIT", "MARKET")
SERVED_ALGO_TYPES = ("STOP_MARKET", "TAKE_PROFIT_MARKET")
KLINE_INTERVALS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
                   "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000,
                   "12h": 43_200_000, "1d": 86_400_000}


def num(x: Decimal | float | int | None, places: int = 8) -> str:
    """A number as Binance writes it: a plain decimal string, no exponent."""
    if x is None:
        return "0"
    if isinstance(x, Decimal):
        return format(x.normalize(), "f") if x else "0"
    s = f"{float(x):.{places}f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def order_id(venue_id: str) -> int:
    """The venue's ``V123`` as Binance's integer ``orderId`` (increasing per symbol)."""
    return int(venue_id.lstrip("VA"))


def trade_id(tid: str) -> int:
    return int(tid.lstrip("T"))


def precision(step: Decimal) -> int:
    return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]


def order_json(o: VenueOrder, wall: Wall) -> dict:
    avg = o.avg_price
    return {
        "orderId": order_id(o.venue_id), "symbol": o.symbol, "status": STATUS[o.status], "clientOrderId": o.client_id,
        "price": num(o.price), "avgPrice": num(avg), "origQty": num(o.qty), "executedQty": num(o.filled_qty),
        "cumQty": num(o.filled_qty), "cumQuote": num(o.notional), "timeInForce": TIF[o.time_in_force],
        "type": TYPE[o.type], "reduceOnly": o.reduce_only, "closePosition": False, "side": SIDE[o.side],
        "positionSide": "BOTH", "stopPrice": num(o.trigger_price), "workingType": _working(o.trigger_by),
        "priceProtect": False, "origType": TYPE[o.type], "priceMatch": "NONE", "selfTradePreventionMode": "NONE",
        "goodTillDate": 0, "time": wall(o.ts_created), "updateTime": wall(o.ts_updated),
    }


def _working(trigger_by: str) -> str:
    return "MARK_PRICE" if trigger_by == "mark" else "CONTRACT_PRICE"


def algo_json(a: AlgoOrderReport, wall: Wall, created_ms: int | None = None) -> dict:
    """An algo (conditional) order as ``/fapi/v1/algoOrder`` reports it (with its child once triggered)."""
    return {
        "algoId": order_id(a.algo_id), "clientAlgoId": a.client_algo_id, "algoType": "CONDITIONAL",
        "orderType": TYPE[a.type], "symbol": a.symbol, "side": SIDE[a.side], "positionSide": "BOTH",
        "timeInForce": "GTC", "quantity": num(a.qty), "algoStatus": ALGO_STATUS[a.status],
        "triggerPrice": num(a.trigger_price), "price": "0", "icebergQuantity": None,
        "selfTradePreventionMode": "NONE", "workingType": _working(a.trigger_by.value), "priceMatch": "NONE",
        "closePosition": a.close_position, "priceProtect": False, "reduceOnly": a.reduce_only, "activatePrice": "",
        "callbackRate": "", "createTime": wall(created_ms if created_ms is not None else a.updated_ms),
        "updateTime": wall(a.updated_ms),
        "triggerTime": wall(a.trigger_ms) if a.trigger_ms is not None else 0, "goodTillDate": 0,
        "actualOrderId": str(order_id(a.actual_order_id)) if a.actual_order_id else "",
        "actualPrice": num(a.actual_price) if a.actual_order_id else "",
        "actualType": "MARKET" if a.actual_order_id else "",
        "actualQty": num(a.actual_qty) if a.actual_order_id else "",
        "tpOrderType": "",
    }


def trade_json(f: FillReport, realized: float, wall: Wall) -> dict:
    return {
        "buyer": f.side is Side.BUY, "commission": num(f.fee), "commissionAsset": "USDT",
        "id": trade_id(f.trade_id), "maker": False, "orderId": order_id(f.venue_order_id) if f.venue_order_id else 0,
        "price": num(f.price), "qty": num(f.qty), "quoteQty": num(float(f.qty) * float(f.price)),
        "realizedPnl": num(realized), "side": SIDE[f.side], "positionSide": "BOTH", "symbol": f.symbol,
        "time": wall(f.ts),
    }


def filters(inst: Instrument, band: float, max_price: Decimal) -> list[dict]:
    tick, step = inst.tick_size, inst.lot_size
    return [
        {"filterType": "PRICE_FILTER", "minPrice": num(tick), "maxPrice": num(max_price), "tickSize": num(tick)},
        {"filterType": "LOT_SIZE", "minQty": num(max(inst.min_qty, step)), "maxQty": num(inst.max_qty),
         "stepSize": num(step)},
        {"filterType": "MARKET_LOT_SIZE", "minQty": num(max(inst.min_qty, step)), "maxQty": num(inst.market_max_qty),
         "stepSize": num(step)},
        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
        {"filterType": "MIN_NOTIONAL", "notional": num(inst.min_notional)},
        {"filterType": "PERCENT_PRICE", "multiplierUp": num(1 + band, 4), "multiplierDown": num(1 - band, 4),
         "multiplierDecimal": "4"},
    ]


def symbol_json(inst: Instrument, band: float, mmr: float, max_price: Decimal, onboard_ms: int) -> dict:
    base = inst.symbol[:-4] if inst.symbol.endswith(("USDT", "USDC")) else inst.symbol
    quote = inst.symbol[len(base):] or "USDT"
    return {
        "symbol": inst.symbol, "pair": inst.symbol, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
        "onboardDate": onboard_ms, "status": "TRADING", "maintMarginPercent": num(mmr * 100, 4),
        "requiredMarginPercent": num(mmr * 200, 4), "baseAsset": base, "quoteAsset": quote, "marginAsset": quote,
        "pricePrecision": precision(inst.tick_size), "quantityPrecision": precision(inst.lot_size),
        "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": [],
        "settlePlan": 0, "triggerProtect": num(band, 4), "liquidationFee": "0", "marketTakeBound": num(band, 4),
        "maxMoveOrderLimit": 10000, "filters": filters(inst, band, max_price), "orderTypes": ORDER_TYPES,
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }
