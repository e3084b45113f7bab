"""The venue's order contract as a table, one row per rule: the account's state, the request, and
the venue's answer (a status) or refusal (Binance's code and code name), to be read line by line
against Binance USD-M's documentation:

- order rules and filters: https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Order
  and .../common-definition (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL, PERCENT_PRICE);
- conditional orders: .../trade/rest-api/New-Algo-Order (since 2025-12-09; -4120 on /fapi/v1/order);
- codes and messages: https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code;
- retention and client ids: the SDK's query_order / new_order docstrings (research notes, A3).

The instrument is BTCUSDT's (tick 0.1, step 0.001, min notional 100, market max 120, PERCENT_PRICE
5 %) at a mark of 30 000 with a 1 bp spread, balance 100 000 at 5x unless the row says otherwise.
"""
# ruff: noqa: E501  (the table is laid out one rule a line, to be read against Binance's documentation)
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from sim.core.errors import Rejected
from sim.core.messages import CancelOrder, FetchOrder, SubmitOrder
from sim.core.types import AlgoStatus, ClientOrderId, OrderStatus, OrderType, Side, TimeInForce
from sim.core.venue_codes import BY_CODE
from sim.world.exchange import SimExchange
from sim.world.liquidity import DepthProfile
from tests.world.venue_kit import BTCUSDT, DEPTH, SYM, limit, market, stop, t, venue

D = Decimal
BUY, SELL = Side.BUY, Side.SELL


def flat_venue(**kw) -> SimExchange:
    return venue(**kw)


def long_1(**kw) -> SimExchange:
    ex = venue(**kw)
    ex.handle(market("open", BUY, "1"), t(1))
    return ex


def long_1_reduce_only_sell_resting(**kw) -> SimExchange:
    ex = long_1(**kw)
    ex.handle(limit("ro-1", SELL, "1", "30500", reduce_only=True), t(2))
    return ex


def open_limit_dup(**kw) -> SimExchange:
    ex = venue(**kw)
    ex.handle(limit("dup", BUY, "0.01", "29000"), t(1))
    return ex


def closed_dup(**kw) -> SimExchange:
    ex = venue(**kw)
    ex.handle(market("dup", BUY, "0.01"), t(1))
    return ex


def small_account(**kw) -> SimExchange:
    return venue(balance=10_000.0, **kw)


def small_account_open_buy(**kw) -> SimExchange:
    ex = venue(balance=10_000.0, **kw)
    ex.handle(limit("rest", BUY, "1.5", "29000"), t(1))  # reserves 29 000 x 1.5 / 5 = 8 700 of initial margin
    return ex


def small_account_long_1(**kw) -> SimExchange:
    ex = venue(balance=10_000.0, **kw)
    ex.handle(market("open", BUY, "1"), t(1))
    return ex


def cancelled_unfilled(**kw) -> SimExchange:
    ex = venue(**kw)
    ex.handle(limit("gone", BUY, "0.01", "29000"), t(1))
    ex.handle(CancelOrder(SYM, ClientOrderId("gone")), t(2))
    return ex


def leverage(lev: int) -> Callable[[SimExchange, int], object]:
    def op(ex: SimExchange, now: int) -> object:
        code = ex.set_leverage(lev, now)
        if code is not None:
            raise Rejected(code.reason, code.message, now, code.code, code.name)
        return None
    op.__name__ = f"set_leverage({lev})"
    return op


def legacy(kind: OrderType, side: Side, trigger: str) -> SubmitOrder:
    return SubmitOrder(SYM, ClientOrderId("cond-1"), side, kind, D("1"), trigger_price=D(trigger), reduce_only=True)


@dataclass(frozen=True)
class Row:
    rule: str
    given: Callable[..., SimExchange]
    request: object  # a port request, or a venue operation (ex, now) -> answer
    answer: object  # an OrderStatus / AlgoStatus, None (done), or Binance's (code, name) when refused
    venue: dict | None = None  # venue options (rules, instrument, depth) for this row


STEP_0002 = replace(BTCUSDT, lot_size=D("0.002"), min_qty=D("0.002"))
MIN_QTY_001 = replace(BTCUSDT, min_qty=D("0.01"))
WIDE = DepthProfile(spread_bps=1200.0, level_step_bps=0.5, level0_qty=0.5, levels=400)

