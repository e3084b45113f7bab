"""Queue positions of resting limits on hand-made paths: what fills them, when, and how much."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from sim.core.instrument import Instrument
from sim.core.messages import AmendOrder, FetchOrder, SubmitOrder
from sim.core.types import ClientOrderId, OrderStatus, OrderType, Side
from sim.world.exchange import SimExchange, VenueRules
from sim.world.liquidity import DepthProfile, LiquiditySchedule
from sim.world.market import PricePath
from sim.world.queue_position import PositionQueue, level_size
from sim.world.trade_flow import FlowParams, PoissonFlow, RecordedFlow

D = Decimal
SYM = "BTCUSDT"
T0 = 1_700_000_000_000
STEP = 1000
INST = Instrument(SYM, tick_size=D("0.1"), lot_size=D("0.001"), min_qty=D("0.001"), min_notional=D("5"))
# one-tick spread around a mid on the half tick (bid and ask on the grid), as the default synthetic market
BOOK = DepthProfile(spread_bps=0.1 / 30_000 * 1e4, level_step_bps=0.04, level0_qty=0.1, depth_exponent=1.4)


class Quiet:
    def on_order(self, ts, order, what, detail=""):
        pass

    def on_reject(self, ts, request, reason, detail):
        pass

    def on_fill(self, fill, order):
        self.fills.append(fill)

    def on_position(self, ts, qty):
        pass

    def on_algo(self, ts, report, what):
        pass

    def __init__(self):
        self.fills = []


def venue(mids, flow: FlowParams | None = None, seed: int = 3, recorded: RecordedFlow | None = None):
    path = PricePath(T0, STEP, np.asarray(mids, dtype=float))
    liq = LiquiditySchedule(BOOK)
    params = flow or FlowParams(rate=0.0)
    model = PositionQueue(path, liq, INST, recorded or PoissonFlow(params, np.random.default_rng(seed)),
                          params.cancel_rate)
    obs = Quiet()
    wakes: list = []
    ex = SimExchange(INST, path, liq, VenueRules(), 1e9, obs, scheduler=wakes.append, queue=model)
    return ex, model, obs


def t(i: int) -> int:
    return T0 + i * STEP


def buy(cid: str, price: str, qty: str = "0.01") -> SubmitOrder:
    return SubmitOrder(SYM, ClientOrderId(cid), Side.BUY, OrderType.LIMIT, D(qty), price=D(price))


def status(ex: SimExchange, cid: str, now: int):
    return ex.handle(FetchOrder(SYM, ClientOrderId(cid)), now)


def test_a_touch_without_enough_selling_leaves_a_back_of_queue_order_unfilled():
    # the bid falls onto 29999.0 (mid 29999.05), stays three seconds and leaves upwards; no market orders
    ex, model, obs = venue([30000.05, 30000.05, 29999.05, 29999.05, 29999.05, 30000.05, 30001.05, 30001.05])
    ex.submit(buy("b", "29999.0"), t(0), "bot")
    ex.catch_up(t(7))
    assert status(ex, "b", t(7)).status.is_open and not obs.fills
    (touch,) = model.touches
    assert touch.arrived and not touch.through and touch.t_ms == t(2) and touch.end_ms == t(5)
    assert touch.displayed == BOOK.level0_qty and touch.volume == 0


def test_the_level_traded_through_fills_the_order_in_full_as_a_maker():
    ex, model, obs = venue([30000.05, 30000.05, 29999.05, 29998.95, 29998.05, 29998.05])
    ex.submit(buy("b", "29999.0", "0.5"), t(0), "bot")
    ex.catch_up(t(5))
    r = status(ex, "b", t(5))
    assert r.status is OrderStatus.FILLED and r.filled_qty == D("0.5")
    assert [f.ts for f in obs.fills] == [t(3)] and obs.fills[0].maker and obs.fills[0].price == D("29999.0")
    assert model.touches[-1].through


def test_a_jump_through_between_samples_fills_and_logs_a_short_touch():
    ex, model, obs = venue([30000.05, 30000.05, 29990.05, 29990.05])
    ex.submit(buy("b", "29999.0"), t(0), "bot")
    ex.catch_up(t(3))
    assert status(ex, "b", t(3)).status is OrderStatus.FILLED
    (touch,) = model.touches
    assert touch.through and touch.end_ms == t(2) and t(1) <= touch.t_ms <= t(2)


def test_market_orders_at_the_touch_fill_the_order_once_the_queue_ahead_is_gone():
    mids = [30000.05] * 2 + [29999.05] * 60 + [30001.05] * 3
    ex, model, obs = venue(mids, FlowParams(rate=20.0, size_log_mean=np.log(0.01), size_log_sd=0.0, cancel_rate=0.0,
                                            away_factor=1.0, through_factor=1.0))
    ex.submit(buy("b", "29999.0", "0.05"), t(0), "bot")
    ahead = model.places[ex.orders["b"].venue_id].ahead
    assert ahead == pytest.approx(level_size(BOOK, 30000.05, 29999.0, True))
    ex.catch_up(t(64))
    r = status(ex, "b", t(64))
    assert r.status is OrderStatus.FILLED and len(obs.fills) == 5  # 0.01 a market order once the queue is gone
    # 20 orders a second of 0.01: the queue ahead (0.33 BTC) takes about 1.6 s, the order a quarter second more
    first = obs.fills[0].ts
    assert t(2) + 1000 < first < t(2) + 3000
    assert all(f.maker and f.price == D("29999.0") for f in obs.fills)


def test_cancels_ahead_move_the_order_up_while_it_waits():
    mids = [30000.05] * 120 + [29999.05] * 3 + [30001.05] * 2
    flow = FlowParams(rate=20.0, size_log_mean=np.log(0.01), size_log_sd=0.0, cancel_rate=0.5)
    ex, model, obs = venue(mids, flow)
    ex.submit(buy("b", "29999.0", "0.02"), t(0), "bot")
    ex.catch_up(t(124))
    (touch,) = model.touches
    assert touch.ahead < 1e-20  # 120 s at 0.5 a second: nothing left ahead when the market arrives
    assert obs.fills and obs.fills[0].ts < t(121)


def test_an_amended_order_goes_to_the_back_of_the_queue():
    mids = [30000.05] * 10 + [29999.05] * 3 + [30001.05] * 2
    flow = FlowParams(rate=0.0, cancel_rate=1.0)
    ex, model, _ = venue(mids, flow)
    ex.submit(buy("b", "29999.0"), t(0), "bot")
    ex.catch_up(t(8))
    assert model.places[ex.orders["b"].venue_id].ahead == pytest.approx(level_size(BOOK, 30000.05, 29999.0, True))
    ex.queue.fill_due(ex.orders["b"], t(8))  # read: the cancels of 8 seconds are applied
    assert model.places[ex.orders["b"].venue_id].ahead < 0.001
    ex.amend(AmendOrder(SYM, ClientOrderId("b"), qty=D("0.02")), t(8))
    assert model.places[ex.orders["b"].venue_id].ahead == pytest.approx(level_size(BOOK, 30000.05, 29999.0, True))


def test_the_same_seed_draws_the_same_fills_and_another_seed_others():
    mids = [30000.05] * 2 + [29999.05] * 30 + [29998.05] * 2

    def fills(seed):
        ex, _, obs = venue(mids, FlowParams(rate=20.0, size_log_mean=np.log(0.005), size_log_sd=1.0,
                                            cancel_rate=0.0), seed)
        ex.submit(buy("b", "29999.0", "0.3"), t(0), "bot")
        ex.catch_up(t(33))
        return [(f.ts, f.qty) for f in obs.fills]

    assert fills(1) == fills(1) and fills(1) != fills(2)


def test_replayed_trades_at_the_price_advance_the_queue_and_a_trade_beyond_it_fills_the_rest():
    times = np.array([t(1) + 10, t(1) + 20, t(2), t(2) + 5, t(3), t(4)])
    prices = np.array([29999.0, 29999.0, 29999.1, 29999.0, 29999.0, 29998.9])
    sizes = np.array([0.2, 0.2, 5.0, 0.03, 0.02, 0.001])
    sell = np.array([True, True, True, False, True, True])
    rec = RecordedFlow(times, prices, sizes, sell)
    ex, model, obs = venue([30000.05] * 6, FlowParams(rate=0.0, cancel_rate=0.0), recorded=rec)
    ex.submit(buy("b", "29999.0", "0.1"), t(0), "bot")
    ex.catch_up(t(5))
    # queue ahead 0.3295 (level 8 of the ladder): 0.4 of sells at the price leave 0.0705 for the order; the
    # sell above the price and the buy at it do not count; 0.02 more at t(3); the sell below the price fills the rest
    assert level_size(BOOK, 30000.05, 29999.0, True) == pytest.approx(0.329, abs=5e-4)
    assert [(f.ts, f.qty) for f in obs.fills] == [(t(1) + 20, D("0.070")), (t(3), D("0.020")), (t(4), D("0.010"))]
    assert status(ex, "b", t(5)).status is OrderStatus.FILLED


def test_touches_that_end_through_bring_more_selling_than_those_the_price_leaves():
    """Adverse selection: the volume that exhausts a level is what moves the price through it."""
    flow = FlowParams(rate=20.0, size_log_mean=np.log(0.01), size_log_sd=0.0, cancel_rate=0.0,
                      through_factor=1.0, away_factor=0.25)

    def volume(last_mid):
        vols = []
        for seed in range(20):
            ex, model, _ = venue([30000.05] * 2 + [29999.05] * 10 + [last_mid] * 2, flow, seed)
            ex.submit(buy("b", "29999.0", "5"), t(0), "bot")
            ex.catch_up(t(13))
            vols.append(model.touches[0].volume)
            assert model.touches[0].through == (last_mid < 29999.0)
        return np.mean(vols)

    through, away = volume(29998.05), volume(30000.05)
    assert through == pytest.approx(2.0, rel=0.1) and away == pytest.approx(0.5, rel=0.2)


def test_in_a_trades_replay_the_recorded_trades_at_the_price_fill_the_order_behind_its_queue():
    from pathlib import Path

    from sim.scenario.loader import load_scenario
    from sim.world.build import build_world

    root = Path(__file__).resolve().parents[2]
    sc = load_scenario(root / "scenarios/basics/replay-real.toml")
    world = build_world(sc, 1, ":memory:")
    ex = world.venue
    assert isinstance(ex.queue, PositionQueue) and isinstance(ex.queue.flow, RecordedFlow)
    start = sc.scenario.start_ms
    flow = ex.queue.flow
    # a bid one tick under the last trade at the start: the recorded sells at or under it decide its fills
    price = round(float(ex.path.mid_at(start)) - 0.1, 1)
    ex.submit(buy("r", f"{price:.1f}", "0.5"), start, "bot")
    ahead = ex.queue.places[ex.orders["r"].venue_id].ahead
    assert ahead == pytest.approx(level_size(ex.liquidity.at(start), ex.path.mid_at(start), price, True))
    ex.catch_up(start + sc.duration_ms)
    fills = [f for f in ex.fills if f.client_id == "r"]
    assert fills, "the price traded there in this window"
    at = (flow.times > start) & flow.sell & (flow.prices <= price + 1e-6)
    first_at = flow.times[at][0]
    # every fill is at a recorded trade time; the first is no earlier than the first sell reaching the price
    assert all(f.ts in set(flow.times.tolist()) for f in fills) and fills[0].ts >= first_at
    through = flow.times[(flow.times > start) & flow.sell & (flow.prices < price - 1e-6)]
    sold_at_price = flow.sizes[at & (flow.prices > price - 1e-6) & (flow.times <= fills[0].ts)].sum()
    assert fills[0].ts == through[0] or sold_at_price > ahead  # traded through, or the queue ahead was sold


def test_queue_keys_are_validated_with_the_key_named():
    from sim.scenario.errors import ScenarioError
    from sim.scenario.loader import parse_scenario

    base = {"scenario": {"name": "q", "description": "q", "duration": "1h"}}
    with pytest.raises(ScenarioError) as err:
        parse_scenario({**base, "exchange": {"queue": {"model": "fifo", "trade_rat": 3, "cancel_rate": -1}}})
    text = str(err.value)
    assert "exchange.queue.model" in text and "position, touch" in text
    assert "did you mean 'trade_rate'" in text and "exchange.queue.cancel_rate" in text
    assert parse_scenario(base).exchange.queue.model == "position"
