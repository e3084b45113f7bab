"""python-binance, configured as the README says, trades and streams against the served venue.

(python-binance is not a dependency of aethersim: the test runs where it is installed.)
"""
from __future__ import annotations

import asyncio

import pytest
from serve_helpers import run, served

binance = pytest.importorskip("binance")


def test_python_binance_as_the_readme_configures_it():
    async def go():
        async with served() as srv:
            c = binance.AsyncClient(srv.api_key.key, srv.api_key.secret)  # not .create(): it asks spot first
            c.FUTURES_URL = srv.base_url + "/fapi"
            try:
                assert float((await c.futures_account())["totalWalletBalance"]) == 10_000
                o = await c.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.01)
                assert (await c.futures_get_order(symbol="BTCUSDT", orderId=o["orderId"]))["status"] == "FILLED"
                pos = await c.futures_position_information(symbol="BTCUSDT")
                assert pos[0]["positionAmt"] == "0.01"
                lim = await c.futures_create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", quantity=0.01,
                                                   price="29000", timeInForce="GTC")
                # python-binance sends a DELETE's parameters in the body: read and signed as received
                cancelled = await c.futures_cancel_order(symbol="BTCUSDT", orderId=lim["orderId"])
                assert cancelled["status"] == "CANCELED"
                bm = binance.BinanceSocketManager(c)
                bm.FSTREAM_URL = f"ws://127.0.0.1:{srv.port}/"
                async with bm.futures_user_socket() as ts:
                    await c.futures_create_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity=0.01)
                    kinds = [(await asyncio.wait_for(ts.recv(), 5))["e"] for _ in range(3)]
                assert kinds.count("ORDER_TRADE_UPDATE") == 2 and "ACCOUNT_UPDATE" in kinds
            finally:
                await c.close_connection()
    run(go())