TABLE = [
    # rule                                          given          request                                                   answer
    Row("market order, newOrderRespType RESULT",   flat_venue,    market("m", BUY, "0.01"),                                 OrderStatus.FILLED),
    Row("market order, newOrderRespType ACK",      flat_venue,    market("m", BUY, "0.01"),                                 OrderStatus.ACKNOWLEDGED, {"order_response": "ack"}),
    Row("unknown symbol",                          flat_venue,    replace(market("m", BUY, "0.01"), symbol="ETHUSDT"),      (-1121, "BAD_SYMBOL")),
    Row("client id pattern",                       flat_venue,    market("no spaces!", BUY, "0.01"),                        (-4015, "INVALID_CL_ORD_ID_LEN")),
    Row("client id at most 36 characters",         flat_venue,    market("x" * 37, BUY, "0.01"),                            (-4015, "INVALID_CL_ORD_ID_LEN")),
    Row("client id unique among open orders",      open_limit_dup, market("dup", BUY, "0.01"),                              (-4116, "DUPLICATED_CLIENT_ORDER_ID")),
    Row("a closed order's client id may be reused", closed_dup,   market("dup", BUY, "0.01"),                               OrderStatus.FILLED),
    Row("quantity must be positive",               flat_venue,    market("m", BUY, "0"),                                    (-4003, "QTY_LESS_THAN_ZERO")),
    Row("LOT_SIZE: no finer than the step",        flat_venue,    market("m", BUY, "0.0015"),                               (-1111, "BAD_PRECISION")),
    Row("LOT_SIZE: a multiple of the step",        flat_venue,    market("m", BUY, "0.003"),                                (-4023, "QTY_NOT_INCREASED_BY_STEP_SIZE"), {"instrument": STEP_0002}),
    Row("LOT_SIZE: minQty",                        flat_venue,    market("m", BUY, "0.005"),                                (-4004, "QTY_LESS_THAN_MIN_QTY"), {"instrument": MIN_QTY_001}),
    Row("LOT_SIZE: maxQty 1000 (limit)",           flat_venue,    limit("l", BUY, "1001", "29000"),                         (-4005, "QTY_GREATER_THAN_MAX_QTY")),
    Row("MARKET_LOT_SIZE: maxQty 120 (market)",    flat_venue,    market("m", BUY, "121"),                                  (-4005, "QTY_GREATER_THAN_MAX_QTY")),
    Row("PRICE_FILTER: a multiple of the tick",    flat_venue,    limit("l", BUY, "0.01", "29999.95"),                      (-4014, "PRICE_NOT_INCREASED_BY_TICK_SIZE")),
    Row("MIN_NOTIONAL 100",                        flat_venue,    market("m", BUY, "0.003"),                                (-4164, "MIN_NOTIONAL")),
    Row("MIN_NOTIONAL: reduce-only exempt",        long_1,        market("m", SELL, "0.003", reduce_only=True),             OrderStatus.FILLED),
    Row("PERCENT_PRICE: buy above mark x 1.05",    flat_venue,    limit("l", BUY, "0.01", "31500.1"),                       (-4016, "PRICE_HIGHTER_THAN_MULTIPLIER_UP")),
    Row("PERCENT_PRICE: sell below mark x 0.95",   flat_venue,    limit("l", SELL, "0.01", "28499.9"),                      (-4024, "PRICE_LOWER_THAN_MULTIPLIER_DOWN")),
    Row("PERCENT_PRICE: one bound per side",       flat_venue,    limit("l", BUY, "0.01", "20000"),                         OrderStatus.ACKNOWLEDGED),
    Row("PERCENT_PRICE: market counterparty",      flat_venue,    market("m", BUY, "0.01"),                                 (-4131, "MARKET_ORDER_REJECT"), {"depth": WIDE}),
    Row("post-only (GTX) that would take",         flat_venue,    limit("l", BUY, "0.01", "30001.5", TimeInForce.POST_ONLY), (-5022, "GTX_ORDER_REJECT")),
    Row("post-only (GTX) that would rest",         flat_venue,    limit("l", BUY, "0.01", "29999.8", TimeInForce.POST_ONLY), OrderStatus.ACKNOWLEDGED),
    Row("FOK that cannot fill whole",              flat_venue,    limit("l", BUY, "10", "30003", TimeInForce.FOK),          (-5021, "FOK_ORDER_REJECT")),
    Row("FOK that fills whole",                    flat_venue,    limit("l", BUY, "0.5", "30003", TimeInForce.FOK),         OrderStatus.FILLED),
    Row("IOC: the rest beyond the limit expires",  flat_venue,    limit("l", BUY, "10", "30003", TimeInForce.IOC),          OrderStatus.EXPIRED),
    Row("reduce-only with no position",            flat_venue,    market("m", SELL, "0.01", reduce_only=True),              (-2022, "REDUCE_ONLY_REJECT")),
    Row("reduce-only on the position's side",      long_1,        market("m", BUY, "0.01", reduce_only=True),               (-2022, "REDUCE_ONLY_REJECT")),
    Row("reduce-only: nothing left after open reduce-only orders", long_1_reduce_only_sell_resting,
                                                                  limit("l", SELL, "0.5", "30600", reduce_only=True),       (-4118, "REDUCE_ONLY_MARGIN_CHECK_FAILED")),
    Row("insufficient margin",                     small_account, market("m", BUY, "2"),                                    (-2019, "MARGIN_NOT_SUFFICIEN")),
    Row("open orders reserve initial margin",      small_account_open_buy, market("m", BUY, "0.5"),                         (-2019, "MARGIN_NOT_SUFFICIEN")),
    Row("leverage cut leaving negative available margin", small_account_long_1, leverage(1),                                (-2028, "MIN_LEVERAGE_RATIO")),
    Row("leverage cut that leaves margin",         small_account_long_1, leverage(4),                                       None),
    Row("conditional order on /fapi/v1/order (algo route)", long_1, legacy(OrderType.STOP_MARKET, SELL, "29000"),          (-4120, "STOP_ORDER_SWITCH_ALGO"), {"conditional_orders": "algo"}),
    Row("conditional order on /fapi/v1/order (legacy route)", long_1, legacy(OrderType.STOP_MARKET, SELL, "29000"),        OrderStatus.ACKNOWLEDGED),
    Row("legacy stop that would trigger at once",  long_1,        legacy(OrderType.STOP_MARKET, SELL, "30100"),             (-2021, "ORDER_WOULD_IMMEDIATELY_TRIGGER")),
    Row("algo order: STOP_MARKET",                 long_1,        stop("sl", SELL, "1", "29000"),                           AlgoStatus.NEW),
    Row("algo order: would immediately trigger",   long_1,        stop("sl", SELL, "1", "30100"),                           (-2021, "ORDER_WOULD_IMMEDIATELY_TRIGGER")),
    Row("algo order: TAKE_PROFIT_MARKET would trigger", long_1,   stop("tp", SELL, "1", "29900", OrderType.TAKE_PROFIT_MARKET), (-2021, "ORDER_WOULD_IMMEDIATELY_TRIGGER")),
    Row("algo order: trigger price on the tick",   long_1,        stop("sl", SELL, "1", "29000.05"),                        (-4014, "PRICE_NOT_INCREASED_BY_TICK_SIZE")),
    Row("algo order: closePosition, no quantity",  long_1,        stop("sl", SELL, None, "29000", reduce_only=False, close_position=True), AlgoStatus.NEW),
    Row("algo order: closePosition with quantity", long_1,        stop("sl", SELL, "1", "29000", reduce_only=False, close_position=True), (-4137, "QUANTITY_EXISTS_WITH_CLOSE_POSITION")),
    Row("algo order: closePosition with reduceOnly", long_1,      stop("sl", SELL, None, "29000", close_position=True),     (-1106, "PARAM_NOT_REQUIRED")),
    Row("algo order: MIN_NOTIONAL unless reduce-only", flat_venue, stop("sl", SELL, "0.003", "29000", reduce_only=False),   (-4164, "MIN_NOTIONAL")),
    Row("query an unknown order",                  flat_venue,    FetchOrder(SYM, ClientOrderId("nope")),                   (-2013, "NO_SUCH_ORDER")),
    Row("cancel an unknown order",                 flat_venue,    CancelOrder(SYM, ClientOrderId("nope")),                  (-2011, "CANCEL_REJECTED")),
    Row("cancelled, unfilled: found within 3 days", cancelled_unfilled, FetchOrder(SYM, ClientOrderId("gone")),             OrderStatus.CANCELLED),
]


@pytest.mark.parametrize("row", TABLE, ids=[r.rule for r in TABLE])
def test_venue_contract(row: Row) -> None:
    opts = dict(row.venue or {})
    ex = row.given(**opts)
    now = t(10)
    try:
        answer = row.request(ex, now) if callable(row.request) else ex.handle(row.request, now)  # type: ignore[arg-type]
    except Rejected as exc:
        assert (exc.code, exc.code_name) == row.answer, f"refused {exc.code} {exc.code_name}: {exc}"
        assert exc.ts == now
        return
    assert not isinstance(row.answer, tuple), f"expected refusal {row.answer}, got {answer}"
    assert (None if answer is None else answer.status) == row.answer  # type: ignore[union-attr]


def test_every_code_in_the_table_carries_binances_message():
    for row in TABLE:
        if isinstance(row.answer, tuple):
            code, name = row.answer
            assert BY_CODE[code].name == name and BY_CODE[code].message

    assert DEPTH.spread_bps == 1.0  # the rows' prices (touch 29 998.5 / 30 001.5) assume a 1 bp spread
