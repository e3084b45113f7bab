"""Aggressive volume at the touch: the synthetic flow of market orders, or the replayed trades.

A resting limit fills from the market orders that reach its price once the queue ahead of it is
gone (`sim.world.queue_position`). Synthetic markets draw that flow here only while one of the
bot's orders is at the touch, so the cost grows with what the bot does, not with time.

`PoissonFlow`: trades arrive at the best price on one side as a Poisson process (``rate`` trades
a second), each of a lognormal size (``size_log_mean``, ``size_log_sd`` of ln BTC). When the path
crosses the order's level between two of its samples, the level was the touch for part of that
step only: how long is drawn from a lognormal fitted to the real touches that ended through
(``through_log_mean``, ``through_log_sd`` of ln ms). Defaults: fitted to the shipped Binance
BTCUSDT trades and book ticker (`sim.market.passive_fill.fit_flow`).

`RecordedFlow`: the trades of a trades replay, in time order with their aggressor side.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.world.market import PriceSeries


@dataclass(frozen=True, slots=True)
class FlowParams:
    """The synthetic flow at the touch and the queue's cancels (fitted defaults: README, "Queue position").

    rate: aggressive trades a second reaching the best price on one side.
    size_log_mean, size_log_sd: mean and standard deviation of ln(trade size in base units).
    cancel_rate: the hazard (per second) at which each unit of the queue ahead of an order cancels.
    through_log_mean, through_log_sd: ln of how long (ms) a level the price crossed within one step
    of the path was the touch.
    through_factor, away_factor: the rate of market orders at a touch that ends with the level
    traded through (with the price moving away), as a multiple of ``rate``: the volume that
    exhausts a level is what moves the price through it.
    """

    rate: float = 16.8
    size_log_mean: float = -4.15
    size_log_sd: float = 1.94
    cancel_rate: float = 0.83
    through_log_mean: float = 2.60
    through_log_sd: float = 2.44
    through_factor: float = 0.95
    away_factor: float = 0.38

    def __post_init__(self) -> None:
        if min(self.rate, self.cancel_rate, self.size_log_sd, self.through_log_sd, self.through_factor,
               self.away_factor) < 0:
            raise ValueError("queue flow: rates, factors and the log standard deviations must not be negative")


class PoissonFlow:
    """Market orders at the touch of one side, drawn on demand from the run's ``queue`` stream."""

    def __init__(self, params: FlowParams, rng: np.random.Generator) -> None:
        self.params = params
        self.rng = rng

    def trades(self, t0: int, t1: int, through: bool) -> tuple[np.ndarray, np.ndarray]:
        """Arrival times (ms, sorted, in [t0, t1)) and sizes of the market orders of a touch in that
        span that ends ``through`` (or away)."""
        p = self.params
        rate = p.rate * (p.through_factor if through else p.away_factor)
        if t1 <= t0 or rate <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        n = int(self.rng.poisson(rate * (t1 - t0) / 1000.0))
        times = np.sort(self.rng.integers(t0, t1, size=n))
        sizes = np.exp(p.size_log_mean + p.size_log_sd * self.rng.standard_normal(n))
        return times, sizes

    def through_span(self, step_ms: int) -> int:
        """How long (ms) a level the path crossed within one step of ``step_ms`` was the touch."""
        p = self.params
        span = float(np.exp(p.through_log_mean + p.through_log_sd * self.rng.standard_normal()))
        return int(min(step_ms, round(span)))


class RecordedFlow:
    """Replayed trades: times (ms), prices, sizes and aggressor sides (True: a seller took the bid).

    Without a recorded side, each trade counts for both sides (a trade at the price of a resting
    order may have been either side's).
    """

    def __init__(self, times: np.ndarray, prices: np.ndarray, sizes: np.ndarray, sell: np.ndarray | None) -> None:
        self.times = np.asarray(times, dtype=np.int64)
        self.prices = np.asarray(prices, dtype=float)
        self.sizes = np.asarray(sizes, dtype=float)
        both = sell is None
        self.sell = np.ones(len(times), bool) if both else np.asarray(sell, dtype=bool)
        self.buy = np.ones(len(times), bool) if both else ~self.sell
        # per side, the prices of that side's trades (the other side's parked out of reach), for first-passage search
        self._sells = self._buys = None
        if len(self.times):
            self._sells = PriceSeries(np.where(self.sell, self.prices, float(self.prices.max()) * 10))
            self._buys = PriceSeries(np.where(self.buy, self.prices, 1e-9))

    def index_after(self, t: int) -> int:
        """Index of the first trade after ``t`` (ms)."""
        return int(np.searchsorted(self.times, t, side="right"))

    def next_reaching(self, j: int, buy_order: bool, price: float) -> int | None:
        """Index of the first trade from index ``j`` on at or through ``price`` on the side that
        fills a resting order there (sells for a buy order), None if none."""
        if self._sells is None or self._buys is None:
            return None
        eps = 1e-9 * price
        if buy_order:
            return self._sells.first_exit(j, price + eps, np.inf)
        return self._buys.first_exit(j, -np.inf, price - eps)
