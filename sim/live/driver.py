"""The asyncio driver: runs the bot's request generator against a live venue.

The sibling of the SimPy driver (`sim.world.driver`) and as thin as the loop a user writes around
a sans-IO library: each request the bot yields is committed first (`before_request`), then
awaited on the adapter; the answer (or the bot's error for it) goes back in, and the bot's clock
is set to the venue time the answer carries. ``Sleep`` is a real sleep until that venue time,
ended early by a pushed update (the bot decides whether it matters). A stop (Ctrl-C, the
duration) is honoured at the next ``Sleep``: between cycles, or in a back-off, never between a
request and its answer.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any

from sim.bot.clock import ReplyClock
from sim.core.errors import ExchangeError, RequestTimeout, TransientError
from sim.core.messages import Sleep, Woke
from sim.live.adapter import CcxtVenue


class Stopped(Exception):
    """The bot generator was closed at a ``Sleep`` because a stop was asked for."""


class LiveDriver:
    def __init__(self, venue: CcxtVenue, clock: ReplyClock, stop: asyncio.Event,
                 before_request: Callable[[Any], None] = lambda request: None) -> None:
        self.venue = venue
        self.clock = clock
        self.stop = stop
        self.before_request = before_request
        self.inbox: list[object] = []
        self._update = asyncio.Event()
        self.requests = 0
        self.timeouts = 0
        self.refused = 0  # rate limited or unavailable
        self.woken_early = 0

    def deliver(self, update: object) -> None:
        """A pushed update: kept for the bot's next ``Woke`` and wakes it if it sleeps."""
        self.inbox.append(update)
        self._update.set()

    def _woke(self) -> Woke:
        updates = tuple(self.inbox)
        self.inbox.clear()
        self._update.clear()
        return Woke(self.venue.time.now(), updates)  # type: ignore[arg-type]

    async def _sleep(self, until_ms: int, stoppable: bool) -> Woke:
        """Sleep until venue time ``until_ms``, a pushed update, or a stop."""
        while not self.inbox:
            if stoppable and self.stop.is_set():
                raise Stopped
            left = until_ms - self.venue.time.now()
            if left <= 0:
                break
            waits = [asyncio.ensure_future(self._update.wait())]
            if stoppable:
                waits.append(asyncio.ensure_future(self.stop.wait()))
            _, pending = await asyncio.wait(waits, timeout=left / 1000.0, return_when=asyncio.FIRST_COMPLETED)
            for w in pending:
                w.cancel()
        if self.inbox:
            self.woken_early += 1
        return self._woke()

    async def run(self, bot: Generator[Any, Any, Any], stoppable: bool = True) -> Any:
        """Serve ``bot`` until it returns (its value) or, if ``stoppable``, a stop closes it at a sleep."""
        reply: Any = None
        error: ExchangeError | None = None
        clock = self.clock
        while True:
            try:
                request = bot.throw(error) if error is not None else bot.send(reply)
            except StopIteration as stop:
                return stop.value
            self.before_request(request)  # the record is durable before anything leaves
            reply, error = None, None
            if type(request) is Sleep:
                try:
                    reply = await self._sleep(request.until_ms, stoppable)
                except Stopped:
                    bot.close()
                    raise
                clock.now = max(clock.now, reply.ts)
                continue
            self.requests += 1
            try:
                reply = await self.venue.handle(request)
                clock.now = max(clock.now, reply.ts)
            except ExchangeError as exc:
                exc.ts = max(exc.ts, clock.now)
                clock.now = exc.ts
                if isinstance(exc, RequestTimeout):
                    self.timeouts += 1
                elif isinstance(exc, TransientError):
                    self.refused += 1
                error = exc


__all__ = ["LiveDriver", "Stopped"]
