"""Pushed updates: the venue's stream of order and fill reports to the bot.

Delivered after a lognormal delay, and lost with a set probability or inside drop windows (a
stream disconnect). The bot must never trust them alone; it uses them to reconcile early.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from sim.world.transport import Window


@dataclass(frozen=True, slots=True)
class UpdateModel:
    enabled: bool = True
    median_ms: float = 20.0
    sigma: float = 0.5
    drop_prob: float = 0.0


class UpdateStream:
    def __init__(self, env: simpy.Environment, model: UpdateModel, rng: np.random.Generator,
                 deliver: Callable[[object], None]) -> None:
        self.env = env
        self.model = model
        self.rng = rng
        self.deliver = deliver
        self.drop_windows: list[Window] = []
        self.outage: Callable[[int], bool] = lambda t: False
        self.sent = 0
        self.dropped = 0
        self.events = 0

    def publish(self, ts: int, update: object) -> None:
        m = self.model
        if not m.enabled:
            return
        if (m.drop_prob > 0 and self.rng.random() < m.drop_prob) or self.outage(ts) or \
                any(w.covers(ts) for w in self.drop_windows):
            self.dropped += 1
            return
        self.sent += 1
        self.events += 1
        delay = max(1, int(round(m.median_ms * float(np.exp(m.sigma * self.rng.standard_normal())))))
        ev = self.env.timeout(max(0, ts + delay - int(self.env.now)))
        ev.callbacks.append(lambda _ev, u=update: self.deliver(u))
