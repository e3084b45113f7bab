"""A request's trip to the venue and back, through the scenario's transport model.

As in a run (`sim.world.driver`): each leg takes a drawn latency (spikes included); a request
can be lost, or arrive after the receive window and be refused; a response can be lost. When no
answer comes back within the transport's timeout, the client gets Binance's 503 "Unknown error"
with no code: the request may or may not have been executed, exactly the case a reconciler
exists for. At the venue, the gateway's outage windows answer 503 "Service Unavailable." and its
rate limit 429 with ``Retry-After``.

The handler awaits a future; the venue acts inside the simulation (a `SimClock` callback) at the
request's arrival, and the answer is released at arrival plus the return leg.
"""
from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from sim.core.errors import Rejected
from sim.serve.clock import SimClock, log
from sim.serve.errors import BinanceError, rejected, unavailable, unknown_status
from sim.serve.world import ServeWorld

Action = Callable[[int], Any]  # the venue-side work, given the venue time of arrival


class VenueLink:
    def __init__(self, world: ServeWorld, clock: SimClock) -> None:
        self.world = world
        self.clock = clock
        self.lose_requests = 0  # the operator's "lose the next N requests / responses"
        self.lose_responses = 0
        self.requests = 0
        self.unknown = 0  # answered 503 unknown status
        self.expired = 0  # arrived after the receive window

    async def call(self, action: Action, label: str) -> Any:
        """Send ``action`` to the venue; its result, or raise the `BinanceError` the client sees."""
        w, clock = self.world, self.clock
        tr = w.transport
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()
        self.requests += 1
        sent = clock.sim_now()
        leg = tr.leg_ms(sent)
        lost = tr.request_lost()
        if self.lose_requests > 0:
            self.lose_requests, lost = self.lose_requests - 1, True
        reaches = not lost and leg <= tr.faults.recv_window
        back = tr.leg_ms(sent + leg)
        resp_lost = tr.response_lost()
        if self.lose_responses > 0 and reaches:
            self.lose_responses, resp_lost = self.lose_responses - 1, True
        timeout = tr.faults.timeout_ms
        in_time = reaches and not resp_lost and leg + back <= timeout

        def settle(result: Any) -> None:
            if not fut.done():
                fut.set_result(result)

        def arrive() -> None:
            now = int(w.env.now)
            result = self._execute(action, now)
            if in_time:
                clock.schedule(now + back, lambda: settle(result))

        if reaches:
            clock.schedule(sent + leg, arrive)
        elif not lost:
            self.expired += 1
            w.log.event(sent + leg, "request_expired", "venue", None,
                        detail=f"{label} arrived after the receive window")
        if not in_time:
            def give_up() -> None:
                self.unknown += 1
                w.log.event(int(w.env.now), "request_timeout", "transport", None, detail=label)
                settle(unknown_status())
            clock.schedule(sent + timeout, give_up)
        result = await fut
        if isinstance(result, BaseException):
            raise result
        return result

    def _execute(self, action: Action, now: int) -> Any:
        w = self.world
        gate = w.gateway.admit(now)
        if gate is not None:
            kind, retry_ms = gate
            if kind == "outage":
                return unavailable()
            retry = max(1, math.ceil(retry_ms / 1000 / self.clock.speed))
            return BinanceError(429, -1003, "Too many requests; current limit of the venue was exceeded.",
                                {"Retry-After": str(retry)})
        try:
            w.venue.catch_up(now)
            return action(now)
        except BinanceError as exc:
            return exc
        except Rejected as exc:
            return rejected(exc, w.venue.instrument.min_notional)
        except Exception:  # a bug, not the client's fault: Binance's -1000, and the log says where
            log.exception("venue action failed")
            return BinanceError(500, -1000, "An unknown error occurred while processing the request.")
