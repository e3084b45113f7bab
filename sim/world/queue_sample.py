"""A simulated sample of passive fills: back-of-queue orders resting near the touch of a scenario's market.

The check of the queue model against real data (`sim.market.passive_fill`) needs the same
statistic on simulated output. This runs the scenario's venue (its price path, book and queue
model) with a simple maker: one limit order of ``size`` a side, ``offset`` ticks behind the touch
(cycling through 1 to ``max_offset``), replaced when filled or when the market has moved more than
``far`` ticks away. Every arrival of the market at one of its orders' levels is logged by the queue
model (`Touch`), and every fill with the mid after it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from sim.core.messages import SubmitOrder
from sim.core.types import ClientOrderId, OrderType, Side
from sim.world.build import depth_profile, instrument_of, price_path
from sim.world.exchange import SimExchange, VenueRules
from sim.world.liquidity import LiquiditySchedule
from sim.world.queue_position import PositionQueue, Touch
from sim.world.queue_setup import queue_model
from sim.world.rng import RunStreams


class _Quiet:
    """The venue's observer: this sample reads the queue model's logs, not the venue's events."""

    def on_order(self, ts, order, what, detail=""):  # noqa: ANN001
        pass

    def on_reject(self, ts, request, reason, detail):  # noqa: ANN001
        pass

    def on_fill(self, fill, order):  # noqa: ANN001
        pass

    def on_position(self, ts, qty):  # noqa: ANN001
        pass

    def on_algo(self, ts, report, what):  # noqa: ANN001
        pass


@dataclass
class QueueSample:
    touches: list[Touch]
    fills: list[tuple[int, bool, bool, float]]  # (time ms, buy, by trade-through, price)
    drift_bps: dict[str, float] = field(default_factory=dict)  # mean adverse mid move after a fill, by horizon
    drift_bps_volume: dict[str, float] = field(default_factory=dict)  # the same, fills by volume only


def sample(sc, seed: int = 1, size: str = "0.01", max_offset: int = 5, far: int = 30,
           horizons_s: tuple[int, ...] = (1, 10, 60)) -> QueueSample:
    """Run the maker over the scenario's synthetic market (its duration) and collect the queue model's logs."""
    streams = RunStreams(seed)
    path = price_path(sc, streams)
    inst = instrument_of(sc)
    liquidity = LiquiditySchedule(depth_profile(sc, float(path.mid[0])))
    model = queue_model(sc, path, liquidity, inst, streams)
    if not isinstance(model, PositionQueue):
        raise ValueError("a queue sample needs exchange.queue.model = \"position\"")
    venue = SimExchange(inst, path, liquidity, VenueRules(max_leverage=125, leverage=1), 1e12, _Quiet(),
                        queue=model)
    tick = float(inst.tick_size)
    orders: dict[Side, tuple[ClientOrderId, float] | None] = {Side.BUY: None, Side.SELL: None}
    n = 0
    for i in range(len(path.mid) - 1):
        t = path.time_of(i)
        venue.catch_up(t)
        bid, ask = liquidity.touch(t, path.mid_at(t))
        for side in (Side.BUY, Side.SELL):
            cur = orders[side]
            if cur is not None:
                live = venue.orders[cur[0]]
                gap = (bid - cur[1]) if side is Side.BUY else (cur[1] - ask)
                if live.status.is_open and gap <= far * tick:
                    continue
                if live.status.is_open:
                    venue.cancel(cur[0], t)
            n += 1
            k = 1 + n % max_offset
            price = inst.price(bid - k * tick) if side is Side.BUY else inst.price(ask + k * tick)
            cid = ClientOrderId(f"q{n}")
            venue.submit(SubmitOrder(inst.symbol, cid, side, OrderType.LIMIT, Decimal(size), price=price), t, "bot")
            orders[side] = (cid, float(price))
    out = QueueSample(model.touches, model.fill_log)
    out.drift_bps = _drift(path, model.fill_log, horizons_s, lambda f: True)
    out.drift_bps_volume = _drift(path, model.fill_log, horizons_s, lambda f: not f[2])
    return out


def _drift(path, fills, horizons_s, keep) -> dict[str, float]:  # noqa: ANN001
    """Mean move of the mid against the fills ``keep`` selects, ``h`` seconds after them, in bps of the
    fill price (as `sim.market.passive_fill.post_fill_drift` measures it in real data)."""
    out = {}
    chosen = [f for f in fills if keep(f)]
    for h in horizons_s:
        moves = [(-1.0 if buy else 1.0) * (path.mid_at(t + h * 1000) / price - 1.0) * 1e4
                 for t, buy, _, price in chosen if t + h * 1000 <= path.end_ms]
        out[f"{h}s"] = float(np.mean(moves)) if moves else float("nan")
    return out
