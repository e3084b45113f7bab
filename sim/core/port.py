"""The exchange port: the only way the bot touches a venue.

One dispatch method, as in httpx's transport: the simulated venue, a scripted fake for unit tests
and a live adapter all implement it. The bot never calls it directly; it yields requests and a
driver (SimPy in simulation, asyncio live) calls `handle` and sends the answer back.
"""
from __future__ import annotations

from typing import Protocol

from sim.core.messages import Request, Response


class ExchangePort(Protocol):
    def handle(self, request: Request, now_ms: int) -> Response:
        """Answer one request at venue time ``now_ms`` or raise an `ExchangeError`."""
        ...
