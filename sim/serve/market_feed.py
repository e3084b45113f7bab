"""Market streams from the price path and the depth ladder: markPrice, bookTicker, aggTrade, depth, kline.

A SimPy process steps at the path's tick (at least 100 ms) and only while someone subscribes,
so an idle server costs nothing per tick. Depth diffs carry Binance's ``U``/``u``/``pu``: one
update id per tick of the path, the same ids the REST snapshot's ``lastUpdateId`` uses, so a
client can synchronise its book as against Binance (a diff after a restart of the feed starts from
the book one update before). Trades: one at the last price whenever it changes, of the book's
touch size (the model has prices and depth, no traded volume).
"""
from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.serve.binance import KLINE_INTERVALS, num
from sim.serve.context import Ctx
from sim.serve.rest_market import depth_levels
from sim.serve.streams import Hub

DIFF_LEVELS = 100  # depth diffs cover this many levels a side


class MarketFeed:
    def __init__(self, ctx: Ctx, hub: Hub) -> None:
        self.ctx = ctx
        self.hub = hub
        self.running = False
        self.step_ms = max(ctx.world.venue.path.tick_ms, 100)
        self._levels: tuple[dict, dict] | None = None
        self._u = 0
        self._last: float | None = None
        self._agg = 0
        self._book: tuple | None = None
        self.events = 0
        self.gaps = 0  # the operator's depth_gap: diffs to send with a missing update before them

    def ensure_running(self) -> None:
        if not self.running:
            self.running = True
            self.ctx.clock.schedule(self.ctx.clock.sim_now(), self._start)

    def _start(self) -> None:
        self.ctx.world.env.process(self._run())

    def _run(self) -> Generator[simpy.Event, None, None]:
        env = self.ctx.world.env
        while True:
            subs = self.hub.market_subscribers()
            if not subs:
                self.running = False
                self._levels = None
                return
            self.publish(int(env.now), subs)
            self.events += 1
            yield env.timeout(self.step_ms - int(env.now) % self.step_ms)

    def publish(self, now: int, subs: set[str]) -> None:
        w, wall = self.ctx.world, self.ctx.wall
        v = w.venue
        sym, lo = w.symbol, w.symbol.lower()
        path = v.path
        mark = path.mid_at(now)
        t = wall(now)
        e = self.hub.server_ms()
        profile = v.liquidity.at(now)
        idx = path.index_at(now)
        for s in subs:
            kind = s.split("@", 1)[1]
            if kind.startswith("markPrice") and (kind.endswith("@1s") or now % 3000 < self.step_ms):
                if kind.endswith("@1s") and now % 1000 >= self.step_ms:
                    continue
                self.hub.push_market(s, {"e": "markPriceUpdate", "E": e, "s": sym, "p": num(mark), "i": num(mark),
                                         "P": num(mark), "r": num(w.funding_rate, 8),
                                         "T": wall(_next_funding(self.ctx, now))})
            elif kind.startswith("kline_"):
                iv = KLINE_INTERVALS[kind[6:]]
                open_ms = w.start_ms + (now - w.start_ms) // iv * iv
                seg = path.mid[path.index_at(open_ms): idx + 1]
                self.hub.push_market(s, {"e": "kline", "E": e, "s": sym, "k": {
                    "t": wall(open_ms), "T": wall(open_ms + iv) - 1, "s": sym, "i": kind[6:], "f": 0, "L": 0,
                    "o": num(float(seg[0])), "c": num(float(seg[-1])), "h": num(float(seg.max())),
                    "l": num(float(seg.min())), "v": "0", "n": 0, "x": now + self.step_ms >= open_ms + iv,
                    "q": "0", "V": "0", "Q": "0", "B": "0"}})
        if any("@bookTicker" in s for s in subs):
            bids, asks = depth_levels(profile, mark, 1, v.instrument.tick_size)
            book = (bids[0], asks[0])
            if book != self._book:
                self._book = book
                self.hub.push_market(f"{lo}@bookTicker", {"e": "bookTicker", "u": idx + 1, "E": e, "T": t, "s": sym,
                                                          "b": bids[0][0], "B": bids[0][1], "a": asks[0][0],
                                                          "A": asks[0][1]})
        if any(s.endswith(("@aggTrade", "@trade")) for s in subs):
            last = path.price_at("last", now)
            if last != self._last:
                self._last = last
                self._agg += 1
                q, a = num(profile.level0_qty, 3), self._agg
                buyer_maker = last < mark  # a trade at the bid: the seller took
                self.hub.push_market(f"{lo}@aggTrade", {"e": "aggTrade", "E": e, "s": sym, "a": a, "p": num(last),
                                                        "q": q, "nq": q, "f": a, "l": a, "T": t, "m": buyer_maker})
                self.hub.push_market(f"{lo}@trade", {"e": "trade", "E": e, "T": t, "s": sym, "t": a, "p": num(last),
                                                     "q": q, "X": "MARKET", "m": buyer_maker})
        depth_subs = [s for s in subs if "@depth" in s]
        if depth_subs:
            self._depth(depth_subs, profile, mark, idx, t, e)

    def _depth(self, subs: list[str], profile: object, mark: float, idx: int, t: int, e: int) -> None:
        v = self.ctx.world.venue
        bids, asks = depth_levels(profile, mark, DIFF_LEVELS, v.instrument.tick_size)  # type: ignore[arg-type]
        new = ({p: q for p, q in bids}, {p: q for p, q in asks})
        u = idx + 1
        if self._levels is not None and u == self._u:
            return  # the path has not moved: nothing changed
        if self._levels is None:  # the first diff after a (re)start: from the book one update before
            prev = v.path.time_of(max(idx - 1, 0))
            pb, pa = depth_levels(v.liquidity.at(prev), v.path.mid_at(prev), DIFF_LEVELS, v.instrument.tick_size)
            self._levels, self._u = ({p: q for p, q in pb}, {p: q for p, q in pa}), u - 1
        old = self._levels
        diff = []
        for side_new, side_old in zip(new, old, strict=True):
            changes = [[p, q] for p, q in side_new.items() if side_old.get(p) != q]
            changes += [[p, "0"] for p in side_old if p not in side_new]
            diff.append(changes)
        pu = self._u
        self._levels, self._u = new, u
        if self.gaps:  # a lost diff: the next one names (pu) this update, which the client never gets
            self.gaps -= 1
            return
        sym = self.ctx.world.symbol
        for s in subs:
            kind = s.split("@", 1)[1]
            n = kind[5:].split("@")[0]
            if n:  # partial book stream: the top n levels, whole
                body = {"e": "depthUpdate", "E": e, "T": t, "s": sym, "U": pu + 1, "u": u, "pu": pu,
                        "b": bids[:int(n)], "a": asks[:int(n)]}
            else:
                body = {"e": "depthUpdate", "E": e, "T": t, "s": sym, "U": pu + 1, "u": u, "pu": pu,
                        "b": diff[0], "a": diff[1]}
            self.hub.push_market(s, body)


def _next_funding(ctx: Ctx, now: int) -> int:
    from sim.scenario.schema import ms
    iv = ms(ctx.world.scenario.exchange.funding_interval)
    return (now // iv + 1) * iv
