"""The wire between the bot and the venue: latency, spikes, lost messages, timeouts.

Each leg (request to the venue, response back) takes a lognormal time by default: a median and
a shape, the usual model of network plus gateway delay. Spikes multiply it inside scheduled
windows. A request can be lost before the venue sees it, or its answer lost after the venue
acted; either way the bot hears nothing and its client gives up after ``timeout_ms`` with a
`RequestTimeout`, not knowing whether the venue acted: the case a reconciler exists for.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class LatencyModel:
    """One-way latency in ms, at least ``floor_ms``: lognormal, ``median_ms * exp(sigma * N(0, 1))``,
    or, when ``samples_ms`` is given, drawn from those measured latencies (a bootstrap of what a
    user recorded against a live venue, heavy tail and all)."""

    median_ms: float = 40.0
    sigma: float = 0.5
    floor_ms: int = 1
    samples_ms: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.median_ms < 0 or self.sigma < 0 or self.floor_ms < 0 or any(x < 0 for x in self.samples_ms):
            raise ValueError("latency median_ms, sigma, floor_ms and samples_ms must not be negative")

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` legs in whole ms."""
        if self.samples_ms:
            draws = rng.choice(np.asarray(self.samples_ms, dtype=float), size=n)
        else:
            draws = self.median_ms * np.exp(self.sigma * rng.standard_normal(n))
        return np.maximum(np.rint(draws), self.floor_ms).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Window:
    """A time window ``[start_ms, end_ms)`` with a factor (a latency multiplier, or unused)."""

    start_ms: int
    end_ms: int
    factor: float = 1.0

    def covers(self, t: int) -> bool:
        return self.start_ms <= t < self.end_ms


@dataclass(frozen=True, slots=True)
class Faults:
    """Message faults: the client timeout, the venue's receive window, and lost messages.

    ``recv_window_ms`` (Binance's ``recvWindow``): the venue refuses a request that arrives
    later than this after it was sent. Kept at or below the client timeout (the default is the
    timeout), it makes a lookup by client id after a timeout conclusive: a late order can no
    longer land after the bot concluded it never arrived.
    """

    timeout_ms: int = 5_000
    request_loss_prob: float = 0.0
    response_loss_prob: float = 0.0
    recv_window_ms: int | None = None

    @property
    def recv_window(self) -> int:
        return self.timeout_ms if self.recv_window_ms is None else self.recv_window_ms


class Transport:
    """Draws leg latencies in batches (one numpy call per few thousand legs, not per leg)."""

    _BATCH = 4096

    def __init__(self, model: LatencyModel, rng: np.random.Generator, faults: Faults = Faults(),
                 spikes: list[Window] | None = None, fault_rng: np.random.Generator | None = None) -> None:
        self.model = model
        self.rng = rng
        self.faults = faults
        self.spikes = sorted(spikes or [], key=lambda w: w.start_ms)
        self.fault_rng = fault_rng if fault_rng is not None else rng
        self._buf: list[int] = []

    def add_spike(self, window: Window) -> None:
        self.spikes = sorted([*self.spikes, window], key=lambda w: w.start_ms)

    def leg_ms(self, now: int | None = None) -> int:
        if self.model.median_ms == 0 and not self.model.samples_ms:
            return 0
        if not self._buf:
            self._buf = self.model.draw(self.rng, self._BATCH).tolist()
            self._buf.reverse()
        leg = self._buf.pop()
        if self.spikes and now is not None:
            factor = 1.0
            for w in self.spikes:
                if w.start_ms > now:
                    break
                if w.covers(now):
                    factor = max(factor, w.factor)  # overlapping spikes: the worst, not the product
            leg = int(leg * factor)
        return leg

    def request_lost(self) -> bool:
        p = self.faults.request_loss_prob
        return p > 0 and bool(self.fault_rng.random() < p)

    def response_lost(self, request: object = None) -> bool:
        """Is the answer to ``request`` lost on the way back (drawn when it is sent)?"""
        p = self.faults.response_loss_prob
        return p > 0 and bool(self.fault_rng.random() < p)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``requests`` per rolling ``per_ms`` window; beyond, `RateLimited` with a retry-after."""

    requests: int
    per_ms: int


class Gateway:
    """The venue's front door: outage windows and a rate limit, checked as each request arrives."""

    def __init__(self, rate_limit: RateLimit | None = None, outages: list[Window] | None = None) -> None:
        self.rate_limit = rate_limit
        self.outages = sorted(outages or [], key=lambda w: w.start_ms)
        self._recent: list[int] = []
        self.refused = 0

    def add_outage(self, window: Window) -> None:
        self.outages = sorted([*self.outages, window], key=lambda w: w.start_ms)

    def in_outage(self, now: int) -> bool:
        for w in self.outages:
            if w.start_ms > now:
                return False
            if w.covers(now):
                return True
        return False

    def admit(self, now: int) -> tuple[str, int] | None:
        """None to let a request through, else ("outage", 0) or ("rate_limited", retry_after_ms)."""
        if self.outages and self.in_outage(now):
            self.refused += 1
            return ("outage", 0)
        rl = self.rate_limit
        if rl is None:
            return None
        cutoff = now - rl.per_ms
        recent = self._recent
        while recent and recent[0] <= cutoff:
            recent.pop(0)
        if len(recent) >= rl.requests:
            self.refused += 1
            return ("rate_limited", recent[0] + rl.per_ms - now)
        recent.append(now)
        return None


def lognormal_quantile(model: LatencyModel, q: float) -> float:
    """The ``q`` quantile of one leg, e.g. to bound expected detection latency."""
    from statistics import NormalDist

    return max(model.median_ms * math.exp(model.sigma * NormalDist().inv_cdf(q)), model.floor_ms)
