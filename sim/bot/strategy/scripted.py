"""Targets read from the scenario at given times: for tests and for pinning edge cases.

``targets = [{ at = "10m", side = "long", qty = 0.1 }, ...]``; ``at`` is measured from the run's
start. Each target is stated once, at the first cycle at or after its time.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sim.bot.strategy.base import Target
from sim.core.types import PositionSide


class ScriptedTargets:
    def __init__(self, *, targets: list[dict[str, Any]], start_ms: int = 0) -> None:
        steps = []
        for i, t in enumerate(targets):
            at_ms = int(t["at_ms"])
            side = PositionSide(t["side"])
            qty = Decimal(str(t.get("qty", 0)))
            if side is not PositionSide.FLAT and qty <= 0:
                raise ValueError(f"targets[{i}]: a {side.value} target needs a positive qty")
            steps.append((start_ms + at_ms, Target(side, qty, f"scripted target #{i + 1}")))
        self._steps = sorted(steps, key=lambda s: s[0])
        self._next = 0
        self.candle_interval_ms: int | None = None

    def on_candle(self, candle: object) -> None:  # needs no market data
        pass

    def target(self, now_ms: int) -> Target | None:
        due = None
        while self._next < len(self._steps) and self._steps[self._next][0] <= now_ms:
            due = self._steps[self._next][1]
            self._next += 1
        return due
