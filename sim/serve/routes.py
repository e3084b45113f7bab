"""The route table: every Binance USD-M route served, with its security type and request weight.

One line a route, so what is served (and what it costs a client's rate limit) is read in one place.
Security types as Binance names them: NONE (public), USER_STREAM (API key only), SIGNED
(TRADE / USER_DATA: key, timestamp and HMAC signature).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sim.serve.rest_account as acc
import sim.serve.rest_algo as algo
import sim.serve.rest_market as mkt
import sim.serve.rest_trade as trade
from sim.serve.context import Ctx
from sim.serve.params import Params

Handler = Callable[[Ctx, Params], Awaitable[Any]]
Weight = int | Callable[[Params], int]

NONE, USER_STREAM, SIGNED = "NONE", "USER_STREAM", "SIGNED"


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    security: str
    weight: Weight
    handler: Handler
    order: bool = False  # counts against the order-rate limits

    def weight_of(self, p: Params) -> int:
        return self.weight(p) if callable(self.weight) else self.weight


def _by_symbol(with_symbol: int, without: int) -> Weight:
    return lambda p: with_symbol if "symbol" in p else without


def _depth_weight(p: Params) -> int:
    limit = p.values.get("limit", "500")
    return {"5": 2, "10": 2, "20": 2, "50": 2, "100": 5, "500": 10, "1000": 20}.get(limit, 10)


def _kline_weight(p: Params) -> int:
    try:
        limit = int(p.values.get("limit", "500"))
    except ValueError:
        return 1
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


V1, V2, V3 = "/fapi/v1", "/fapi/v2", "/fapi/v3"

ROUTES: tuple[Route, ...] = (
    Route("GET", f"{V1}/ping", NONE, 1, mkt.ping),
    Route("GET", f"{V1}/time", NONE, 1, mkt.server_time),
    Route("GET", f"{V1}/exchangeInfo", NONE, 1, mkt.exchange_info),
    Route("GET", f"{V1}/depth", NONE, _depth_weight, mkt.depth),
    Route("GET", f"{V1}/klines", NONE, _kline_weight, mkt.klines),
    Route("GET", f"{V1}/ticker/price", NONE, _by_symbol(1, 2), mkt.ticker_price),
    Route("GET", f"{V2}/ticker/price", NONE, _by_symbol(1, 2), mkt.ticker_price),
    Route("GET", f"{V1}/ticker/bookTicker", NONE, _by_symbol(2, 5), mkt.book_ticker),
    Route("GET", f"{V1}/ticker/24hr", NONE, _by_symbol(1, 40), mkt.ticker_24hr),
    Route("GET", f"{V1}/premiumIndex", NONE, _by_symbol(1, 10), mkt.premium_index),
    Route("GET", f"{V1}/fundingRate", NONE, 1, mkt.funding_rate),
    Route("GET", f"{V1}/fundingInfo", NONE, 1, mkt.funding_info),
    Route("GET", "/api/v3/ping", NONE, 1, mkt.ping),  # python-binance's AsyncClient.create() asks spot first
    Route("GET", "/api/v3/time", NONE, 1, mkt.server_time),
    Route("POST", f"{V1}/order", SIGNED, 0, trade.new_order, order=True),
    Route("GET", f"{V1}/order", SIGNED, 1, trade.get_order),
    Route("DELETE", f"{V1}/order", SIGNED, 1, trade.cancel_order),
    Route("GET", f"{V1}/openOrders", SIGNED, _by_symbol(1, 40), trade.open_orders),
    Route("GET", f"{V1}/openOrder", SIGNED, 1, trade.open_order),
    Route("GET", f"{V1}/allOrders", SIGNED, 5, trade.all_orders),
    Route("DELETE", f"{V1}/allOpenOrders", SIGNED, 1, trade.cancel_all),
    Route("GET", f"{V1}/userTrades", SIGNED, 5, trade.user_trades),
    Route("POST", f"{V1}/algoOrder", SIGNED, 0, algo.new_algo_order, order=True),
    Route("GET", f"{V1}/algoOrder", SIGNED, 1, algo.get_algo_order),
    Route("DELETE", f"{V1}/algoOrder", SIGNED, 1, algo.cancel_algo_order),
    Route("GET", f"{V1}/openAlgoOrders", SIGNED, _by_symbol(1, 40), algo.open_algo_orders),
    Route("GET", f"{V1}/allAlgoOrders", SIGNED, 5, algo.all_algo_orders),
    Route("DELETE", f"{V1}/algoOpenOrders", SIGNED, 1, algo.cancel_all_algo),
    Route("GET", f"{V2}/positionRisk", SIGNED, 5, acc.position_risk_v2),
    Route("GET", f"{V3}/positionRisk", SIGNED, 5, acc.position_risk_v3),
    Route("GET", f"{V2}/account", SIGNED, 5, acc.account_v2),
    Route("GET", f"{V3}/account", SIGNED, 5, acc.account_v3),
    Route("GET", f"{V2}/balance", SIGNED, 5, acc.balance),
    Route("GET", f"{V3}/balance", SIGNED, 5, acc.balance),
    Route("GET", f"{V1}/income", SIGNED, 30, acc.income),
    Route("POST", f"{V1}/leverage", SIGNED, 1, acc.leverage),
    Route("POST", f"{V1}/marginType", SIGNED, 1, acc.margin_type),
    Route("GET", f"{V1}/leverageBracket", SIGNED, 1, acc.leverage_bracket),
    Route("GET", f"{V1}/positionSide/dual", SIGNED, 30, acc.position_side_get),
    Route("POST", f"{V1}/positionSide/dual", SIGNED, 1, acc.position_side_set),
    Route("GET", f"{V1}/multiAssetsMargin", SIGNED, 30, acc.multi_assets_get),
    Route("POST", f"{V1}/multiAssetsMargin", SIGNED, 1, acc.multi_assets_set),
    Route("GET", f"{V1}/commissionRate", SIGNED, 20, acc.commission_rate),
    Route("GET", f"{V1}/symbolConfig", SIGNED, 5, acc.symbol_config),
    Route("POST", f"{V1}/listenKey", USER_STREAM, 1, acc.listen_key_new),
    Route("PUT", f"{V1}/listenKey", USER_STREAM, 1, acc.listen_key_keepalive),
    Route("DELETE", f"{V1}/listenKey", USER_STREAM, 1, acc.listen_key_close),
)

TABLE: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in ROUTES}
PATHS = frozenset(r.path for r in ROUTES)
