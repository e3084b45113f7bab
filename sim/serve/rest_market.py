"""Market-data and general routes: ping, time, exchangeInfo, depth, klines, tickers, premiumIndex, funding.

All of them travel to the venue through the transport like any request (latency, outages).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

from sim.core.messages import CandlesReport, FetchCandles, FetchTicker, Ticker
from sim.serve.binance import KLINE_INTERVALS, num, symbol_json
from sim.serve.context import Ctx
from sim.serve.errors import bad
from sim.serve.params import Params
from sim.world.liquidity import DepthProfile

DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)


def depth_levels(profile: DepthProfile, mid: float, n: int, tick: Decimal) -> tuple[list, list]:
    """The ladder's first ``n`` levels each side, prices on the tick grid (levels on one tick merged)."""
    k = np.arange(profile.levels + 1, dtype=float)
    sizes = np.diff(profile.level0_qty * k**profile.depth_exponent)  # level k holds l0 * ((k+1)^e - k^e)
    h, s = 0.5 * profile.spread_bps, profile.level_step_bps
    out = []
    for sign in (-1.0, 1.0):
        side: dict[Decimal, float] = {}
        for k in range(min(profile.levels, n * 4)):
            px = mid * (1 + sign * (h + s * k) * 1e-4)
            p = (Decimal(repr(px)) / tick).to_integral_value() * tick
            side[p] = side.get(p, 0.0) + float(sizes[k])
            if len(side) > n:
                side.pop(p)
                break
        out.append([[num(p), num(q, 3)] for p, q in side.items()][:n])
    return out[0], out[1]


async def ping(ctx: Ctx, p: Params) -> Any:
    return await ctx.link.call(lambda now: {}, "ping")


async def server_time(ctx: Ctx, p: Params) -> Any:
    return await ctx.link.call(lambda now: {"serverTime": ctx.clock.server_ms()}, "time")


def exchange_info_body(ctx: Ctx) -> dict:
    w = ctx.world
    v = w.venue
    inst = v.instrument
    max_price = inst.price(float(np.max(v.path.mid)) * 10)
    mmr = v.margin.tiers[0].mmr
    return {"timezone": "UTC", "serverTime": ctx.clock.server_ms(), "futuresType": "U_MARGINED",
            "rateLimits": ctx.limiter.config.rate_limits(), "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": [symbol_json(inst, v.rules.price_band_pct, mmr, max_price, ctx.wall(w.start_ms))]}


async def exchange_info(ctx: Ctx, p: Params) -> Any:
    return await ctx.link.call(lambda now: exchange_info_body(ctx), "exchangeInfo")


def book_body(ctx: Ctx, now: int, limit: int) -> dict:
    v = ctx.world.venue
    mid = v.path.mid_at(now)
    bids, asks = depth_levels(v.liquidity.at(now), mid, limit, v.instrument.tick_size)
    t = ctx.wall(now)
    return {"lastUpdateId": ctx.world.venue.path.index_at(now) + 1, "E": t, "T": t, "bids": bids, "asks": asks}


async def depth(ctx: Ctx, p: Params) -> Any:
    ctx.symbol(p)
    limit = p.int("limit", default=500)
    if limit not in DEPTH_LIMITS:
        raise bad(-1130, f"Data sent for parameter 'limit' is not valid. Use one of {DEPTH_LIMITS}.")
    return await ctx.link.call(lambda now: book_body(ctx, now, limit), "depth")


