"""`[market]` and `[liquidity]`: the price path (synthetic or replayed) and the book around it."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from sim.scenario.schema.base import Bps, Duration, PositiveDuration, Qty, Strict


class Market(Strict):
    model: Literal["gbm", "replay"] = "gbm"
    # replay: a data file (path relative to the scenario file) and how to read it
    file: str | None = None
    format: Literal["kline_csv", "ccxt_csv", "freqtrade_json", "freqtrade_feather", "aggtrades_csv",
                    "freqtrade_trades_json", "csv", "parquet"] | None = None
    kind: Literal["ohlcv", "trades"] | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    time_unit: Literal["auto", "s", "ms", "us", "ns"] = "auto"
    resolution: PositiveDuration = "1s"
    intrabar: Literal["brownian_bridge", "linear"] = "brownian_bridge"
    gaps: Literal["error", "fill"] = "error"
    max_gap: Duration = "1m"
    exclude_trade_types: list[str] = Field(default_factory=list)
    symbol: str = "BTCUSDT"
    s0: Annotated[float, Field(gt=0, le=1e9)] = 30_000.0
    sigma: Annotated[float, Field(ge=0, le=10)] = 0.6  # annualised; 10 = 1000 % a year
    drift: Annotated[float, Field(ge=-10, le=10)] = 0.0  # annualised
    tick: PositiveDuration = "1s"
    tick_size: Annotated[Decimal, Field(ge=Decimal("1e-10"), le=1_000_000)] = Decimal("0.1")
    # (gbm keys above: s0, sigma, drift, tick; replay keys: file ... exclude_trade_types)
    lot_size: Annotated[Decimal, Field(ge=Decimal("1e-10"), le=1_000_000)] = Decimal("0.001")
    min_qty: Annotated[Decimal, Field(ge=0, le=1_000_000_000)] = Decimal("0.001")
    min_notional: Annotated[Decimal, Field(ge=0, le=1_000_000_000)] = Decimal("100")  # MIN_NOTIONAL; reduce-only exempt
    max_qty: Annotated[Decimal, Field(gt=0, le=1_000_000_000)] = Decimal("1000")  # LOT_SIZE maxQty (limit orders)
    market_max_qty: Annotated[Decimal, Field(gt=0, le=1_000_000_000)] = Decimal("120")  # MARKET_LOT_SIZE maxQty
    # (tick_size ... market_max_qty: Binance USD-M BTCUSDT's filters by default)


class Liquidity(Strict):
    ideal: bool = False
    spread_bps: Bps = 1.0
    level_step_bps: Bps = 0.5
    level0_qty: Qty = 0.5
    levels: Annotated[int, Field(ge=1, le=100_000)] = 400
    depth_exponent: Annotated[float, Field(ge=1, le=4)] = 2.0
    resting_fill_fraction: Annotated[float, Field(gt=0, le=1)] = 0.5

