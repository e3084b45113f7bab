"""Faults as a client really sees them: 503 unknown status, outage, 429 then 418, lost stream messages."""
from __future__ import annotations

import asyncio

import aiohttp
import ccxt
import pytest
from serve_helpers import SYMBOL, client, operator, run, served

from sim.serve import LimitsConfig


def test_a_503_unknown_status_is_resolved_by_looking_the_order_up():
    async def go():
        async with served() as srv, client(srv) as ex:
            await ex.load_markets()
            await operator(srv, "POST", "/operator/event", {"kind": "lose_responses", "count": 1})
            cid = "mybot-1-en-0"
            with pytest.raises(ccxt.ExchangeNotAvailable, match="Unknown error"):
                await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": cid})
            # the venue did act: the lookup by client id shows the order filled
            order = await ex.fetch_order(None, SYMBOL, {"clientOrderId": cid})
            assert order["status"] == "closed" and order["filled"] == pytest.approx(0.01)
            pos = await ex.fetch_positions([SYMBOL])
            assert pos[0]["contracts"] == pytest.approx(0.01)
            # a lost *request* never reached the venue: the lookup says so (-2013), nothing was placed
            await operator(srv, "POST", "/operator/event", {"kind": "lose_requests", "count": 1})
            with pytest.raises(ccxt.ExchangeNotAvailable):
                await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "mybot-2-en-0"})
            with pytest.raises(ccxt.OrderNotFound):
                await ex.fetch_order(None, SYMBOL, {"clientOrderId": "mybot-2-en-0"})
            audit = srv.ctx.audit.summary(0)
            assert audit["unknown_never_resolved"] == 0 and audit["orders_while_unknown"] == 0
    run(go())


def test_an_order_sent_before_the_unknown_one_is_looked_up_is_audited():
    async def go():
        async with served() as srv, client(srv) as ex:
            await ex.load_markets()
            await operator(srv, "POST", "/operator/event", {"kind": "lose_responses", "count": 1})
            with pytest.raises(ccxt.ExchangeNotAvailable):
                await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "b-1-en-0"})
            await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "b-1-en-1"})  # blind retry
            price = round((await ex.fetch_ticker(SYMBOL))["last"] * 0.98, 1)
            await ex.create_order(SYMBOL, "limit", "buy", 0.01, price, {"clientOrderId": "b-2-en-0"})
            with pytest.raises(ccxt.InvalidOrder, match="-4116"):  # an open order has that id: refused
                await ex.create_order(SYMBOL, "limit", "buy", 0.01, price, {"clientOrderId": "b-2-en-0"})
            audit = srv.ctx.audit.summary(0)
            assert audit["orders_while_unknown"] == 3
            assert audit["second_orders_same_client_id"] == 1
            assert audit["unknown_never_resolved"] == 1
            assert audit["requests_refused"]["503"] == 1 and audit["requests_refused"]["400 -4116"] == 1
    run(go())


def test_an_outage_answers_service_unavailable():
    async def go():
        async with served() as srv, client(srv) as ex:
            await ex.load_markets()
            await operator(srv, "POST", "/operator/event", {"kind": "outage", "duration": "2s"})
            with pytest.raises(ccxt.ExchangeNotAvailable, match="Service Unavailable"):
                await ex.fetch_balance()
            await asyncio.sleep(2.2)
            assert (await ex.fetch_balance())["USDT"]["total"] > 0
    run(go())


def test_rate_limits_answer_429_with_retry_after_then_418():
    async def go():
        limits = LimitsConfig(weight_per_minute=20, ignored_429s_before_ban=2)
        async with served(limits=limits) as srv, aiohttp.ClientSession() as s:
            statuses, used = [], []
            for _ in range(25):
                async with s.get(f"{srv.base_url}/fapi/v1/time") as r:
                    statuses.append(r.status)
                    used.append(r.headers.get("X-MBX-USED-WEIGHT-1M"))
                    if r.status in (429, 418):
                        assert int(r.headers["Retry-After"]) >= 1
                        assert (await r.json())["code"] == -1003
            assert statuses[:20] == [200] * 20 and used[19] == "20"
            assert statuses[20] == 429 and 418 in statuses[21:]
            info = None
            async with s.get(f"{srv.base_url}/fapi/v1/exchangeInfo") as r:
                assert r.status == 418
            srv.ctx.limiter.ips.clear()  # the ban lifted (instead of waiting two minutes)
            async with s.get(f"{srv.base_url}/fapi/v1/exchangeInfo") as r:
                info = await r.json()
            assert {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 20} in \
                info["rateLimits"]
    run(go())


def test_a_stream_disconnect_closes_the_user_socket_and_drops_updates():
    async def go():
        async with served() as srv, aiohttp.ClientSession() as s:
            headers = {"X-MBX-APIKEY": srv.api_key.key}
            async with s.post(f"{srv.base_url}/fapi/v1/listenKey", headers=headers) as r:
                key = (await r.json())["listenKey"]
            async with s.post(f"{srv.base_url}/fapi/v1/listenKey", headers=headers) as r:
                assert (await r.json())["listenKey"] == key  # one key per account, extended
            async with s.ws_connect(f"ws://127.0.0.1:{srv.port}/ws/{key}") as ws:
                await operator(srv, "POST", "/operator/event", {"kind": "drop_updates", "duration": "5s"})
                msg = await ws.receive(timeout=5)
                assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
            await operator(srv, "POST", "/operator/event", {"kind": "expire_listen_key"})
            async with s.put(f"{srv.base_url}/fapi/v1/listenKey", headers=headers) as r:
                assert r.status == 400 and (await r.json())["code"] == -1125
    run(go())


def test_operator_refuses_what_it_cannot_apply_and_needs_its_token():
    async def go():
        async with served() as srv, aiohttp.ClientSession() as s:
            url = f"{srv.base_url}/operator/event"
            async with s.post(url, json={"kind": "external_close"}) as r:
                assert r.status == 401
            auth = {"Authorization": f"Bearer {srv.operator_token}"}
            for body, words in (({"kind": "bot_crash"}, "your client"), ({"kind": "teleport"}, "not a valid event"),
                                ({"kind": "outage"}, "duration"), ({"kind": "price_gap", "pct": 0.1}, "scenario")):
                async with s.post(url, json=body, headers=auth) as r:
                    assert r.status == 400 and words in (await r.json())["error"]
            async with s.post(url, data=b"{oops", headers=auth) as r:
                assert r.status == 400
    run(go())


def test_a_depth_gap_breaks_the_update_id_chain_once():
    async def go():
        async with served(speed=5.0) as srv, aiohttp.ClientSession() as s, \
                s.ws_connect(f"ws://127.0.0.1:{srv.port}/ws/btcusdt@depth@100ms") as ws:
            diffs = [await ws.receive_json(timeout=5) for _ in range(3)]
            await operator(srv, "POST", "/operator/event", {"kind": "depth_gap"})
            diffs += [await ws.receive_json(timeout=5) for _ in range(4)]
            breaks = [b for a, b in zip(diffs, diffs[1:], strict=False) if b["pu"] != a["u"]]
            assert len(breaks) == 1 and breaks[0]["pu"] > [a for a in diffs if a["u"] < breaks[0]["u"]][-1]["u"]
    run(go())
