"""The SimPy driver: runs the bot's request generator against the simulated venue.

Each request travels to the venue after a drawn latency, is answered there at that instant, and
the answer (or the venue's error) travels back after another latency. `Sleep` is answered by the
driver itself. The venue's own wake-ups (a TP crossing, say) are SimPy events too, so the event
log is in time order; the venue also catches up before every answer, so at one instant the
venue always acts before the bot.
"""
from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.core.errors import ExchangeError, RateLimited, Rejected, RequestTimeout, Unavailable
from sim.core.messages import (
    FetchAccount,
    FetchAlgoOrder,
    FetchCandles,
    FetchFills,
    FetchOpenAlgoOrders,
    FetchOpenOrders,
    FetchOrder,
    FetchPositions,
    FetchTicker,
    Reply,
    Sleep,
    SubmitOrder,
    Woke,
)
from sim.core.types import RejectReason
from sim.world.exchange import SimExchange
from sim.world.transport import Gateway, Transport
from sim.world.truth import GroundTruth

_READS = frozenset({FetchPositions, FetchOpenOrders, FetchOrder, FetchFills, FetchAccount, FetchTicker, FetchCandles,
                    FetchAlgoOrder, FetchOpenAlgoOrders})


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


@dataclass(frozen=True, slots=True)
class Crash:
    """The bot process dies: ``now``, right ``after_submit`` (sent, no answer seen) or ``after_fill``
    (a fill recorded, before the next request); a new one starts after ``restart_after_ms``."""

    point: str = "now"
    restart_after_ms: int | None = 30_000


class _Crashed(Exception):
    def __init__(self, crash: Crash) -> None:
        super().__init__(crash.point)
        self.crash = crash


