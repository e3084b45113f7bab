"""A user strategy that kills the process running it, for the batch's worker-death tests.

Named only by the scenario those tests write (``tests.dying_strategy:DiesInWorker``). It ends its
process with ``os._exit`` on its third candle, and only in a worker process (one with a
multiprocessing parent): validating the scenario, or running it in the test process itself,
never kills pytest.
"""
from __future__ import annotations

import multiprocessing
import os

from sim.bot.strategy.base import Target
from sim.core.messages import Candle


class DiesInWorker:
    """Holds no position; on its third candle, inside a worker process, exits at once (status 3)."""

    def __init__(self, *, interval_ms: int = 60_000, start_ms: int = 0) -> None:
        self.candle_interval_ms: int | None = interval_ms
        self._n = 0

    def on_candle(self, candle: Candle) -> None:
        self._n += 1
        if self._n == 3 and multiprocessing.parent_process() is not None:
            os._exit(3)  # no exception, no cleanup: as a segfault or the OOM killer would end it

    def target(self, now_ms: int) -> Target | None:
        return None
