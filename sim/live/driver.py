"""The asyncio driver: runs the bot's request generator against a live venue.

The sibling of the SimPy driver (`sim.world.driver`) and as thin as the loop a user writes around
a sans-IO library: each request the bot yields is awaited on the adapter and its answer (or the
bot's error for it) goes back in a `Reply` stamped with when it arrived (the venue's clock as seen
from here): the bot takes its time from that and commits its own record before acting.
``Sleep`` is a real sleep until that venue time, ended early by a pushed update (the bot decides
whether it matters). A stop (Ctrl-C, the duration) is honoured at the next ``Sleep``: between
cycles, or in a back-off, never between a request and its answer.
"""
from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

from sim.core.errors import ExchangeError, RequestTimeout, TransientError
from sim.core.messages import Reply, Sleep, Woke
from sim.live.adapter import CcxtVenue


class Stopped(Exception):
    """The bot generator was closed at a ``Sleep`` because a stop was asked for."""


class LiveDriver:
    def __init__(self, venue: CcxtVenue, stop: asyncio.Event) -> None:
        self.venue = venue
        self.stop = stop
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

    async def run(self, bot: Generator[Any, Reply, Any], stoppable: bool = True) -> Any:
        """Serve ``bot`` until it returns (its value) or, if ``stoppable``, a stop closes it at a sleep."""
        reply: Reply | None = None
        while True:
            try:
                request = next(bot) if reply is None else bot.send(reply)
            except StopIteration as stop:
                return stop.value
            if type(request) is Sleep:
                try:
                    woke = await self._sleep(request.until_ms, stoppable)
                except Stopped:
                    bot.close()
                    raise
                reply = Reply(woke.ts, woke)
                continue
            self.requests += 1
            answer: Any
            try:
                answer = await self.venue.handle(request)
            except ExchangeError as exc:
                answer = exc
                if isinstance(exc, RequestTimeout):
                    self.timeouts += 1
                elif isinstance(exc, TransientError):
                    self.refused += 1
            reply = Reply(self.venue.time.now(answer.ts), answer)


__all__ = ["LiveDriver", "Stopped"]
