"""WebSocket streams on every URL form clients use: user data and market streams.

Accepted forms: ``/ws``, ``/ws/<stream>/<stream>...`` (raw), ``/stream?streams=a/b`` (combined,
wrapped as ``{"stream": name, "data": ...}``), the 2026 split ``/{public|market|private}/ws[/<n>]``
and ``/{public|market|private}/stream``, and ``?listenKey=K`` for the user-data stream (a listen
key may also be subscribed as a stream name). ``SUBSCRIBE`` / ``UNSUBSCRIBE`` /
``LIST_SUBSCRIPTIONS`` are answered as Binance does; garbage gets Binance's error frame, never a
closed server. Messages are queued per connection and written by that connection's own task, so
the simulation never waits on a socket.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable

from aiohttp import WSMsgType, web

from sim.serve.context import Ctx

MARKET_STREAM = re.compile(r"^(?P<sym>[a-z0-9]+)@(?P<kind>markPrice(@1s)?|bookTicker|aggTrade|trade|"
                           r"depth(5|10|20)?(@(100|250|500)ms)?|kline_(1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d))$")
SERVER_PING_S = 180.0  # Binance pings every 3 minutes
MAX_QUEUE = 10_000  # a client that stops reading loses its connection, not the server's memory


class Conn:
    def __init__(self, ws: web.WebSocketResponse, combined: bool) -> None:
        self.ws = ws
        self.combined = combined
        self.streams: set[str] = set()
        self.user_key: str | None = None
        self.events: frozenset[str] | None = None  # ``events=A/B`` on a private URL: only those
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()

    def send(self, obj: dict, stream: str) -> None:
        if self.queue.qsize() >= MAX_QUEUE:
            self.queue.put_nowait(None)  # close it
            return
        self.queue.put_nowait(json.dumps({"stream": stream, "data": obj} if self.combined else obj))


class Hub:
    """Every open stream connection, and fan-out of what the venue and the market publish."""

    def __init__(self, ctx: Ctx, server_ms: Callable[[], int]) -> None:
        self.ctx = ctx
        self.server_ms = server_ms
        self.conns: set[Conn] = set()
        self.sent = 0
        self.on_subscribe: Callable[[], None] = lambda: None

    def market_subscribers(self) -> set[str]:
        out: set[str] = set()
        for c in self.conns:
            out |= c.streams
        return out

    def push_user(self, payload: dict) -> None:
        data = dict(payload, E=self.server_ms())
        for c in self.conns:
            if c.user_key is not None and (c.events is None or payload["e"] in c.events):
                c.send(data, c.user_key)
                self.sent += 1

    def push_market(self, stream: str, payload: dict) -> None:
        for c in self.conns:
            if stream in c.streams:
                c.send(payload, stream)
                self.sent += 1

    def disconnect_users(self) -> None:
        """A stream disconnect: every user-data socket is closed (the client must reconnect)."""
        for c in self.conns:
            if c.user_key is not None:
                c.queue.put_nowait(None)

    def expire(self, key: str) -> None:
        for c in self.conns:
            if c.user_key == key:
                c.send({"e": "listenKeyExpired", "E": self.server_ms(), "listenKey": key}, key)
                c.user_key = None

    async def close_all(self) -> None:
        for c in list(self.conns):
            c.queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await c.ws.close()

    # ---------------------------------------------------------------------- the socket
    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        combined = path.endswith("/stream") or "streams" in request.query
        names: list[str] = []
        for prefix in ("/ws/",):
            idx = path.find(prefix)
            if idx >= 0:
                names += [n for n in path[idx + len(prefix):].split("/") if n]
        if "streams" in request.query:
            names += [n for n in request.query["streams"].split("/") if n]
        key = request.query.get("listenKey")
        if key is not None and not self.ctx.listen_keys.valid(key):
            return web.json_response({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
        ws = web.WebSocketResponse(autoping=True, max_msg_size=64 * 1024)
        await ws.prepare(request)
        conn = Conn(ws, combined)
        if key is not None:
            conn.user_key = key
        if request.query.get("events"):
            conn.events = frozenset(e for e in request.query["events"].split("/") if e)
        for n in names:
            self._subscribe(conn, n)
        self.conns.add(conn)
        writer = asyncio.ensure_future(self._writer(conn))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    reply = self._command(conn, msg.data)
                    if reply is not None:
                        conn.queue.put_nowait(json.dumps(reply))
                elif msg.type == WSMsgType.BINARY:
                    conn.queue.put_nowait(json.dumps({"error": {"code": 3, "msg": "Invalid JSON: binary frame"},
                                                      "id": None}))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.conns.discard(conn)
            conn.queue.put_nowait(None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        return ws

    async def _writer(self, conn: Conn) -> None:
        ws = conn.ws
        try:
            while True:
                try:
                    item = await asyncio.wait_for(conn.queue.get(), SERVER_PING_S)
                except TimeoutError:
                    await ws.ping()
                    continue
                if item is None:
                    await ws.close()
                    return
                await ws.send_str(item)
        except (ConnectionResetError, RuntimeError):
            return

    def _subscribe(self, conn: Conn, name: str) -> bool:
        if name.isdigit():  # ccxt's connection index after /ws
            return True
        if self.ctx.listen_keys.valid(name):
            conn.user_key = name
            return True
        m = MARKET_STREAM.match(name)
        if m is None or m.group("sym") != self.ctx.world.symbol.lower():
            return False
        conn.streams.add(name)
        self.on_subscribe()
        return True

    def _command(self, conn: Conn, text: str) -> dict | None:
        try:
            msg = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return {"error": {"code": 3, "msg": f"Invalid JSON: {exc}"}, "id": None}
        if not isinstance(msg, dict):
            return {"error": {"code": 2, "msg": "Invalid request: expected an object"}, "id": None}
        rid = msg.get("id")
        if not isinstance(rid, int | str) or isinstance(rid, bool):
            return {"error": {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"},
                    "id": None}
        method, params = msg.get("method"), msg.get("params", [])
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": sorted(conn.streams | ({conn.user_key} if conn.user_key else set())), "id": rid}
        if method in ("SET_PROPERTY", "GET_PROPERTY"):
            return {"result": True if method == "GET_PROPERTY" else None, "id": rid}
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return {"error": {"code": 2, "msg": f"Invalid request: unknown variant {method!r}, expected one of "
                              "SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY"}, "id": rid}
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            return {"error": {"code": 2, "msg": "Invalid request: params must be a list of stream names"}, "id": rid}
        for p in params:
            if method == "SUBSCRIBE":
                if not self._subscribe(conn, p):
                    return {"error": {"code": 2, "msg": f"Invalid request: unknown stream {p!r}"}, "id": rid}
            elif p == conn.user_key:
                conn.user_key = None
            else:
                conn.streams.discard(p)
        return {"result": None, "id": rid}


WS_PATHS = ("/ws", "/ws/{tail:.*}", "/stream", "/{area:(public|market|private)}/ws",
            "/{area:(public|market|private)}/ws/{tail:.*}", "/{area:(public|market|private)}/stream")
