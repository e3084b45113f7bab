"""Many concurrent clients on one account (bounded): no lost or duplicated fill (the full load and
its latency figures are `benchmarks/serve_load.py`)."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from decimal import Decimal
from urllib.parse import urlencode

import aiohttp
from serve_helpers import run, scenario, served

from sim.serve import LimitsConfig

CLIENTS, ORDERS = 20, 5


def test_concurrent_clients_lose_and_duplicate_no_fill():
    async def go():
        limits = LimitsConfig(weight_per_minute=100_000, orders_per_10s=100_000, orders_per_minute=100_000)
        async with served(scenario=scenario("../../benchmarks/serve_load.toml"), limits=limits) as srv:
            def signed(params: dict) -> str:
                q = urlencode({**params, "timestamp": int(time.time() * 1000)})
                return q + "&signature=" + hmac.new(srv.api_key.secret.encode(), q.encode(),
                                                    hashlib.sha256).hexdigest()

            answers: dict = {}

            async def client(n: int) -> None:
                async with aiohttp.ClientSession(headers={"X-MBX-APIKEY": srv.api_key.key}) as s:
                    for i in range(ORDERS):
                        body = signed({"symbol": "BTCUSDT", "side": "BUY" if (n + i) % 3 else "SELL",
                                       "type": "MARKET", "quantity": "0.004", "newClientOrderId": f"c{n}-{i}",
                                       "newOrderRespType": "RESULT"})
                        async with s.post(srv.base_url + "/fapi/v1/order", data=body, headers={
                                "Content-Type": "application/x-www-form-urlencoded"}) as r:
                            answers[f"c{n}-{i}"] = (r.status, await r.json())

            await asyncio.gather(*(client(n) for n in range(CLIENTS)))
            url = srv.base_url + "/fapi/v1/userTrades?" + signed({"symbol": "BTCUSDT", "limit": 1000})
            async with aiohttp.ClientSession(headers={"X-MBX-APIKEY": srv.api_key.key}) as s, s.get(url) as r:
                trades = await r.json()
            assert len(answers) == CLIENTS * ORDERS
            assert all(st == 200 and b["status"] == "FILLED" for st, b in answers.values()), answers
            ids = [t["id"] for t in trades]
            assert len(ids) == len(set(ids)) == CLIENTS * ORDERS
            per_order = {t["orderId"]: Decimal(t["qty"]) for t in trades}
            assert all(per_order[b["orderId"]] == Decimal(b["executedQty"]) for _, b in answers.values())
            signed_sum = sum(Decimal(t["qty"]) * (1 if t["side"] == "BUY" else -1) for t in trades)
            assert signed_sum == srv.ctx.world.venue.book.qty
            assert len(srv.ctx.world.venue.fills) == CLIENTS * ORDERS
    run(go(), timeout=90)
