"""Helpers for the serve tests: a served venue on a free loopback port, and ccxt pointed at it.

Every test runs its coroutine under a hard time bound (`run`), so a hang fails instead of waiting.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import ccxt.pro as ccxtpro

import sim
from sim.serve import ServeServer

HERE = Path(__file__).resolve().parent
SYMBOL = "BTC/USDT:USDT"


def run(coro: Any, timeout: float = 60.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def scenario(name: str = "serve.toml") -> sim.Scenario:
    return sim.load_scenario(HERE / name)


@asynccontextmanager
async def served(**kw: Any) -> AsyncIterator[ServeServer]:
    sc = kw.pop("scenario", None) or scenario()
    srv = ServeServer(sc, host="127.0.0.1", port=0, **kw)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@asynccontextmanager
async def client(srv: ServeServer, **overrides: Any) -> AsyncIterator[Any]:
    """ccxt.pro's binanceusdm configured as a user would (README), futures error classes kept."""
    cfg = srv.ccxt_config()
    cfg.update(overrides)
    ex = ccxtpro.binanceusdm(cfg)
    ex.exceptions["exact"].update(ex.exceptions["linear"]["exact"])
    try:
        yield ex
    finally:
        await ex.close()


async def operator(srv: ServeServer, method: str, path: str, body: dict | None = None) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.request(
            method, srv.base_url + path, json=body,
            headers={"Authorization": f"Bearer {srv.operator_token}"}) as r:
        assert r.status == 200, await r.text()
        return await r.json()
