"""`[exchange]` and `[account]`: fees, margin, funding, latency, transport faults, rate limits, pushed updates."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sim.scenario.schema.base import (
    Duration,
    Fraction,
    LatencyMs,
    LogSigma,
    Money,
    PositiveDuration,
    Strict,
    duration_at_least,
)


class Latency(Strict):
    median_ms: LatencyMs = 40.0
    sigma: LogSigma = 0.5
    floor_ms: Annotated[int, Field(ge=0, le=600_000)] = 1
    samples_ms: list[LatencyMs] = Field(default_factory=list)  # measured legs to draw from (replaces lognormal)


class TransportCfg(Strict):
    timeout: PositiveDuration = "5s"
    recv_window: Duration | None = None  # default: the timeout
    request_loss_prob: Fraction = 0.0
    response_loss_prob: Fraction = 0.0


class RateLimitCfg(Strict):
    requests: Annotated[int, Field(ge=1, le=1_000_000)]
    per: PositiveDuration = "1s"


class UpdatesCfg(Strict):
    enabled: bool = True
    median_ms: LatencyMs = 20.0
    sigma: LogSigma = 0.5
    drop_prob: Fraction = 0.0


class MatchingDelayCfg(Strict):
    """How long after its acknowledgement an order matches (``order_response = "ack"``): lognormal
    around ``median_ms``, drawn per order from the run's seeded stream, at least 1 ms."""

    median_ms: LatencyMs = 5.0
    sigma: LogSigma = 0.5


class QueueCfg(Strict):
    """How a resting limit order fills. ``"position"``: behind the queue displayed at its level when
    it rests, advanced by aggressive volume at its price (a synthetic trade flow, or the replayed
    trades) and by cancels ahead, filled in full when its level is traded through; ``"touch"``: when
    the mark trades to it, one level's share at a time (the model before queue positions). The flow
    keys default to the fit to the shipped Binance BTCUSDT trades and book ticker (README, "Queue
    position")."""

    model: Literal["position", "touch"] = "position"
    trade_rate: Annotated[float, Field(ge=0, le=100_000)] = 16.8  # market orders a second at the touch, one side
    size_log_mean: Annotated[float, Field(ge=-30, le=30)] = -4.15  # mean of ln(trade size, base units)
    size_log_sd: Annotated[float, Field(ge=0, le=10)] = 1.94  # sd of ln(trade size)
    cancel_rate: Annotated[float, Field(ge=0, le=1000)] = 0.83  # per second, each unit of the queue ahead
    through_log_mean: Annotated[float, Field(ge=-10, le=20)] = 2.60  # ln ms a level crossed in one step was the touch
    through_log_sd: Annotated[float, Field(ge=0, le=10)] = 2.44
    # the rate at a touch that ends with the level traded through (with the price moving away), x trade_rate
    through_factor: Annotated[float, Field(ge=0, le=100)] = 0.95
    away_factor: Annotated[float, Field(ge=0, le=100)] = 0.38


class MarginTierCfg(Strict):
    notional_cap: Annotated[float, Field(gt=0, le=1e15)]
    mmr: Fraction
    max_leverage: Annotated[int, Field(ge=1)]


class Exchange(Strict):
    taker_fee: Fraction = 0.0004
    maker_fee: Annotated[float, Field(ge=-0.01, le=1)] = 0.0002
    max_leverage: Annotated[int, Field(ge=1, le=200)] = 125
    maintenance_margin_rate: Fraction = 0.004
    liquidation_fee: Fraction = 0.0125
    margin_tiers: list[MarginTierCfg] = Field(default_factory=list)
    price_band_pct: Annotated[float, Field(gt=0, le=1)] = 0.05
    funding_interval: duration_at_least("1m", "venues settle funding every 1h to 8h") = "8h"  # type: ignore[valid-type]
    funding_rate: Annotated[float, Field(ge=-0.05, le=0.05)] = 0.0001
    funding_rate_sd: Annotated[float, Field(ge=0, le=0.05)] = 0.0
    # a recorded series, one rate per funding time in order; after its end, funding_rate (+ noise)
    funding_rates: list[Annotated[float, Field(ge=-0.05, le=0.05)]] = Field(default_factory=list)
    latency: Latency = Latency()
    transport: TransportCfg = TransportCfg()
    rate_limit: RateLimitCfg | None = None
    updates: UpdatesCfg = UpdatesCfg()
    # "result": a market/IOC/FOK order is answered after matching (what ccxt asks for); "ack": it is
    # answered ACKNOWLEDGED with nothing filled and matches `matching_delay` later
    order_response: Literal["result", "ack"] = "result"
    matching_delay: MatchingDelayCfg = MatchingDelayCfg()
    # "legacy": STOP_MARKET / TAKE_PROFIT_MARKET are also taken as ordinary orders (Binance before
    # 2025-12-09; NautilusTrader still sends them so); "algo": only as algo orders, -4120 otherwise
    conditional_orders: Literal["legacy", "algo"] = "legacy"
    queue: QueueCfg = QueueCfg()


class Account(Strict):
    balance: Money = 10_000.0
    leverage: Annotated[int, Field(ge=1)] = 5

