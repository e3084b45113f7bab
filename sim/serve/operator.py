"""The operator's endpoint: apply an intervention or fault now, read the venue's truth.

Separate from the Binance routes (``/operator/...``) and behind its own token
(``Authorization: Bearer <token>``). Events use the scenario's ``[[events]]`` kinds and
parameters (``at`` defaults to now); serve-only faults act on the wire: ``lose_responses`` /
``lose_requests`` (the next ``count`` requests: a 503 unknown status, the venue acting or not),
``expire_listen_key`` (``listenKeyExpired`` is pushed; keepalive gets -1125),
``disconnect_streams`` (user-data sockets closed) and ``depth_gap`` (one depth diff is lost: the
next one's ``pu`` names an update never sent, and a client must resynchronise its book). The
operator acts at the venue directly, with no transport in between.
"""
from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from sim.scenario.schema import Event
from sim.serve.binance import order_json
from sim.serve.context import Ctx
from sim.serve.market_feed import MarketFeed
from sim.serve.streams import Hub
from sim.serve.world import EventRefused

_EVENT = TypeAdapter(Event)
WIRE_FAULTS = ("lose_responses", "lose_requests", "expire_listen_key", "disconnect_streams", "depth_gap")


class Operator:
    def __init__(self, ctx: Ctx, hub: Hub, stop: asyncio.Event, feed: MarketFeed) -> None:
        self.ctx = ctx
        self.hub = hub
        self.stop = stop
        self.feed = feed

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/operator/event", self.event), web.get("/operator/truth", self.truth),
                web.post("/operator/stop", self.stop_now)]

    def _auth(self, request: web.Request) -> None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(token.encode(), self.ctx.operator_token.encode()):
            raise web.HTTPUnauthorized(text=json.dumps({"error": "operator token missing or wrong (send "
                                                                 "'Authorization: Bearer <token>')"}),
                                       content_type="application/json")

    async def _in_sim(self, fn: Any) -> Any:
        """Run ``fn(now)`` inside the simulation at the current instant and return its result."""
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        clock = self.ctx.clock

        def run() -> None:
            now = int(self.ctx.world.env.now)
            try:
                self.ctx.world.venue.catch_up(now)
                fut.set_result(fn(now))
            except Exception as exc:  # handed back to the request that asked
                fut.set_exception(exc)
        clock.schedule(clock.sim_now(), run)
        return await fut

    async def event(self, request: web.Request) -> web.Response:
        self._auth(request)
        try:
            raw = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error("the body must be a JSON object such as {\"kind\": \"external_close\"}")
        if not isinstance(raw, dict) or "kind" not in raw:
            return _error("the body must be a JSON object with a 'kind'")
        kind = raw["kind"]
        if kind in WIRE_FAULTS:
            return web.json_response({"applied": kind, "detail": self._wire_fault(kind, raw)})
        try:
            ev = _EVENT.validate_python({"at": "0s", **raw})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(x) for x in e['loc'][1:]) or 'kind'}: {e['msg']}"
                                 for e in exc.errors())
            return _error(f"not a valid event: {problems}")
        try:
            detail = await self._in_sim(lambda now: self.ctx.world.apply_event(ev, now))
        except EventRefused as exc:
            return _error(str(exc))
        return web.json_response({"applied": kind, "detail": detail})

    def _wire_fault(self, kind: str, raw: dict) -> str:
        link = self.ctx.link
        count = raw.get("count", 1)
        if kind in ("lose_responses", "lose_requests"):
            if not isinstance(count, int) or count < 1:
                raise web.HTTPBadRequest(text=json.dumps({"error": "count must be a positive integer"}),
                                         content_type="application/json")
            if kind == "lose_responses":
                link.lose_responses += count
            else:
                link.lose_requests += count
            self.ctx.audit.intervention(self.ctx.clock.sim_now(), kind)
            return f"the next {count} request(s) get 503 unknown status"
        if kind == "depth_gap":
            self.feed.gaps += 1
            return "the next depth diff follows a missing update"
        if kind == "expire_listen_key":
            key = self.ctx.listen_keys.expire_now()
            if key is not None:
                self.hub.expire(key)
            return "listen key expired" if key else "no listen key to expire"
        self.hub.disconnect_users()
        return "user-data sockets closed"

    async def truth(self, request: web.Request) -> web.Response:
        self._auth(request)
        since = request.query.get("events_since", "0")
        if not since.lstrip("-").isdigit():
            return _error("events_since must be epoch milliseconds")

        def read(now: int) -> dict:
            w = self.ctx.world
            v = w.venue
            cols = w.log.events.cols
            t0 = self.ctx.clock.sim_of_wall(int(since))
            events = [{"time": self.ctx.wall(ts), "kind": k, "source": s, "client_id": c, "detail": d}
                      for ts, k, s, c, d in zip(cols["ts"], cols["kind"], cols["source"], cols["client_id"],
                                                cols["detail"], strict=True) if ts >= t0]
            return {"time": self.ctx.wall(now), "sim_time_ms": now, "symbol": w.symbol,
                    "position": {"qty": str(v.book.qty), "entry": v.book.entry, "mark": v.path.mid_at(now)},
                    "wallet": v.book.wallet, "equity": v.equity(now), "leverage": v.leverage,
                    "open_orders": [order_json(o, self.ctx.wall) for o in v.resting],
                    "orders": len(v.orders), "fills": len(v.fills), "events": events,
                    "audit": self.ctx.audit.summary(now)}
        return web.json_response(await self._in_sim(read), dumps=lambda o: json.dumps(o, default=str))

    async def stop_now(self, request: web.Request) -> web.Response:
        self._auth(request)
        self.stop.set()
        return web.json_response({"stopping": True})


def _error(msg: str) -> web.Response:
    return web.json_response({"error": msg}, status=400)
