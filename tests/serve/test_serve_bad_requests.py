"""Bad requests get Binance-shaped errors (a code and a message), never a 500 or a traceback,
and the server keeps serving."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import aiohttp
from serve_helpers import run, served


def _signed(srv, params: dict) -> str:
    q = urlencode({**params, "timestamp": int(time.time() * 1000)})
    sig = hmac.new(srv.api_key.secret.encode(), q.encode(), hashlib.sha256).hexdigest()
    return f"{q}&signature={sig}"


CASES = [  # (method, path, params, signed, expected status, expected code)
    ("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}, True, 400, -1102),
    ("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "abc"}, True,
     400, -1100),
    ("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "UP", "type": "MARKET", "quantity": "0.01"}, True,
     400, -1117),
    ("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "BOGUS", "quantity": "0.01"}, True,
     400, -1116),
    ("POST", "/fapi/v1/order", {"symbol": "NOPEUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}, True,
     400, -1121),
    ("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.0101"}, True,
     400, -1111),
    ("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "STOP_MARKET", "quantity": "0.01",
                                "stopPrice": "20000"}, True, 400, -4120),
    ("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01",
                                "price": "30000.05", "timeInForce": "GTC"}, True, 400, -1111),
    ("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.01",
                                "reduceOnly": "true"}, True, 400, -2022),
    ("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01",
                                "reduceOnly": "maybe"}, True, 400, -1130),
    ("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "100"}, True,
     400, -2019),
    ("GET", "/fapi/v1/order", {"symbol": "BTCUSDT"}, True, 400, -1102),
    ("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": "99999"}, True, 400, -2013),
    ("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "origClientOrderId": "nope"}, True, 400, -2011),
    ("GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "7"}, False, 400, -1130),
    ("GET", "/fapi/v1/klines", {"symbol": "BTCUSDT", "interval": "7m"}, False, 400, -1120),
    ("GET", "/fapi/v1/klines", {"symbol": "BTCUSDT", "interval": "1m", "limit": "-3"}, False, 400, -1130),
    ("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": "500"}, True, 400, -1130),
    ("POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"}, True, 400, -1130),
    ("PUT", "/fapi/v1/listenKey", {}, False, 401, -2015),
    ("GET", "/fapi/v1/nowhere", {}, False, 404, -5000),
    ("PATCH", "/fapi/v1/order", {}, False, 405, -5000),
]


def test_bad_requests_get_binance_errors_and_the_server_keeps_serving():
    async def go():
        async with served() as srv, aiohttp.ClientSession() as s:
            key = {"X-MBX-APIKEY": srv.api_key.key}
            for method, path, params, signed, status, code in CASES:
                q = _signed(srv, params) if signed else urlencode(params)
                async with s.request(method, f"{srv.base_url}{path}?{q}", headers=key if signed else {}) as r:
                    body = await r.json(content_type=None)
                    assert (r.status, body.get("code")) == (status, code), (method, path, params, body)
                    assert isinstance(body["msg"], str) and "Traceback" not in body["msg"]
            # the same parameters in a form body (how ccxt sends a POST) are read too
            body = _signed(srv, {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "x"})
            async with s.post(f"{srv.base_url}/fapi/v1/order", data=body, headers={
                    **key, "Content-Type": "application/x-www-form-urlencoded"}) as r:
                assert (r.status, (await r.json())["code"]) == (400, -1100)
            # an oversized body, garbage bytes and JSON where a form is expected
            async with s.post(f"{srv.base_url}/fapi/v1/order", data=b"a=" + b"x" * 200_000, headers=key) as r:
                assert r.status == 413 and (await r.json())["code"] == -1000
            async with s.post(f"{srv.base_url}/fapi/v1/order", data=b"\xff\xfe\x00garbage", headers=key) as r:
                assert r.status == 400 and (await r.json())["code"] == -1100
            async with s.post(f"{srv.base_url}/fapi/v1/order?{_signed(srv, {})}", json={"symbol": "BTCUSDT"},
                              headers=key) as r:
                assert r.status == 400 and (await r.json())["code"] == -1022  # the body is signed too
            # garbage on the socket gets an error frame; the socket and the server stay up
            async with s.ws_connect(f"ws://127.0.0.1:{srv.port}/public/ws/0") as ws:
                for junk in ("{not json", "[1,2]", json.dumps({"method": "SUBSCRIBE", "params": "x", "id": 1}),
                             json.dumps({"method": "EXPLODE", "id": 2}), json.dumps({"method": "SUBSCRIBE"})):
                    await ws.send_str(junk)
                    reply = await ws.receive_json(timeout=5)
                    assert "error" in reply and isinstance(reply["error"]["code"], int)
                await ws.send_bytes(b"\x00\x01")
                assert "error" in await ws.receive_json(timeout=5)
                await ws.send_str(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@markPrice@1s"], "id": 3}))
                assert await ws.receive_json(timeout=5) == {"result": None, "id": 3}
                update = await ws.receive_json(timeout=5)
                assert update["e"] == "markPriceUpdate" and update["s"] == "BTCUSDT"
            async with s.get(f"{srv.base_url}/fapi/v1/ping") as r:
                assert r.status == 200 and await r.json() == {}
            assert srv.ctx.clock.errors == 0
            assert srv.ctx.audit.refused["500 -1000"] == 0
    run(go())


GARBAGE = [
    {},
    {"symbol": "btcusdt", "side": "sell", "type": "market", "quantity": "1e3", "orderId": "abc", "limit": "x",
     "startTime": "-", "leverage": "ten", "algoType": "OCO", "incomeType": "GIFT", "interval": "1y"},
    {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "-5", "timeInForce": "NOW",
     "orderId": "-1", "origClientOrderId": "x" * 40, "algoId": "99999999999999999999", "limit": "0",
     "fromId": "1", "startTime": "1", "dualSidePosition": "yes", "multiAssetsMargin": "1",
     "marginType": "NONE", "triggerPrice": "0", "closePosition": "true", "clientAlgoId": "ok"},
    {"symbol": "BTCUSDT" * 50, "quantity": "99999999999999999999.99999999999999999999", "price": "0.0"},
]


def test_every_route_answers_garbage_with_a_binance_error_never_a_500():
    from sim.serve.routes import ROUTES

    async def go():
        async with served() as srv, aiohttp.ClientSession() as s:
            key = {"X-MBX-APIKEY": srv.api_key.key}
            for route in ROUTES:
                for params in GARBAGE:
                    q = _signed(srv, params)
                    async with s.request(route.method, f"{srv.base_url}{route.path}?{q}", headers=key) as r:
                        body = await r.json(content_type=None)
                        assert r.status < 500, (route.path, params, r.status, body)
                        if r.status >= 400:
                            assert isinstance(body.get("code"), int) and body["msg"], (route.path, body)
            assert srv.ctx.clock.errors == 0
            async with s.get(f"{srv.base_url}/fapi/v1/time") as r:
                assert r.status == 200
    run(go(), timeout=120)