class BotDriver:
    """Runs one bot generator until it returns, the run ends, or it raises."""

    def __init__(self, env: simpy.Environment, venue: SimExchange, transport: Transport, truth: GroundTruth,
                 gateway: Gateway | None = None) -> None:
        self.env = env
        self.venue = venue
        self.transport = transport
        self.gateway = gateway if gateway is not None else Gateway()
        self.truth = truth
        self.requests = 0
        self.timeouts = 0
        self.events = 0  # SimPy events this driver waited on
        self.inbox: list[object] = []
        self.process: simpy.Process | None = None
        self._sleeping = False
        self.down = False
        self.crashes = 0
        self.armed: Crash | None = None
        self.restarter: Callable[[], Generator[Any, Any, Any]] | None = None  # a new bot from its record
        self.on_crash: Callable[[], None] | None = None
        self.on_request: Callable[[Any], None] | None = None  # a test's hook: sees each request as the bot yields it

    def start(self, bot: Generator[Any, Any, Any]) -> simpy.Process:
        self.process = self.env.process(self.run(bot))
        return self.process

    def deliver(self, update: object) -> None:
        """A pushed update reaches the bot: it wakes the bot if it sleeps."""
        self.inbox.append(update)
        if self._sleeping and self.process is not None:
            self._sleeping = False
            self.process.interrupt("update")

    def _woke(self) -> Woke:
        updates = tuple(self.inbox)
        self.inbox.clear()
        return Woke(int(self.env.now), updates)  # type: ignore[arg-type]

    def _answer(self, request: Any, at: int | None = None) -> tuple[Any, ExchangeError | None]:
        """The venue's answer to a request arriving now, or at ``at`` (through the gateway)."""
        now = int(self.env.now) if at is None else at
        gate = self.gateway.admit(now)
        if gate is not None:
            kind, retry = gate
            err: ExchangeError = RateLimited(retry, now) if kind == "rate_limited" else \
                Unavailable("venue unavailable (outage)", now)
            return None, err
        try:
            return self.venue.handle(request, now), None
        except ExchangeError as exc:
            return None, exc

    def crash(self, crash: Crash) -> None:
        """A crash event: at once (wherever the bot is), or armed for a named point."""
        if crash.point == "now":
            if self.process is not None and self.process.is_alive and not self.down:
                self.process.interrupt(crash)
        else:
            self.armed = crash

    def _arrive_later(self, request: Any, at: int) -> None:
        """A request already on the wire reaches the venue even if the bot is gone by then."""
        ev = self.env.timeout(max(0, at - int(self.env.now)))
        ev.callbacks.append(lambda _ev, r=request: self._answer(r))

    def run(self, bot: Generator[Any, Any, Any]) -> Generator[simpy.Event, Any, None]:
        """Serve the bot; on a crash, drop it and (after a delay) start a new one from its record."""
        env = self.env
        while True:
            try:
                yield from self._serve(bot)
                return
            except _Crashed as crashed:
                self.down = True
                self.crashes += 1
                bot.close()
                self.truth.bot_down(int(env.now))
                self.truth.log.event(int(env.now), "bot_crash", "driver", detail=crashed.crash.point)
                if self.on_crash is not None:
                    self.on_crash()
                if crashed.crash.restart_after_ms is None or self.restarter is None:
                    return
                yield env.timeout(crashed.crash.restart_after_ms)
                bot = self.restarter()
                self.inbox.clear()  # the new process has no stream yet: it starts from the record
                self.down = False
                self.truth.bot_up(int(env.now))
                self.truth.log.event(int(env.now), "bot_restart", "driver", detail="from the platform record")

    def _sync(self, now: int) -> Generator[simpy.Event, Any, None]:
        """Bring SimPy's clock up to the driver's, after reads answered in place (see `_serve`)."""
        if now > self.env.now:
            self.events += 1
            try:
                yield self.env.timeout(now - self.env.now)
            except simpy.Interrupt as intr:  # cannot happen (nothing is due before ``now``), but never lose a crash
                raise _Crashed(intr.cause) from None

    def _serve(self, bot: Generator[Any, Any, Any]) -> Generator[simpy.Event, Any, None]:
        """Serve one bot process until it returns.

        A read whose whole round trip falls before the next event of the world (nothing else can
        happen meanwhile: no crossing, no intervention, no pushed update) is answered in place, as
        of its arrival, and the driver's clock ``now`` runs ahead of SimPy's; the clocks are brought
        together before anything else. The bot sees exactly the same times and answers as if each
        leg had been a SimPy event, at a fraction of the cost: reads are most of what a bot sends.
        """
        env, venue, truth, transport = self.env, self.venue, self.truth, self.transport
        received, sending = truth.watch.received, truth.watch.request  # what the bot learns and does (invariants)
        timeout_ms = transport.faults.timeout_ms
        reply: Any = None
        error: ExchangeError | None = None
        crash_next: Crash | None = None
        on_request = self.on_request
        now = int(env.now)
        first = True
        while True:
            received(now, reply, error)
            try:  # the bot learns the time from the reply, and commits its record itself before acting
                request = bot.send(None if first else Reply(now, error if error is not None else reply))
            except StopIteration:
                return
            first = False
            if on_request is not None:
                on_request(request)
            truth.after_bot_step(now)  # the record as it now is (and durable, if a crash follows)
            if crash_next is not None:
                raise _Crashed(crash_next)  # the bot recorded the answer, then died
            sending(now, request)
            reply, error = None, None
            kind = type(request)
            if kind is Sleep:
                truth.sample(now)
                if not self.inbox:
                    # one wait from SimPy's clock to the wake-up: nothing in the world is due before the
                    # driver's ``now`` (see below), so no separate catch-up wait is needed first
                    self._sleeping = True
                    self.events += 1
                    try:
                        yield env.timeout(max(now, request.until_ms) - int(env.now))
                    except simpy.Interrupt as intr:
                        self._sleeping = False
                        if isinstance(intr.cause, Crash):
                            raise _Crashed(intr.cause) from None
                    self._sleeping = False
                else:
                    yield from self._sync(now)
                reply = self._woke()
                now = int(env.now)
                continue
            self.requests += 1
            is_submit = kind is SubmitOrder
            if is_submit:
                yield from self._sync(now)
                venue.catch_up(now)
                truth.before_submit(now, request)
            sent = now
            leg = transport.leg_ms(sent)
            lost = transport.request_lost()
            reaches = not lost and leg <= transport.faults.recv_window
            if is_submit and self.armed is not None and self.armed.point == "after_submit":
                crash, self.armed = self.armed, None
                if reaches:
                    self._arrive_later(request, sent + leg)
                raise _Crashed(crash)  # sent, then died before any answer
            if lost or leg >= timeout_ms:
                yield from self._sync(now)
                if reaches:
                    self._arrive_later(request, sent + leg)  # it still arrives, after the client gave up
                elif not lost:
                    self.truth.log.event(sent + leg, "request_expired", "venue", getattr(request, "client_id", None),
                                         detail=f"{type(request).__name__} arrived after the receive window")
                try:
                    yield env.timeout(timeout_ms)
                except simpy.Interrupt as intr:
                    raise _Crashed(intr.cause) from None
                now = int(env.now)
                error = self._timed_out(request)
                continue
            back = transport.leg_ms(sent + leg)
            answered_in_time = not transport.response_lost(request) and leg + back <= timeout_ms
            if kind in _READS and reaches and answered_in_time and env.peek() > sent + leg + back:
                reply, error = self._answer(request, sent + leg)
                now = sent + leg + back
                if error is not None:
                    error.ts = now
                continue
            # one wait for the round trip: the venue answers in a callback when the request arrives
            # (so it is answered even if the bot dies meanwhile), and the bot resumes once
            yield from self._sync(now)
            self.events += 1
            answer: list = []
            if reaches and env.peek() > sent + leg:
                # nothing else happens in the world before the request arrives: answer it as of its
                # arrival now (the venue catches up to that instant itself), saving an event
                answer.extend(self._answer(request, sent + leg))
            elif reaches:
                self.events += 1
                arrival = env.timeout(leg)
                arrival.callbacks.append(lambda _ev, r=request, a=answer: a.extend(self._answer(r)))
            try:
                yield env.timeout(leg + back if answered_in_time else timeout_ms)
            except simpy.Interrupt as intr:
                raise _Crashed(intr.cause) from None
            now = int(env.now)
            if not answered_in_time:
                reply, error = None, self._timed_out(request)
                continue
            if reaches:
                reply, error = answer
            else:
                reply, error = None, Rejected(RejectReason.INVALID, "outside the receive window", now)
            if error is not None:
                error.ts = now
            if is_submit and reply is not None and reply.filled_qty > 0 and self.armed is not None \
                    and self.armed.point == "after_fill":
                crash_next, self.armed = self.armed, None

    def _timed_out(self, request: Any) -> RequestTimeout:
        self.timeouts += 1
        self.truth.log.event(int(self.env.now), "request_timeout", "transport", getattr(request, "client_id", None),
                             detail=type(request).__name__)
        return RequestTimeout(f"{type(request).__name__}: no answer in time", int(self.env.now))

    def settle(self, bot: Generator[Any, Any, Any]) -> Any:
        """Run a bot generator to completion at the current instant, with no latency.

        Used for the final reconcile at the end of a run (nothing in flight, invariant 2); its
        requests are answered by the venue directly.
        """
        reply: Any = None
        error: ExchangeError | None = None
        now = int(self.env.now)
        first = True
        self.truth.bot_up(now)  # a process runs it (a new one, if the last died)
        while True:
            self.truth.bot_received(now, reply, error)
            try:
                request = bot.send(None if first else Reply(now, error if error is not None else reply))
            except StopIteration as stop:
                self.truth.bot_finished(now)
                return stop.value
            first = False
            self.truth.bot_request(now, request)
            reply, error = None, None
            try:
                reply = Woke(now) if type(request) is Sleep else self.venue.handle(request, now)
            except ExchangeError as exc:
                exc.ts = now
                error = exc
