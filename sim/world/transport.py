"""Latency between the bot and the venue.

Each leg (request to the venue, response back) takes a lognormal time by default: a median and
a shape, the usual model of network plus gateway delay. Drawn from the run's ``latency`` stream.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class LatencyModel:
    """Lognormal one-way latency in ms: ``median_ms * exp(sigma * N(0, 1))``, at least ``floor_ms``."""

    median_ms: float = 40.0
    sigma: float = 0.5
    floor_ms: int = 1

    def __post_init__(self) -> None:
        if self.median_ms < 0 or self.sigma < 0 or self.floor_ms < 0:
            raise ValueError("latency median_ms, sigma and floor_ms must not be negative")


class Transport:
    """Draws leg latencies in batches (one numpy call per few thousand legs, not per leg)."""

    _BATCH = 4096

    def __init__(self, model: LatencyModel, rng: np.random.Generator) -> None:
        self.model = model
        self.rng = rng
        self._buf: list[int] = []

    def leg_ms(self) -> int:
        if self.model.median_ms == 0:
            return 0
        if not self._buf:
            draws = self.model.median_ms * np.exp(self.model.sigma * self.rng.standard_normal(self._BATCH))
            self._buf = np.maximum(np.rint(draws), self.model.floor_ms).astype(np.int64).tolist()
            self._buf.reverse()
        return self._buf.pop()


def lognormal_quantile(model: LatencyModel, q: float) -> float:
    """The ``q`` quantile of one leg, e.g. to bound expected detection latency."""
    from statistics import NormalDist

    return max(model.median_ms * math.exp(model.sigma * NormalDist().inv_cdf(q)), model.floor_ms)
