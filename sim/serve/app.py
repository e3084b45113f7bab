"""`ServeServer`: the scenario's venue served over Binance USD-M's REST and WebSocket protocol.

One asyncio process, aiohttp for both HTTP and WebSocket (one well-kept library, the one ccxt
itself uses), and one task stepping the SimPy world (`SimClock`). Start it from Python::

    server = ServeServer(scenario, port=0)           # 0: a free port
    await server.start()                             # returns once it listens
    ... server.base_url, server.ccxt_config() ...
    run_dir = await server.stop()                    # writes the run directory if ``out`` was given

It stops by itself when the scenario's duration or ``duration_ms`` has passed (`wait`).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from sim.scenario.schema import Scenario
from sim.serve.audit import Audit
from sim.serve.clock import SimClock
from sim.serve.context import Ctx
from sim.serve.errors import BinanceError
from sim.serve.limits import Limiter, LimitsConfig
from sim.serve.link import VenueLink
from sim.serve.market_feed import MarketFeed
from sim.serve.operator import Operator
from sim.serve.params import Params
from sim.serve.routes import PATHS, SIGNED, TABLE, USER_STREAM
from sim.serve.signing import ApiKey, check_key, verify
from sim.serve.streams import WS_PATHS, Hub
from sim.serve.world import build_serve_world

log = logging.getLogger("aethersim.serve")
MAX_BODY = 64 * 1024


class ServeServer:
    def __init__(self, scenario: Scenario, host: str = "127.0.0.1", port: int = 0, api_key: ApiKey | None = None,
                 operator_token: str | None = None, speed: float = 1.0, duration_ms: int | None = None,
                 out: str | Path | None = None, seed: int | None = None,
                 limits: LimitsConfig | None = None, history_ms: int = 0, legacy_stops: bool = False) -> None:
        self.scenario = scenario
        self.host, self.port = host, port
        self.api_key = api_key or ApiKey.generate()
        self.operator_token = operator_token or secrets.token_urlsafe(24)
        self.speed = speed
        self.duration_ms = duration_ms
        self.out = Path(out) if out is not None else None
        self.seed = seed
        self.limits = limits or LimitsConfig()
        self.history_ms = history_ms
        self.legacy_stops = legacy_stops
        self.stopped = asyncio.Event()
        self.stop_reason = ""
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task] = []
        self.ctx: Ctx | None = None
        self.hub: Hub | None = None
        self._t0 = 0.0

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Build the world, start the clock and listen; returns once connections are accepted."""
        self._t0 = time.perf_counter()
        world = build_serve_world(self.scenario, self.seed, history_ms=self.history_ms,
                                  legacy_stops=self.legacy_stops)
        clock = SimClock(world.env, self.speed)
        world.tap.wall = clock.wall_ms
        audit = Audit(world.log, clock.sim_now, protective=lambda: _protected(world), position=lambda:
                      world.venue.book.qty)
        world.tap.listeners.append(audit.on_venue)
        world.intervention_hooks.append(audit.intervention)
        ctx = Ctx(world, clock, VenueLink(world, clock), audit, Limiter(self.limits), self.api_key,
                  self.operator_token)
        hub = Hub(ctx, clock.server_ms)
        feed = MarketFeed(ctx, hub)
        hub.on_subscribe = feed.ensure_running
        world.deliver = hub.push_user
        world.on_disconnect = hub.disconnect_users
        self.ctx, self.hub, self.feed = ctx, hub, feed
        app = web.Application(client_max_size=MAX_BODY)
        operator = Operator(ctx, hub, self.stopped, feed)
        app.add_routes(operator.routes())
        for path in WS_PATHS:
            app.router.add_get(path, hub.handle)
        app.router.add_route("*", "/{tail:.*}", self._http)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        self.port = sock.getsockname()[1]
        until = world.end_ms
        if self.duration_ms is not None:
            until = min(until, world.open_ms + int(self.duration_ms * self.speed))
        self._tasks = [asyncio.ensure_future(self._clock(clock, until)),
                       asyncio.ensure_future(self._listen_key_watch())]

    async def _clock(self, clock: SimClock, until: int) -> None:
        await clock.run(until_sim=until)
        self.stop_reason = self.stop_reason or "the scenario's duration (or --duration) passed"
        self.stopped.set()

    async def _listen_key_watch(self) -> None:
        assert self.ctx is not None and self.hub is not None
        keys = self.ctx.listen_keys
        while True:
            await asyncio.sleep(1.0)
            keys.tick()
            while keys.expired:
                self.hub.expire(keys.expired.pop())

    async def wait(self) -> None:
        await self.stopped.wait()

    async def stop(self, reason: str = "stopped") -> Path | None:
        """Stop serving, close every socket, write the run directory (when ``out`` is set) and return it."""
        self.stop_reason = self.stop_reason or reason
        self.stopped.set()
        for t in self._tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self.hub is not None:
            await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.out is None or self.ctx is None:
            return None
        from sim.serve.rundir import write_run_dir

        return write_run_dir(self.ctx, self.out, time.perf_counter() - self._t0, self.stop_reason)

    # ------------------------------------------------------------------ addresses
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    def ccxt_config(self) -> dict:
        """Constructor config for ccxt's (pro) ``binanceusdm`` pointed at this server."""
        base = self.base_url
        urls = {k: base + p for k, p in {"fapiPublic": "/fapi/v1", "fapiPublicV2": "/fapi/v2",
                                         "fapiPublicV3": "/fapi/v3", "fapiPrivate": "/fapi/v1",
                                         "fapiPrivateV2": "/fapi/v2", "fapiPrivateV3": "/fapi/v3",
                                         "fapiData": "/futures/data"}.items()}
        return {"apiKey": self.api_key.key, "secret": self.api_key.secret,
                "urls": {"api": {**urls, "ws": {"linear": self.ws_url}}},
                "options": {"fetchCurrencies": False}}

    # ------------------------------------------------------------------ HTTP
    async def _http(self, request: web.Request) -> web.Response:
        ctx = self.ctx
        assert ctx is not None
        path, method = request.path, request.method
        try:
            route = TABLE.get((method, path))
            if route is None:
                raise BinanceError(404 if path not in PATHS else 405, -5000,
                                   f"Path {path}, Method {method} is invalid")
            try:
                raw = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise BinanceError(413, -1000, f"Request body larger than {MAX_BODY} bytes.") from None
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BinanceError(400, -1100, "Illegal characters found in the request body.") from None
            query = request.rel_url.raw_query_string
            p = Params(query, body)
            if route.security == USER_STREAM:
                check_key(self.api_key, request.headers.get("X-MBX-APIKEY"))
            elif route.security == SIGNED:
                verify(self.api_key, request.headers.get("X-MBX-APIKEY"), query, body, p.str("timestamp"),
                       p.str("recvWindow"), ctx.clock.server_ms())
            headers = ctx.limiter.admit(request.remote or "?", route.weight_of(p), route.order)
            ctx.audit.requests[route.path] += 1
            result = await route.handler(ctx, p)
            return _json(result, 200, headers)
        except BinanceError as exc:
            ctx.audit.refusal(exc.status, exc.code, path)
            return _json(exc.body(path, ctx.clock.server_ms()), exc.status, exc.headers)
        except Exception:  # never a traceback on the wire
            log.exception("handler failed: %s %s", method, path)
            ctx.audit.refusal(500, -1000, path)
            return _json({"code": -1000, "msg": "An unknown error occurred while processing the request."}, 500, {})


def _json(body: Any, status: int, headers: dict[str, str]) -> web.Response:
    return web.Response(text=json.dumps(body, separators=(",", ":")), status=status, headers=headers,
                        content_type="application/json")


def _protected(world: Any) -> bool:
    """Is a protective order open: an algo order (or legacy trigger) that reduces or closes the position?"""
    v = world.venue
    return any(o.reduce_only for o in v.open_triggers) or \
        any(a.reduce_only or a.close_position for a in v.algo.armed)