async def klines(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p)
    interval = p.choice("interval", tuple(KLINE_INTERVALS), required=True, code=-1120)
    iv = KLINE_INTERVALS[interval]  # type: ignore[index]
    limit = p.int("limit", default=500, lo=1, hi=1500)
    start, end = p.int("startTime"), p.int("endTime")
    w = ctx.world
    if iv % w.venue.path.tick_ms:
        raise bad(-1120, f"Invalid interval: {interval} is not a multiple of the market's tick.")

    def act(now: int) -> list:
        hi = now if end is None else min(now, ctx.clock.sim_of_wall(end))
        if start is not None:
            since = ctx.clock.sim_of_wall(start)
        else:
            since = hi - iv * limit
        since = max(w.start_ms, since)
        since = w.start_ms + -(-(since - w.start_ms) // iv) * iv  # align up to the run's candle grid
        rep = w.venue.handle(FetchCandles(sym, iv, since, limit), now)  # type: ignore[arg-type]
        assert isinstance(rep, CandlesReport)
        rows = [_kline(ctx, c.open_ms, iv, c.open, c.high, c.low, c.close) for c in rep.candles
                if c.open_ms + iv <= hi]
        current = w.start_ms + (hi - w.start_ms) // iv * iv  # the candle still open, as Binance lists it
        if current >= since and hi == now:
            path = w.venue.path
            seg = path.mid[path.index_at(current): path.index_at(now) + 1]
            rows.append(_kline(ctx, current, iv, float(seg[0]), float(seg.max()), float(seg.min()), float(seg[-1])))
        return rows[-limit:] if start is None else rows[:limit]

    return await ctx.link.call(act, "klines")


def _kline(ctx: Ctx, open_ms: int, iv: int, o: float, h: float, lo: float, c: float) -> list:
    """One kline row; volumes are 0: the model has prices and depth but no traded volume."""
    return [ctx.wall(open_ms), num(o), num(h), num(lo), num(c), "0", ctx.wall(open_ms + iv) - 1, "0", 0, "0", "0",
            "0"]


def _ticker(ctx: Ctx, now: int) -> Ticker:
    t = ctx.world.venue.handle(FetchTicker(ctx.world.symbol), now)
    assert isinstance(t, Ticker)
    return t


async def ticker_price(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p, required=False)

    def act(now: int) -> Any:
        t = _ticker(ctx, now)
        body = {"symbol": ctx.world.symbol, "price": num(t.last), "time": ctx.wall(now)}
        return body if sym else [body]
    return await ctx.link.call(act, "ticker/price")


async def book_ticker(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p, required=False)

    def act(now: int) -> Any:
        v = ctx.world.venue
        t = _ticker(ctx, now)
        bids, asks = depth_levels(v.liquidity.at(now), t.mark, 1, v.instrument.tick_size)
        body = {"symbol": ctx.world.symbol, "bidPrice": bids[0][0], "bidQty": bids[0][1], "askPrice": asks[0][0],
                "askQty": asks[0][1], "time": ctx.wall(now), "lastUpdateId": v.path.index_at(now) + 1}
        return body if sym else [body]
    return await ctx.link.call(act, "ticker/bookTicker")


async def ticker_24hr(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p, required=False)

    def act(now: int) -> Any:
        v = ctx.world.venue
        path = v.path
        i0, i1 = path.index_at(now - 86_400_000), path.index_at(now)
        seg = path.mid[i0:i1 + 1]
        t = _ticker(ctx, now)
        o = float(seg[0])
        body = {"symbol": ctx.world.symbol, "priceChange": num(t.last - o), "priceChangePercent":
                num((t.last / o - 1) * 100, 3), "weightedAvgPrice": num(float(seg.mean())), "lastPrice": num(t.last),
                "lastQty": "0", "openPrice": num(o), "highPrice": num(float(seg.max())),
                "lowPrice": num(float(seg.min())), "volume": "0", "quoteVolume": "0",
                "openTime": ctx.wall(path.time_of(i0)), "closeTime": ctx.wall(now), "firstId": 0, "lastId": 0,
                "count": 0}
        return body if sym else [body]
    return await ctx.link.call(act, "ticker/24hr")


def premium_body(ctx: Ctx, now: int) -> dict:
    w = ctx.world
    mark = w.venue.path.mid_at(now)
    iv = _interval_ms(ctx)
    nxt = (now // iv + 1) * iv
    return {"symbol": w.symbol, "markPrice": num(mark), "indexPrice": num(mark), "estimatedSettlePrice": num(mark),
            "lastFundingRate": num(w.funding_rate, 8), "interestRate": "0", "nextFundingTime": ctx.wall(nxt),
            "time": ctx.wall(now)}


def _interval_ms(ctx: Ctx) -> int:
    from sim.scenario.schema import ms
    return ms(ctx.world.scenario.exchange.funding_interval)


async def premium_index(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p, required=False)
    return await ctx.link.call(lambda now: premium_body(ctx, now) if sym else [premium_body(ctx, now)],
                               "premiumIndex")


async def funding_rate(ctx: Ctx, p: Params) -> Any:
    ctx.symbol(p, required=False)
    limit = p.int("limit", default=100, lo=1, hi=1000)
    start, end = p.int("startTime"), p.int("endTime")

    def act(now: int) -> list:
        rows = [{"symbol": ctx.world.symbol, "fundingRate": num(rate, 8), "fundingTime": ctx.wall(t),
                 "markPrice": num(mark)} for t, rate, mark in ctx.world.funding
                if (start is None or ctx.wall(t) >= start) and (end is None or ctx.wall(t) <= end)]
        return rows[:limit] if start is not None else rows[-limit:]
    return await ctx.link.call(act, "fundingRate")


async def funding_info(ctx: Ctx, p: Params) -> Any:
    hours = _interval_ms(ctx) // 3_600_000
    body = [{"symbol": ctx.world.symbol, "adjustedFundingRateCap": "0.05",  # the scenario schema's bounds
             "adjustedFundingRateFloor": "-0.05", "fundingIntervalHours": hours, "disclaimer": False}]
    return await ctx.link.call(lambda now: body, "fundingInfo")
