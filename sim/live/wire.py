"""Binance USD-M's JSON (as ccxt hands it over in ``info``) read into the port's reports.

Quantities and prices are read from Binance's decimal strings straight into `Decimal`, never
through ccxt's floats: the record's position must equal the sum of its fills exactly. Conditional
orders come from the algo service (``/fapi/v1/algoOrder``) with their own ids and statuses.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sim.core.messages import AlgoOrderReport, FillReport, OrderReport, PositionReport
from sim.core.types import (
    AlgoOrderId,
    AlgoStatus,
    ClientOrderId,
    FillKind,
    OrderStatus,
    OrderType,
    Side,
    TradeId,
    TriggerBy,
    VenueOrderId,
)

SIDE = {"BUY": Side.BUY, "SELL": Side.SELL}
TYPE = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT, "STOP_MARKET": OrderType.STOP_MARKET,
        "TAKE_PROFIT_MARKET": OrderType.TAKE_PROFIT_MARKET}
TYPE_OUT = {v: k for k, v in TYPE.items()}
STATUS = {"NEW": OrderStatus.ACKNOWLEDGED, "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
          "FILLED": OrderStatus.FILLED, "CANCELED": OrderStatus.CANCELLED, "CANCELLED": OrderStatus.CANCELLED,
          "EXPIRED": OrderStatus.EXPIRED, "EXPIRED_IN_MATCH": OrderStatus.EXPIRED, "REJECTED": OrderStatus.REJECTED}
ALGO_STATUS = {"NEW": AlgoStatus.NEW, "CANCELED": AlgoStatus.CANCELLED, "CANCELLED": AlgoStatus.CANCELLED,
               "TRIGGERING": AlgoStatus.TRIGGERING, "TRIGGERED": AlgoStatus.TRIGGERED,
               "FINISHED": AlgoStatus.FINISHED, "REJECTED": AlgoStatus.REJECTED, "EXPIRED": AlgoStatus.EXPIRED}
LIQUIDATION_PREFIXES = ("autoclose-", "adl_autoclose")  # Binance names the orders it closes positions with


def dec(x: Any) -> Decimal:
    """A Binance number (a decimal string, sometimes a number or empty) as a Decimal."""
    if x is None or x == "":
        return Decimal(0)
    return Decimal(str(x))


def opt_dec(x: Any) -> Decimal | None:
    d = dec(x)
    return d if d != 0 else None


def ms(x: Any) -> int:
    try:
        return int(x or 0)
    except (TypeError, ValueError):
        return 0


def order_report(o: dict, ts: int) -> OrderReport:
    """An order from ``/fapi/v1/order`` (new, query, cancel, openOrders)."""
    otype = TYPE.get(str(o.get("origType") or o.get("type")), OrderType.MARKET)
    return OrderReport(
        o["symbol"], ClientOrderId(o["clientOrderId"]), VenueOrderId(str(o["orderId"])), SIDE[o["side"]], otype,
        dec(o.get("origQty")), opt_dec(o.get("price")), opt_dec(o.get("stopPrice")),
        bool(o.get("reduceOnly", False)), STATUS[o["status"]], dec(o.get("executedQty")),
        opt_dec(o.get("avgPrice")), max(ts, ms(o.get("updateTime"))))


def algo_report(a: dict, ts: int) -> AlgoOrderReport:
    """A conditional order from ``/fapi/v1/algoOrder`` or ``openAlgoOrders``."""
    actual = str(a.get("actualOrderId") or "")
    qty = dec(a.get("quantity"))
    return AlgoOrderReport(
        a["symbol"], ClientOrderId(a["clientAlgoId"]), AlgoOrderId(str(a["algoId"])), SIDE[a["side"]],
        TYPE[str(a.get("orderType") or a.get("type"))], qty if qty != 0 else None, dec(a.get("triggerPrice")),
        TriggerBy.MARK if a.get("workingType") == "MARK_PRICE" else TriggerBy.LAST, bool(a.get("reduceOnly", False)),
        bool(a.get("closePosition", False)), ALGO_STATUS[a["algoStatus"]], VenueOrderId(actual) if actual else None,
        None, max(ts, ms(a.get("updateTime"))), ms(a.get("updateTime")), ms(a.get("triggerTime")) or None,
        actual_qty=dec(a.get("actualQty")), actual_price=opt_dec(a.get("actualPrice")))


def algo_as_order(a: AlgoOrderReport, child: OrderReport | None) -> OrderReport:
    """A conditional order in the port's order shape (for a bot that places TP/SL as orders): open
    until triggered, then what its child market order did, under the conditional order's client id."""
    if a.status.is_open:
        status, filled, avg = OrderStatus.ACKNOWLEDGED, Decimal(0), None
    elif child is not None:
        status, filled, avg = child.status, child.filled_qty, child.avg_price
        if a.status is AlgoStatus.TRIGGERED and not status.is_final:
            status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.ACKNOWLEDGED
    elif a.status is AlgoStatus.CANCELLED:
        status, filled, avg = OrderStatus.CANCELLED, Decimal(0), None
    elif a.status is AlgoStatus.TRIGGERED:
        status, filled, avg = OrderStatus.ACKNOWLEDGED, Decimal(0), None  # the child exists; not seen yet
    elif a.status is AlgoStatus.REJECTED:
        status, filled, avg = OrderStatus.REJECTED, Decimal(0), None
    else:
        status, filled, avg = OrderStatus.EXPIRED, Decimal(0), None
    qty = a.qty if a.qty is not None else (child.qty if child is not None else Decimal(0))
    return OrderReport(a.symbol, a.client_algo_id, VenueOrderId(a.algo_id), a.side, a.type, qty, None,
                       a.trigger_price, a.reduce_only or a.close_position, status, filled, avg,
                       max(a.ts, child.ts if child is not None else 0))


def position_report(rows: list[dict], symbol: str, ts: int) -> PositionReport:
    """The one-way position of ``symbol`` from ``positionRisk`` rows (flat if none is listed)."""
    for r in rows:
        if r.get("symbol") == symbol and r.get("positionSide", "BOTH") == "BOTH":
            return PositionReport(symbol, dec(r.get("positionAmt")), dec(r.get("entryPrice")),
                                  max(ts, ms(r.get("updateTime"))))
    return PositionReport(symbol, Decimal(0), Decimal(0), ts)


def fill_report(t: dict, client_id: ClientOrderId | None) -> FillReport:
    """A row of ``/fapi/v1/userTrades``; ``client_id`` is the order's, looked up by the caller
    (Binance's trade rows carry only the ``orderId``)."""
    kind = FillKind.LIQUIDATION if client_id and client_id.startswith(LIQUIDATION_PREFIXES) else FillKind.TRADE
    oid = t.get("orderId")
    return FillReport(TradeId(str(t["id"])), t["symbol"], VenueOrderId(str(oid)) if oid else None, client_id,
                      SIDE[t["side"]], dec(t["qty"]), dec(t["price"]), float(dec(t.get("commission"))), kind,
                      ms(t["time"]))


__all__ = ["algo_as_order", "algo_report", "dec", "fill_report", "order_report", "position_report"]
