"""Random fault schedules, interventions on the venue, liquidity windows and margin rules."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
import simpy
from pydantic import TypeAdapter

from sim.core.errors import Rejected
from sim.core.ids import make_client_id
from sim.core.instrument import Instrument
from sim.core.messages import SubmitOrder
from sim.core.types import ClientOrderId, OrderRole, OrderStatus, OrderType, RejectReason, Side
from sim.scenario.loader import parse_scenario
from sim.scenario.schema import FAULT_KINDS, Event, Scenario, ms
from sim.world.exchange import SimExchange, VenueRules
from sim.world.faults import CHAOS_RATES, draw_fault_events, fault_rates
from sim.world.interventions import apply_intervention, schedule_interventions
from sim.world.liquidity import DepthProfile, LiquiditySchedule, ThinWindow
from sim.world.margin import MarginTable, MarginTier, funding_payment, liquidation_price
from sim.world.market import PricePath
from sim.world.runlog import RunLog
from sim.world.truth import GroundTruth

D = Decimal
DAY = 86_400_000
EVENTS = TypeAdapter(list[Event])
EVENT = TypeAdapter(Event)

# ------------------------------------------------------------------------------ fault schedules


def fault_scenario(duration: str = "30d", faults: dict | None = None, **extra: Any) -> Scenario:
    data: dict[str, Any] = {"scenario": {"name": "f", "description": "fault schedule", "duration": duration}}
    if faults is not None:
        data["faults"] = faults
    data.update(extra)
    return parse_scenario(data)


def draw(sc: Scenario, seed: int = 0) -> list:
    return draw_fault_events(sc, np.random.default_rng(seed))


def dumped(events: list) -> list[dict]:
    return [e.model_dump(mode="json") for e in events]


def test_fault_events_are_identical_for_the_same_seed():
    sc = fault_scenario(faults={"preset": "chaos"})
    assert dumped(draw(sc, 5)) == dumped(draw(sc, 5))


def test_fault_events_differ_between_seeds():
    sc = fault_scenario(faults={"preset": "chaos"})
    assert dumped(draw(sc, 5)) != dumped(draw(sc, 6))


def test_no_fault_events_without_a_faults_table():
    assert draw(fault_scenario()) == []


def test_no_fault_events_when_every_rate_is_zero():
    assert draw(fault_scenario(faults={"rates": {"outage": 0.0, "price_gap": 0.0}})) == []


def test_no_fault_events_with_preset_none():
    assert draw(fault_scenario(faults={"preset": "none"})) == []


def test_rates_override_the_chaos_preset():
    rates = fault_rates(fault_scenario(faults={"preset": "chaos", "rates": {"outage": 7.0}}).faults)
    assert rates["outage"] == 7.0
    assert rates["price_gap"] == CHAOS_RATES["price_gap"]


def test_only_kinds_with_a_rate_are_drawn():
    events = draw(fault_scenario(faults={"rates": {"outage": 3.0, "transfer_out": 1.0}}))
    assert events
    assert {e.kind for e in events} == {"outage", "transfer_out"}


def test_each_kind_arrives_at_about_rate_times_days():
    days, rate = 365, 2.0
    sc = fault_scenario(duration=f"{days}d", faults={"rates": dict.fromkeys(FAULT_KINDS, rate)})
    events = draw(sc, 11)
    expected = rate * days  # Poisson: sd = sqrt(730) ~ 27, so 15 % is over 4 sd
    for kind in FAULT_KINDS:
        n = sum(e.kind == kind for e in events)
        assert n == pytest.approx(expected, rel=0.15), kind


@pytest.mark.parametrize("seed", range(5))
def test_every_drawn_event_validates_and_lies_inside_the_run(seed):
    sc = fault_scenario(duration="7d", faults={"preset": "chaos"})
    events = draw(sc, seed)
    assert events
    for e in events:
        assert e.kind in FAULT_KINDS
        assert 0 < ms(e.at) < sc.duration_ms
        assert EVENT.validate_python(e.model_dump()) == e
    assert [ms(e.at) for e in events if e.kind == "outage"] == sorted(ms(e.at) for e in events if e.kind == "outage")
    # the whole schedule can be written back as a plain scenario's [[events]]
    again = fault_scenario(duration="7d", events=dumped(events))
    assert dumped(again.events) == dumped(events)


def test_chaos_preset_covers_every_fault_kind_over_a_long_run():
    assert set(CHAOS_RATES) == set(FAULT_KINDS)
    events = draw(fault_scenario(duration="30d", faults={"preset": "chaos"}), 3)
    assert {e.kind for e in events} == set(FAULT_KINDS)


def test_drawn_quantities_follow_the_bot_and_the_market():
    sc = fault_scenario(duration="30d", faults={"rates": {"external_add": 5.0, "external_order": 5.0}},
                        bot={"params": {"fast": 5, "slow": 15, "qty": 0.4}})
    events = draw(sc, 2)
    for e in events:
        assert e.qty % sc.market.lot_size == 0
        assert D("0") < e.qty <= D("0.4")
        if e.kind == "external_order":
            assert e.qty == D("0.4")


# ---------------------------------------------------------------------------- a venue by hand

SYM = "BTCUSDT"
T0 = 60_000 * 1000
TICK = 1000
INST = Instrument(SYM, tick_size=D("0.1"), lot_size=D("0.001"), min_qty=D("0.01"), min_notional=D("5"))
DEPTH = DepthProfile(spread_bps=1.0, level_step_bps=0.5, level0_qty=0.5, levels=400)
TP = make_client_id("ae", 2, OrderRole.TAKE_PROFIT)
SL = make_client_id("ae", 3, OrderRole.STOP_LOSS)


def t(i: int) -> int:
    return T0 + i * TICK


def make_exchange(mid: float = 100.0, balance: float = 10_000.0, rules: VenueRules | None = None,
                  n: int = 3000) -> tuple[SimExchange, RunLog]:
    log = RunLog()
    path = PricePath(T0, TICK, np.full(n, mid))
    return SimExchange(INST, path, DEPTH, rules or VenueRules(), balance, GroundTruth(log)), log


def order(cid: str, side: Side, qty: str, kind: OrderType = OrderType.MARKET, price: str | None = None,
          trigger: str | None = None, reduce_only: bool = False) -> SubmitOrder:
    return SubmitOrder(SYM, ClientOrderId(cid), side, kind, D(qty), price=None if price is None else D(price),
                       trigger_price=None if trigger is None else D(trigger), reduce_only=reduce_only)


def protected_long(qty: str = "2", **kwargs: Any) -> tuple[SimExchange, RunLog]:
    """A long of ``qty`` at 100 with its TP at 105 and SL at 95, placed as the bot places them."""
    ex, log = make_exchange(**kwargs)
    ex.submit(order(make_client_id("ae", 1, OrderRole.ENTRY), Side.BUY, qty), t(1), source="bot")
    ex.submit(order(TP, Side.SELL, qty, OrderType.TAKE_PROFIT_MARKET, trigger="105", reduce_only=True), t(1), "bot")
    ex.submit(order(SL, Side.SELL, qty, OrderType.STOP_MARKET, trigger="95", reduce_only=True), t(1), "bot")
    return ex, log


def event(**data: Any) -> Any:
    return EVENT.validate_python({"at": "1m", **data})


def intervene(ex: SimExchange, log: RunLog, now: int = t(10), **data: Any) -> dict:
    """Apply one intervention; return the single log row it wrote."""
    ev = event(**data)
    before = len(log.events)
    apply_intervention(ev, ex, now, log)
    frame = log.events.frame()
    rows = frame[(frame.index >= before) & (frame["kind"] == f"intervention_{ev.kind}")]
    assert len(rows) == 1, f"expected one intervention_{ev.kind} event"
    row = rows.iloc[0].to_dict()
    assert row["ts"] == now and row["source"] == "intervention"
    return row


def resting_ids(ex: SimExchange) -> set[str]:
    return {o.client_id for o in ex.resting}


def external_fills(ex: SimExchange) -> list:
    return [f for f in ex.fills if f.client_id and f.client_id.startswith("ext-")]


# ----------------------------------------------------------------------------- interventions


def test_external_close_flattens_the_position_with_an_external_fill():
    ex, log = protected_long()
    row = intervene(ex, log, kind="external_close")
    assert ex.book.qty == 0
    (fill,) = external_fills(ex)
    assert (fill.side, fill.qty) == (Side.SELL, D("2"))
    assert "closed 2" in row["detail"]


def test_external_close_of_a_short_buys_it_back():
    ex, log = make_exchange()
    ex.submit(order("x", Side.SELL, "1.5"), t(1), "bot")
    intervene(ex, log, kind="external_close")
    assert ex.book.qty == 0
    assert external_fills(ex)[0].side is Side.BUY


def test_external_close_when_flat_trades_nothing():
    ex, log = make_exchange()
    intervene(ex, log, kind="external_close")
    assert ex.fills == [] and ex.book.qty == 0


def test_external_reduce_cuts_the_position_by_its_fraction_rounded_down_to_the_lot():
    ex, log = protected_long("2")
    row = intervene(ex, log, kind="external_reduce", fraction=0.3333)
    assert ex.book.qty == D("2") - D("0.666")
    assert "by 0.666" in row["detail"]


def test_external_reduce_of_a_short_keeps_it_short():
    ex, log = make_exchange()
    ex.submit(order("x", Side.SELL, "2"), t(1), "bot")
    intervene(ex, log, kind="external_reduce", fraction=0.5)
    assert ex.book.qty == D("-1")


def test_external_add_grows_a_long():
    ex, log = protected_long("2")
    row = intervene(ex, log, kind="external_add", qty="0.5")
    assert ex.book.qty == D("2.5")
    assert "added buy 0.5" in row["detail"] and "refused" not in row["detail"]


def test_external_add_grows_a_short_on_its_own_side():
    ex, log = make_exchange()
    ex.submit(order("x", Side.SELL, "1"), t(1), "bot")
    intervene(ex, log, kind="external_add", qty="0.5")
    assert ex.book.qty == D("-1.5")


def test_external_add_when_flat_buys():
    ex, log = make_exchange()
    intervene(ex, log, kind="external_add", qty="0.5")
    assert ex.book.qty == D("0.5")


def test_external_add_beyond_the_margin_is_refused_and_says_so():
    ex, log = make_exchange(balance=100.0)
    row = intervene(ex, log, kind="external_add", qty="50")
    assert ex.book.qty == 0
    assert "refused by the venue" in row["detail"]


@pytest.mark.parametrize("which, left", [("tp", {SL}), ("sl", {TP}), ("both", set())])
def test_cancel_protective_cancels_only_the_named_protective_orders(which, left):
    ex, log = protected_long()
    row = intervene(ex, log, kind="cancel_protective", which=which)
    assert resting_ids(ex) == left
    for cid in {TP, SL} - left:
        assert ex.orders[cid].status is OrderStatus.CANCELLED
        assert cid in row["detail"]
    assert ex.book.qty == D("2")


def test_cancel_protective_leaves_other_peoples_trigger_orders_alone():
    ex, log = protected_long()
    ex.submit(order("someone-else", Side.SELL, "1", OrderType.TAKE_PROFIT_MARKET, trigger="110", reduce_only=True),
              t(2), "external")
    intervene(ex, log, kind="cancel_protective", which="both")
    assert resting_ids(ex) == {"someone-else"}


def test_cancel_protective_with_nothing_to_cancel_logs_nothing_cancelled():
    ex, log = make_exchange()
    row = intervene(ex, log, kind="cancel_protective", which="both")
    assert "nothing" in row["detail"]


@pytest.mark.parametrize("which, tp, sl", [("tp", "106.1", "95"), ("sl", "105", "96.0"),
                                           ("both", "106.1", "96.0")])
def test_move_protective_moves_the_named_triggers_by_the_fraction(which, tp, sl):
    ex, log = protected_long()
    row = intervene(ex, log, kind="move_protective", which=which, by_pct=0.0105)
    assert ex.orders[TP].trigger_price == D(tp)
    assert ex.orders[SL].trigger_price == D(sl)
    assert "->" in row["detail"]
    assert resting_ids(ex) == {TP, SL}


def test_move_protective_past_the_mark_is_refused_and_leaves_the_trigger():
    ex, log = protected_long()
    row = intervene(ex, log, kind="move_protective", which="tp", by_pct=-0.1)  # 105 -> 94.5: below the mark
    assert ex.orders[TP].trigger_price == D("105")
    assert "refused" in row["detail"]


def test_moved_take_profit_fires_at_its_new_price():
    mids = np.full(3000, 100.0)
    mids[50:] = 105.5  # crosses the old TP (105), not the moved one (107.1)
    mids[80:] = 107.5
    log = RunLog()
    ex = SimExchange(INST, PricePath(T0, TICK, mids), DEPTH, VenueRules(), 10_000.0, GroundTruth(log))
    ex.submit(order("e", Side.BUY, "2"), t(1), "bot")
    ex.submit(order(TP, Side.SELL, "2", OrderType.TAKE_PROFIT_MARKET, trigger="105", reduce_only=True), t(1), "bot")
    intervene(ex, log, now=t(10), kind="move_protective", which="tp", by_pct=0.02)
    ex.catch_up(t(60))
    assert ex.book.qty == D("2")
    ex.catch_up(t(90))
    assert ex.book.qty == 0
    assert ex.orders[TP].last_fill_ms == t(80)


def test_set_leverage_changes_the_accounts_leverage():
    ex, log = protected_long()
    row = intervene(ex, log, kind="set_leverage", leverage=20)
    assert ex.leverage == 20
    assert ex.account_report().leverage == 20
    assert "refused" not in row["detail"]


def test_set_leverage_above_the_venues_maximum_is_refused():
    ex, log = protected_long(rules=VenueRules(leverage=5, max_leverage=50))
    row = intervene(ex, log, kind="set_leverage", leverage=51)
    assert ex.leverage == 5
    assert "refused by the venue" in row["detail"]


def test_set_leverage_is_capped_by_the_margin_tier_of_the_position():
    tiers = (MarginTier(150.0, 0.004, 50), MarginTier(float("inf"), 0.01, 10))
    ex, log = protected_long("2", rules=VenueRules(leverage=5, max_leverage=50, margin_tiers=tiers))  # notional 200
    assert "refused" in intervene(ex, log, kind="set_leverage", leverage=20)["detail"]
    assert ex.leverage == 5
    intervene(ex, log, kind="set_leverage", leverage=10)
    assert ex.leverage == 10


def test_an_order_that_takes_the_position_into_a_bracket_below_the_accounts_leverage_is_refused():
    tiers = (MarginTier(150.0, 0.004, 50), MarginTier(float("inf"), 0.01, 10))
    ex, _ = make_exchange(rules=VenueRules(leverage=20, max_leverage=50, margin_tiers=tiers))  # mid 100
    ex.submit(order("ae-1-en-0", Side.BUY, "1"), t(1), "bot")  # notional 100: the 50x bracket
    with pytest.raises(Rejected) as refused:
        ex.submit(order("ae-2-en-0", Side.BUY, "1"), t(2), "bot")  # notional 200: the 10x bracket
    assert refused.value.reason is RejectReason.LEVERAGE_TOO_HIGH and ex.book.qty == D("1")
    ex.submit(order("ae-3-ex-0", Side.SELL, "1", reduce_only=True), t(3), "bot")  # reducing is always allowed
    assert ex.book.qty == 0


def test_transfer_out_takes_margin_from_the_wallet():
    ex, log = protected_long()
    wallet = ex.book.wallet
    row = intervene(ex, log, kind="transfer_out", amount=1_000.0)
    assert ex.book.wallet == pytest.approx(wallet - 1_000.0)
    assert ex.book.transfers == pytest.approx(-1_000.0)
    assert "transferred out 1000.00 of 1000.00" in row["detail"]


def test_transfer_out_is_capped_at_the_available_margin():
    ex, log = protected_long()
    available = ex.account_report().available_margin
    wallet = ex.book.wallet
    assert 0 < available < 1e6
    row = intervene(ex, log, kind="transfer_out", amount=1e6)
    assert ex.book.wallet == pytest.approx(wallet - available)
    assert ex.account_report().available_margin == pytest.approx(0.0, abs=1e-6)
    assert f"transferred out {available:.2f} of 1000000.00" in row["detail"]


def test_transfer_in_adds_to_the_wallet():
    ex, log = make_exchange()
    intervene(ex, log, kind="transfer_in", amount=250.0)
    assert ex.book.wallet == pytest.approx(10_250.0)
    assert ex.book.transfers == pytest.approx(250.0)


@pytest.mark.parametrize("side, qty", [("buy", D("2.5")), ("sell", D("1.5"))])
def test_external_market_order_trades_on_the_account(side, qty):
    ex, log = protected_long("2")
    row = intervene(ex, log, kind="external_order", side=side, qty="0.5")
    assert ex.book.qty == qty
    assert "market" in row["detail"]
    (fill,) = external_fills(ex)
    assert fill.side is Side(side)


def test_external_limit_order_away_from_the_touch_rests_without_trading():
    ex, log = make_exchange()
    row = intervene(ex, log, kind="external_order", side="buy", qty="1", price_offset_pct=-0.01)
    (resting,) = ex.resting
    assert resting.type is OrderType.LIMIT and resting.source == "external"
    assert resting.price == D("99.0")
    assert ex.book.qty == 0
    assert "limit 99.0" in row["detail"]


def test_external_marketable_limit_order_fills_at_once():
    ex, log = make_exchange()
    intervene(ex, log, kind="external_order", side="buy", qty="1", price_offset_pct=0.01)
    assert ex.book.qty == D("1")
    assert ex.resting == []


def test_external_order_refused_by_the_venue_says_so():
    ex, log = make_exchange(balance=50.0)
    row = intervene(ex, log, kind="external_order", side="sell", qty="100")
    assert ex.book.qty == 0
    assert "refused by the venue" in row["detail"]


def test_external_post_only_limit_that_would_take_is_refused_with_its_reason():
    ex, log = make_exchange()
    row = intervene(ex, log, kind="external_order", side="buy", qty="1", price_offset_pct=0.01,
                    time_in_force="post_only")
    assert ex.book.qty == 0 and ex.resting == []
    assert "post_only" in row["detail"] and "refused by the venue" in row["detail"]
    rejects = log.events.frame().query("kind == 'order_rejected'")
    assert rejects["detail"].str.startswith("post_only_would_take").all() and len(rejects) == 1


def test_external_ioc_limit_away_from_the_touch_expires_instead_of_resting():
    ex, log = make_exchange()
    intervene(ex, log, kind="external_order", side="buy", qty="1", price_offset_pct=-0.01, time_in_force="ioc")
    assert ex.resting == [] and ex.book.qty == 0


def test_external_reduce_only_order_with_no_position_is_refused():
    ex, log = make_exchange()
    row = intervene(ex, log, kind="external_order", side="sell", qty="1", reduce_only=True)
    assert ex.book.qty == 0 and "reduce-only" in row["detail"] and "refused" in row["detail"]


def test_reject_orders_window_refuses_the_bots_orders_with_its_reason_and_only_inside_it():
    ex, log = make_exchange()
    ex.reject_windows = [(t(5), t(8), RejectReason.PRICE_OUT_OF_BAND)]
    with pytest.raises(Rejected) as refused:
        ex.submit(order("ae-1-en-0", Side.BUY, "1"), t(6), "bot")
    assert refused.value.reason is RejectReason.PRICE_OUT_OF_BAND and ex.book.qty == 0
    assert ex.external_market(Side.BUY, D("1"), t(6)) is not None  # other systems' orders are not refused
    ex.submit(order("ae-2-en-0", Side.BUY, "1"), t(8), "bot")  # the window has ended
    assert ex.book.qty == D("2")


@pytest.mark.parametrize("data", [
    {"kind": "latency_spike", "duration": "1m", "factor": 5.0},
    {"kind": "outage", "duration": "1m"},
    {"kind": "drop_updates", "duration": "1m"},
    {"kind": "thin_liquidity", "duration": "1m"},
    {"kind": "price_gap", "pct": -0.02},
    {"kind": "reject_orders", "duration": "1m", "reason": "leverage_too_high"},
])
def test_window_events_only_log_that_they_begin(data):
    ex, log = protected_long()
    state = (ex.book.qty, ex.book.wallet, resting_ids(ex), len(ex.fills), ex.leverage)
    row = intervene(ex, log, **data)
    assert row["detail"] == "window begins" or data["kind"] == "reject_orders" and "leverage_too_high" in row["detail"]
    assert (ex.book.qty, ex.book.wallet, resting_ids(ex), len(ex.fills), ex.leverage) == state


def test_scheduled_interventions_run_at_their_scenario_times():
    ex, log = protected_long()
    env = simpy.Environment(initial_time=T0)
    evs = [event(at="30s", kind="transfer_in", amount=10.0), event(at="10s", kind="external_close")]
    schedule_interventions(env, evs, T0, ex, log)
    env.run(until=T0 + 60_000)
    frame = log.events.frame()
    rows = frame[frame["source"] == "intervention"]
    assert list(rows["kind"]) == ["intervention_external_close", "intervention_transfer_in"]
    assert list(rows["ts"]) == [T0 + 10_000, T0 + 30_000]
    assert ex.book.qty == 0


# -------------------------------------------------------------------------------- liquidity

BASE = DepthProfile(spread_bps=2.0, level_step_bps=0.5, level0_qty=1.0, levels=100)


def test_liquidity_outside_any_window_is_the_base_profile():
    sched = LiquiditySchedule(BASE, [ThinWindow(1_000, 2_000, 0.2, 3.0)])
    for now in (0, 999, 2_000, 10_000):
        assert sched.at(now) == BASE


def test_liquidity_inside_a_window_is_scaled_by_its_factors():
    sched = LiquiditySchedule(BASE, [ThinWindow(1_000, 2_000, 0.2, 3.0)])
    for now in (1_000, 1_500, 1_999):
        p = sched.at(now)
        assert p.level0_qty == pytest.approx(0.2)
        assert p.spread_bps == pytest.approx(6.0)
        assert p.level_step_bps == pytest.approx(1.5)
        assert p.levels == BASE.levels


def test_overlapping_windows_give_the_thinnest_profile_without_compounding():
    thin, thinner = ThinWindow(1_000, 5_000, 0.5, 2.0), ThinWindow(2_000, 3_000, 0.1, 4.0)
    sched = LiquiditySchedule(BASE, [thin, thinner])
    assert sched.at(1_500).level0_qty == pytest.approx(0.5)
    assert sched.at(2_500).level0_qty == pytest.approx(0.1)  # not 0.05
    assert sched.at(2_500).spread_bps == pytest.approx(8.0)
    assert sched.at(4_000).level0_qty == pytest.approx(0.5)
    assert sched.at(5_000) == BASE


def test_a_window_added_later_is_in_force_in_its_interval():
    sched = LiquiditySchedule(BASE)
    sched.add(ThinWindow(1_000, 2_000, 0.25, 2.0))
    assert sched.at(1_500).level0_qty == pytest.approx(0.25)
    assert sched.at(2_500) == BASE


def test_a_window_that_only_widens_the_spread_widens_it():
    sched = LiquiditySchedule(BASE, [ThinWindow(1_000, 2_000, 1.0, 3.0)])
    assert sched.at(1_500).spread_bps == pytest.approx(6.0)


def test_thin_window_needs_a_positive_length_and_factors():
    for bad in ((2_000, 1_000, 0.5, 2.0), (1_000, 1_000, 0.5, 2.0), (0, 1, 0.0, 2.0), (0, 1, 0.5, 0.0)):
        with pytest.raises(ValueError):
            ThinWindow(*bad)


# ----------------------------------------------------------------------------------- margin

TABLE = MarginTable((MarginTier(50_000, 0.004, 125), MarginTier(250_000, 0.005, 100),
                     MarginTier(1_000_000, 0.01, 50)))


@pytest.mark.parametrize("notional, mmr", [(0, 0.004), (10_000, 0.004), (50_000, 0.004), (50_000.01, 0.005),
                                           (250_000, 0.005), (600_000, 0.01), (5_000_000, 0.01)])
def test_margin_tier_is_the_first_bracket_whose_cap_holds_the_notional(notional, mmr):
    assert TABLE.tier(notional).mmr == mmr


def test_maintenance_margin_uses_the_brackets_rate_on_the_absolute_notional():
    assert TABLE.maintenance(100_000) == pytest.approx(500.0)
    assert TABLE.maintenance(-100_000) == pytest.approx(500.0)


def test_flat_margin_table_has_one_unbounded_tier():
    table = MarginTable.flat(0.004, 125)
    assert table.tier(1e12) == MarginTier(float("inf"), 0.004, 125)


def test_margin_table_refuses_no_tiers_or_unsorted_tiers():
    with pytest.raises(ValueError):
        MarginTable(())
    with pytest.raises(ValueError):
        MarginTable((MarginTier(100, 0.01, 10), MarginTier(50, 0.02, 5)))


@pytest.mark.parametrize("qty, entry, wallet, mmr", [
    (1.0, 30_000.0, 6_000.0, 0.004), (0.5, 100.0, 10.0, 0.01), (2.0, 1_000.0, 100.0, 0.02),
    (-1.0, 30_000.0, 6_000.0, 0.004), (-0.5, 100.0, 10.0, 0.01), (-3.0, 2_000.0, 1_000.0, 0.005),
])
def test_at_the_liquidation_price_equity_equals_maintenance_margin(qty, entry, wallet, mmr):
    p = liquidation_price(qty, entry, wallet, mmr)
    assert p is not None and p > 0
    equity = wallet + qty * (p - entry)
    assert equity == pytest.approx(abs(qty) * p * mmr, rel=1e-9)
    # a long is liquidated below its entry, a short above
    assert (p < entry) if qty > 0 else (p > entry)


def test_liquidation_price_is_none_when_flat_and_zero_when_a_long_cannot_be_liquidated():
    assert liquidation_price(0.0, 100.0, 1_000.0, 0.004) is None
    assert liquidation_price(1.0, 100.0, 1_000.0, 0.004) == 0.0


@pytest.mark.parametrize("qty, rate, sign", [(1.0, 0.0001, -1), (-1.0, 0.0001, 1), (1.0, -0.0001, 1),
                                             (-1.0, -0.0001, -1)])
def test_funding_longs_pay_shorts_when_the_rate_is_positive(qty, rate, sign):
    paid = funding_payment(qty, 30_000.0, rate)
    assert np.sign(paid) == sign
    assert abs(paid) == pytest.approx(abs(qty) * 30_000.0 * abs(rate))


def test_funding_is_nothing_when_flat_or_at_zero_rate():
    assert funding_payment(0.0, 30_000.0, 0.001) == 0
    assert funding_payment(1.0, 30_000.0, 0.0) == 0


@pytest.mark.parametrize("side, sign", [(Side.BUY, -1), (Side.SELL, 1)])
def test_pay_funding_moves_the_wallet_by_the_funding_payment(side, sign):
    ex, _ = make_exchange()
    ex.submit(order("x", side, "2"), t(1), "bot")
    wallet = ex.book.wallet
    paid = ex.pay_funding(t(5), 0.001)
    assert paid == pytest.approx(sign * 2 * 100.0 * 0.001)
    assert ex.book.wallet == pytest.approx(wallet + paid)
    assert ex.book.funding == pytest.approx(paid)


def test_pay_funding_when_flat_moves_nothing():
    ex, _ = make_exchange()
    assert ex.pay_funding(t(5), 0.001) == 0
    assert ex.book.wallet == 10_000.0


def test_transfer_out_never_moves_more_than_the_available_margin():
    ex, _ = make_exchange(balance=1_000.0)
    ex.submit(order("x", Side.BUY, "20"), t(1), "bot")  # 2000 notional at 5x: 400 initial margin
    available = ex.account_report().available_margin
    moved = ex.transfer(-5_000.0, t(2))
    assert moved == pytest.approx(-available)
    assert ex.account_report().available_margin == pytest.approx(0.0, abs=1e-6)
    assert ex.transfer(-1.0, t(3)) == pytest.approx(0.0, abs=1e-6)


def test_transfer_out_within_the_available_margin_moves_it_all():
    ex, _ = make_exchange(balance=1_000.0)
    assert ex.transfer(-300.0, t(2)) == -300.0
    assert ex.book.wallet == pytest.approx(700.0)


def test_venue_liquidation_price_uses_the_tier_of_the_position():
    tiers = (MarginTier(150.0, 0.004, 50), MarginTier(float("inf"), 0.05, 10))
    ex, _ = make_exchange(balance=1_000.0, rules=VenueRules(leverage=5, max_leverage=50, margin_tiers=tiers))
    ex.submit(order("x", Side.BUY, "2"), t(1), "bot")  # notional ~200: the second tier
    assert ex.maintenance_rate() == 0.05
    p = ex.liquidation_price()
    assert p == pytest.approx(liquidation_price(2.0, ex.book.entry, ex.book.wallet, 0.05))


def test_a_recorded_funding_series_is_paid_in_order_then_the_fixed_rate_takes_over(tmp_path):
    import sim

    sc = parse_scenario({
        "scenario": {"name": "fs", "description": "funding series", "duration": "25h"},
        "exchange": {"funding_interval": "8h", "funding_rate": 0.0001, "funding_rates": [0.0003, -0.0002]},
        "bot": {"strategy": "scripted", "params": {"targets": [{"at": "1m", "side": "long", "qty": 0.1}]},
                "protective": {"enabled": False}},
    })
    sim.run(sc, out=tmp_path / "r", ideal_twin=False, report=False)
    import pandas as pd

    funding = pd.read_parquet(tmp_path / "r" / "events.parquet").query("kind == 'funding'")
    assert funding["price"].tolist() == [0.0003, -0.0002, 0.0001]
