"""Market data as ccxt reads it: candles with history, the book, the ticker, funding; and the streams."""
from __future__ import annotations

import asyncio

import pytest
from serve_helpers import SYMBOL, client, run, served


def test_history_gives_candles_and_the_streams_follow_the_path():
    async def go():
        async with served(history_ms=2 * 3_600_000) as srv, client(srv) as ex:
            await ex.load_markets()
            candles = await ex.fetch_ohlcv(SYMBOL, "1m", limit=100)
            assert len(candles) == 100
            times = [c[0] for c in candles]
            assert times == sorted(times) and all(b - a == 60_000 for a, b in zip(times, times[1:], strict=False))
            assert all(c[3] <= min(c[1], c[4]) and c[2] >= max(c[1], c[4]) for c in candles)
            path = srv.ctx.world.venue.path
            assert candles[0][1] == pytest.approx(path.mid_at(srv.ctx.clock.sim_of_wall(candles[0][0])), rel=1e-9)
            book = await ex.fetch_order_book(SYMBOL, 10)
            assert len(book["bids"]) == 10 and book["bids"][0][0] < book["asks"][0][0]
            ticker = await ex.fetch_ticker(SYMBOL)
            assert book["bids"][0][0] <= ticker["last"] <= book["asks"][0][0]
            rate = await ex.fetch_funding_rate(SYMBOL)
            assert rate["fundingRate"] == pytest.approx(0.0001)
            mark = await asyncio.wait_for(ex.watch_mark_price(SYMBOL), 10)
            assert mark["markPrice"] == pytest.approx(ticker["last"], rel=0.01)
            ob = await asyncio.wait_for(ex.watch_order_book(SYMBOL), 10)  # synchronised with U/u/pu
            for _ in range(3):
                ob = await asyncio.wait_for(ex.watch_order_book(SYMBOL), 10)
            assert ob["bids"][0][0] < ob["asks"][0][0], (ob["nonce"], ob["bids"][:3], ob["asks"][:3])
            trades = await asyncio.wait_for(ex.watch_trades(SYMBOL), 10)
            assert trades and trades[-1]["price"] > 0
    run(go())
