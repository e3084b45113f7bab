"""`[market]` and `[liquidity]`: the price path (synthetic or replayed) and the book around it."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from sim.scenario.schema.base import Bps, Duration, PositiveDuration, Qty, Strict


class Market(Strict):
    model: Literal["msm", "gbm", "bootstrap", "replay"] = "msm"
    # replay and bootstrap: a data file (path relative to the scenario file) and how to read it
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
    # msm (multifractal volatility, fat tails, clustered jumps, regimes); defaults fitted to FTX BTC-PERP 1 m
    # candles of January 2022 by `aethersim calibrate --market` (see README, "Price models")
    vol_components: Annotated[int, Field(ge=0, le=16)] = 8
    vol_multiplier: Annotated[float, Field(ge=1, lt=2)] = 1.6
    vol_shortest: PositiveDuration = "1m"
    vol_longest: PositiveDuration = "8d"
    tail_dof: Annotated[float, Field(gt=2, le=1000)] | None = None
    active_share: Annotated[float, Field(gt=0, le=1)] = 0.7
    jump_rate: Annotated[float, Field(ge=0, le=100_000)] = 10.0  # jumps a day, clusters included
    jump_size: Annotated[float, Field(ge=0, le=0.5)] = 0.0026  # mean absolute jump (fraction of the price)
    jump_clustering: Annotated[float, Field(ge=0, lt=1)] = 0.5
    jump_decay: PositiveDuration = "10m"
    jump_duration: Duration = "10s"  # a jump unfolds evenly over this long
    regime_vol: Annotated[float, Field(gt=0, le=100)] = 1.0  # volatility factor of the turbulent regime (1: no regimes)
    regime_calm: PositiveDuration = "5d"
    regime_turbulent: PositiveDuration = "1d"
    # bootstrap: mean block length of the resampled data returns
    block: PositiveDuration = "1h"
    # index and funding (msm, bootstrap): the perp's basis over the index, an Ornstein-Uhlenbeck process in bps;
    # funding "premium" settles Binance's rate from it, "fixed" the [exchange] funding_rate; unset: premium,
    # unless [exchange] sets funding_rate or funding_rate_sd, or the model is gbm
    funding: Literal["premium", "fixed"] | None = None
    basis_mean_bps: Annotated[float, Field(ge=-10_000, le=10_000)] = 0.0
    basis_sd_bps: Bps = 3.0
    basis_halflife: PositiveDuration = "1h"
    # replay: a recorded mark-price stream (Binance markPrice@1s columns), used as mark, index and funding
    mark_file: str | None = None
    # replay of trades: the recorded L2 book (Binance depth@0ms diffs and the REST snapshot they follow, as
    # data/binance-btcusdt-perp ships them): market orders walk it, resting limits queue behind its size
    book_file: str | None = None
    book_snapshot_file: str | None = None
    lot_size: Annotated[Decimal, Field(ge=Decimal("1e-10"), le=1_000_000)] = Decimal("0.001")
    min_qty: Annotated[Decimal, Field(ge=0, le=1_000_000_000)] = Decimal("0.001")
    min_notional: Annotated[Decimal, Field(ge=0, le=1_000_000_000)] = Decimal("100")  # MIN_NOTIONAL; reduce-only exempt
    max_qty: Annotated[Decimal, Field(gt=0, le=1_000_000_000)] = Decimal("1000")  # LOT_SIZE maxQty (limit orders)
    market_max_qty: Annotated[Decimal, Field(gt=0, le=1_000_000_000)] = Decimal("120")  # MARKET_LOT_SIZE maxQty
    # (tick_size ... market_max_qty: Binance USD-M BTCUSDT's filters by default)


class Liquidity(Strict):
    """The book. Defaults: BTCUSDT's, fitted to the three shipped 1,000-level snapshots (one-tick spread;
    the average cost of 0.01 to 100 BTC market orders and the depth within 5, 10 and 20 bps within x1.25)."""

    ideal: bool = False
    spread_bps: Bps | None = None  # unset: one tick (market.tick_size) at the path's first price (gbm: 1 bps)
    level_step_bps: Bps = 0.04
    level0_qty: Qty = 0.1
    levels: Annotated[int, Field(ge=1, le=100_000)] = 400
    depth_exponent: Annotated[float, Field(ge=1, le=4)] = 1.4
    resting_fill_fraction: Annotated[float, Field(gt=0, le=1)] = 0.5
    # the book's dynamics (README, "The book"): "none" / "static" is the book before them, refilled at once
    impact: Literal["transient", "none"] = "transient"
    impact_bps: Annotated[float, Field(ge=0, le=1_000)] = 0.45  # bps per sqrt(base unit) not yet refilled
    impact_halflife: PositiveDuration = "1m"
    depth_model: Literal["volatility", "static"] = "volatility"
    vol_window: PositiveDuration = "5m"
    # annualised; unset: market.sigma (replay: the data's own)
    vol_reference: Annotated[float, Field(ge=0, le=10)] | None = None
    depth_vol_elasticity: Annotated[float, Field(ge=0, le=4)] = 1.0
    spread_vol_threshold: Annotated[float, Field(gt=0, le=1_000)] = 3.0
    side_depth_sd: Annotated[float, Field(ge=0, le=3)] = 0.6  # fitted to the shipped snapshots
    side_depth_period: PositiveDuration = "1m"
