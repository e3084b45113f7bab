"""Load on `aethersim serve`: many concurrent clients on loopback, and what the server adds.

Starts the real command (``aethersim serve benchmarks/serve_load.toml``) in its own process, then
``--clients`` concurrent clients each send ``--orders`` signed market orders (alternating sides,
unique client ids, one HTTP connection each; Binance's order-rate limits are lifted with
``--limits`` so that the server, not the limit, is measured). The scenario has no simulated
latency, so the round trip a client measures is the server's own cost plus loopback. Afterwards
every fill is checked against the venue's trade history: none lost, none duplicated, each order's
fills summing to its executed quantity, the position equal to the signed sum.

    python benchmarks/serve_load.py [--clients 50] [--orders 20]
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
KEY, SECRET = "loadkey", "loadsecret"


def signed(params: dict) -> str:
    q = urlencode({**params, "timestamp": int(time.time() * 1000), "recvWindow": 60000})
    return q + "&signature=" + hmac.new(SECRET.encode(), q.encode(), hashlib.sha256).hexdigest()


async def one_client(base: str, n: int, orders: int, rtts: list[float], answers: dict) -> None:
    async with aiohttp.ClientSession(headers={"X-MBX-APIKEY": KEY}) as s:
        for i in range(orders):
            cid = f"load-{n}-{i}"
            body = signed({"symbol": "BTCUSDT", "side": "BUY" if (n + i) % 2 == 0 else "SELL", "type": "MARKET",
                           "quantity": "0.004", "newClientOrderId": cid, "newOrderRespType": "RESULT"})
            t0 = time.perf_counter()
            async with s.post(base + "/fapi/v1/order", data=body,
                              headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
                answers[cid] = (r.status, await r.json())
            rtts.append((time.perf_counter() - t0) * 1000)


async def history(base: str) -> tuple[list, list, dict]:
    async with aiohttp.ClientSession(headers={"X-MBX-APIKEY": KEY}) as s:
        trades: list = []
        from_id = 0
        while True:
            async with s.get(base + "/fapi/v1/userTrades?" + signed({"symbol": "BTCUSDT", "fromId": from_id,
                                                                    "limit": 1000})) as r:
                page = await r.json()
            trades += page
            if len(page) < 1000:
                break
            from_id = page[-1]["id"] + 1
        orders: list = []
        while True:
            start = orders[-1]["orderId"] + 1 if orders else 0
            async with s.get(base + "/fapi/v1/allOrders?" + signed({"symbol": "BTCUSDT", "limit": 1000,
                                                                     "orderId": start})) as r:
                page = await r.json()
            orders += page
            if len(page) < 1000:
                break
        async with s.get(base + "/fapi/v3/positionRisk?" + signed({})) as r:
            pos = await r.json()
    return trades, orders, pos[0] if pos else {"positionAmt": "0"}


def check(answers: dict, trades: list, orders: list, pos: dict, expected: int) -> dict:
    """Every answer FILLED, every fill in the history once, fills summing to each order's quantity."""
    problems = []
    ok = {cid: b for cid, (st, b) in answers.items() if st == 200}
    if len(answers) != expected:
        problems.append(f"{expected - len(answers)} orders got no answer")
    problems += [f"{cid}: {st} {b}" for cid, (st, b) in answers.items() if st != 200][:5]
    ids = [t["id"] for t in trades]
    if len(ids) != len(set(ids)):
        problems.append(f"{len(ids) - len(set(ids))} duplicated trade ids")
    by_order: dict[int, Decimal] = {}
    for t in trades:
        by_order[t["orderId"]] = by_order.get(t["orderId"], Decimal(0)) + Decimal(t["qty"])
    for cid, b in ok.items():
        if b["status"] != "FILLED" or by_order.get(b["orderId"], Decimal(0)) != Decimal(b["executedQty"]):
            problems.append(f"{cid}: answered {b['status']} {b['executedQty']}, history has "
                            f"{by_order.get(b['orderId'])}")
    signed_sum = sum(Decimal(t["qty"]) * (1 if t["side"] == "BUY" else -1) for t in trades)
    if signed_sum != Decimal(pos["positionAmt"]):
        problems.append(f"position {pos['positionAmt']} != signed sum of fills {signed_sum}")
    if len(orders) != len(ok):
        problems.append(f"allOrders lists {len(orders)} orders, {len(ok)} were accepted")
    return {"orders": len(answers), "filled": sum(1 for b in ok.values() if b["status"] == "FILLED"),
            "fills": len(trades), "problems": problems}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main(clients: int, orders: int) -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    out = ROOT / "reports" / "serve" / "load"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "serve", str(ROOT / "benchmarks/serve_load.toml"),
                             "--port", str(port), "--api-key", KEY, "--api-secret", SECRET, "--out", str(out),
                             "--duration", "10m",
                             "--limits", "1000000,1000000,1000000"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        async with aiohttp.ClientSession() as s:
            for _ in range(200):
                try:
                    async with s.get(base + "/fapi/v1/ping") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
            else:
                raise SystemExit("the server did not start: " + proc.stderr.read().decode()[-2000:])
        rtts: list[float] = []
        answers: dict = {}
        t0 = time.perf_counter()
        await asyncio.gather(*(one_client(base, n, orders, rtts, answers) for n in range(clients)))
        wall = time.perf_counter() - t0
        trades, listed, pos = await history(base)
        result = check(answers, trades, listed, pos, clients * orders)
        q = statistics.quantiles(rtts, n=100)
        result.update(clients=clients, wall_s=round(wall, 2), orders_per_s=round(len(rtts) / wall, 1),
                      rtt_ms_p50=round(q[49], 2), rtt_ms_p90=round(q[89], 2), rtt_ms_p99=round(q[98], 2),
                      rtt_ms_max=round(max(rtts), 2))
        print(json.dumps(result, indent=2))
        return 0 if not result["problems"] else 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--orders", type=int, default=20)
    a = ap.parse_args()
    sys.exit(asyncio.run(main(a.clients, a.orders)))
