"""One asyncio task steps a plain SimPy environment against the wall clock.

SimPy's `RealtimeEnvironment` sleeps (blocking) until its next event, so a request arriving
meanwhile is handled late and the event loop stalls. Here the simulated time is a mapping of the
monotonic clock, ``sim_now = sim0 + (monotonic - real0) * 1000 * speed`` (ms), and one task
waits until the next event is due *or* something new is scheduled, then steps every event due.
Handlers never step the environment: they `schedule` a callback and await a future it resolves.

Times on the wire stay on the wall clock (`wall_ms`): clients sign with their own clock, so a
sped-up simulated clock must never leak into ``serverTime`` or event times.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import simpy

log = logging.getLogger("aethersim.serve")


class SimClock:
    """Maps simulated milliseconds to the wall clock and drives ``env`` in one task."""

    def __init__(self, env: simpy.Environment, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.env = env
        self.speed = speed
        self.sim0 = int(env.now)
        self.real0 = time.monotonic()
        self.epoch0 = int(time.time() * 1000)  # whole ms: at speed 1 the two clocks map exactly
        self._wake = asyncio.Event()
        self.errors = 0  # callbacks that raised (logged; the server keeps serving)
        self.steps = 0

    def sim_now(self) -> int:
        """The simulated time now, in whole ms (never behind the environment)."""
        t = int(self.sim0 + (time.monotonic() - self.real0) * 1000.0 * self.speed)
        return max(t, int(self.env.now))

    def wall_ms(self, sim_ms: float) -> int:
        """Epoch ms on the wall clock at which simulated ``sim_ms`` happens (what the wire shows)."""
        return self.epoch0 + round((sim_ms - self.sim0) / self.speed)

    def sim_of_wall(self, wall_ms: float) -> int:
        """The simulated time of a wall-clock epoch ms (a client's startTime, say)."""
        return self.sim0 + round((wall_ms - self.epoch0) * self.speed)

    @staticmethod
    def server_ms() -> int:
        return int(time.time() * 1000)

    def _real_of(self, sim_ms: float) -> float:
        return self.real0 + (sim_ms - self.sim0) / 1000.0 / self.speed

    def schedule(self, at_sim: int, fn: Callable[[], None]) -> None:
        """Run ``fn`` inside the simulation at simulated ``at_sim`` (now, if that has passed)."""
        ev = self.env.timeout(max(0, at_sim - self.env.now))
        ev.callbacks.append(lambda _ev: self._guarded(fn))
        self._wake.set()

    def _guarded(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # a bug in one action must not stop the world for every client
            self.errors += 1
            log.exception("simulation callback failed")

    async def run(self, until_sim: float | None = None) -> None:
        """Step the environment forever (or to ``until_sim``): the only place it is stepped."""
        env = self.env
        while True:
            nxt = env.peek()
            if until_sim is not None:
                nxt = min(nxt, until_sim)
            timeout = None if nxt == float("inf") else max(0.0, self._real_of(nxt) - time.monotonic())
            self._wake.clear()
            if timeout is None or timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            now = self.sim_now()
            while env.peek() <= now and (until_sim is None or env.peek() <= until_sim):
                try:
                    env.step()
                except Exception:  # a failed SimPy process: log it, keep the world running
                    self.errors += 1
                    log.exception("simulation step failed")
                self.steps += 1
                if self.steps % 2000 == 0:
                    await asyncio.sleep(0)  # a long catch-up must not starve the handlers
            if until_sim is not None and now >= until_sim:
                return
            await asyncio.sleep(0)
