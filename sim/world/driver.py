"""The SimPy driver: runs the bot's request generator against the simulated venue.

Each request travels to the venue after a drawn latency, is answered there at that instant, and
the answer (or the venue's error) travels back after another latency. `Sleep` is answered by the
driver itself. The venue's own wake-ups (a TP crossing, say) are SimPy events too, so the event
log is in time order; the venue also catches up before every answer, so at one instant the
venue always acts before the bot.
"""
from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.bot.clock import ReplyClock
from sim.core.errors import ExchangeError
from sim.core.messages import Sleep, SubmitOrder, Woke
from sim.world.exchange import SimExchange
from sim.world.transport import Transport
from sim.world.truth import GroundTruth


class VenueClock:
    """Binds the venue's wake-up requests to SimPy timeouts (stale ones are ignored)."""

    def __init__(self, env: simpy.Environment, venue: SimExchange) -> None:
        self.env = env
        self.venue = venue
        self.events = 0
        self._wanted: int | None = None

    def schedule(self, t: int | None) -> None:
        self._wanted = t
        if t is None:
            return
        ev = self.env.timeout(max(0, t - self.env.now))
        ev.callbacks.append(lambda _ev, t=t: self._wake(t))

    def _wake(self, t: int) -> None:
        self.events += 1
        if self._wanted == t:
            self.venue.catch_up(t)


class BotDriver:
    """Runs one bot generator until it returns, the run ends, or it raises."""

    def __init__(self, env: simpy.Environment, venue: SimExchange, transport: Transport, truth: GroundTruth,
                 clock: ReplyClock) -> None:
        self.env = env
        self.clock = clock  # the bot's clock: set to the arrival time of each reply
        self.venue = venue
        self.transport = transport
        self.truth = truth
        self.requests = 0
        self.cycles = 0
        self.events = 0  # SimPy events this driver waited on

    def run(self, bot: Generator[Any, Any, Any]) -> Generator[simpy.Event, None, None]:
        env, venue, truth, transport = self.env, self.venue, self.truth, self.transport
        reply: Any = None
        error: ExchangeError | None = None
        while True:
            self.clock.now = int(env.now)
            try:
                request = bot.throw(error) if error is not None else bot.send(reply)
            except StopIteration:
                return
            reply, error = None, None
            truth.after_bot_step(env.now)
            if type(request) is Sleep:
                self.cycles += 1
                truth.sample(env.now)
                self.events += 1
                yield env.timeout(max(0, request.until_ms - env.now))
                reply = Woke(env.now)
                continue
            self.requests += 1
            if type(request) is SubmitOrder:
                venue.catch_up(env.now)
                truth.before_submit(env.now, request)
            self.events += 2
            yield env.timeout(transport.leg_ms())
            try:
                reply = venue.handle(request, env.now)
            except ExchangeError as exc:
                error = exc
            yield env.timeout(transport.leg_ms())
            if error is not None:
                error.ts = env.now

    def settle(self, bot: Generator[Any, Any, Any]) -> Any:
        """Run a bot generator to completion at the current instant, with no latency.

        Used for the final reconcile at the end of a run (nothing in flight, invariant 2); its
        requests are answered by the venue directly.
        """
        reply: Any = None
        error: ExchangeError | None = None
        now = int(self.env.now)
        self.clock.now = now
        while True:
            try:
                request = bot.throw(error) if error is not None else bot.send(reply)
            except StopIteration as stop:
                self.truth.after_bot_step(now)
                return stop.value
            reply, error = None, None
            try:
                reply = Woke(now) if type(request) is Sleep else self.venue.handle(request, now)
            except ExchangeError as exc:
                exc.ts = now
                error = exc
