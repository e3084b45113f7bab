"""Small worlds driven end to end under transport faults: lost messages, outages, pushed updates."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from sim.core.errors import ExchangeError, RequestTimeout, Unavailable
from sim.core.ids import parse_client_id
from sim.core.messages import FetchOrder, SubmitOrder
from sim.core.types import OrderStatus
from sim.scenario.loader import parse_scenario
from sim.world.build import World, build_world

D = Decimal
MIN = 60_000


def scenario(duration: str = "10m", seed: int = 1, cycle: str = "1m", targets: list[dict] | None = None,
             protective: dict | None = None, exchange: dict | None = None, events: list[dict] | None = None,
             market: dict | None = None, bot: dict | None = None) -> Any:
    data: dict[str, Any] = {
        "scenario": {"name": "t", "description": "driver fault test", "duration": duration, "seed": seed},
        "bot": {"strategy": "scripted", "cycle": cycle,
                "params": {"targets": targets if targets is not None else [{"at": "1m", "side": "long", "qty": 0.1}]},
                "protective": protective if protective is not None else {"enabled": False}},
    }
    if bot is not None:
        data["bot"] = bot
    if exchange:
        data["exchange"] = exchange
    if events:
        data["events"] = events
    if market:
        data["market"] = market
    return parse_scenario(data)


def build(sc: Any, tmp_path, seed: int | None = None) -> World:
    return build_world(sc, sc.scenario.seed if seed is None else seed, tmp_path / "r.sqlite")


def run(world: World) -> World:
    world.env.run(until=world.end_ms)
    world.driver.settle(world.bot.reconciler.reconcile())
    return world


def answers(world: World) -> list[tuple[int, type, ExchangeError | None]]:
    """Record (time, request type, venue error) of every request that reaches the gateway."""
    seen: list[tuple[int, type, ExchangeError | None]] = []
    original = world.driver._answer

    def answer(request: Any, at: int | None = None) -> tuple[Any, ExchangeError | None]:
        reply, error = original(request, at)
        seen.append((int(world.env.now) if at is None else at, type(request), error))
        return reply, error

    world.driver._answer = answer  # type: ignore[method-assign]
    return seen


def lose_responses_to(world: World, *kinds: type) -> None:
    """Lose exactly the responses to requests of the given types (the venue still acts on them)."""
    world.driver.transport.response_lost = lambda request=None: type(request) in kinds  # type: ignore[method-assign]


def events(world: World) -> pd.DataFrame:
    return world.log.events.frame()


def bot_orders_accepted(world: World) -> pd.DataFrame:
    ev = events(world)
    ours = ev["client_id"].fillna("").map(lambda c: parse_client_id(c) is not None)
    accepted = ev[(ev["kind"] == "order_accepted") & ours]
    return accepted.assign(t=accepted["ts"] - world.start_ms)


# ------------------------------------------------------------------------- lost responses


def test_with_every_response_lost_every_request_times_out(tmp_path):
    w = run(build(scenario(exchange={"transport": {"timeout": "2s", "response_loss_prob": 1.0}}), tmp_path))
    assert w.driver.timeouts > 0
    assert w.driver.timeouts == w.driver.requests
    assert (events(w)["kind"] == "request_timeout").sum() == w.driver.timeouts


def test_with_every_response_lost_the_bot_never_acts_blind(tmp_path):
    # no snapshot ever comes back, so reconcile is never certain and no order is sent
    w = run(build(scenario(exchange={"transport": {"response_loss_prob": 1.0}}), tmp_path))
    assert w.truth.duplicates == 0
    assert bot_orders_accepted(w).empty
    assert w.venue.book.qty == 0
    assert w.record.position_qty() == 0


def test_with_every_response_lost_a_trading_strategy_places_no_order_twice(tmp_path):
    bot = {"params": {"fast": 5, "slow": 15, "qty": 0.1, "interval": "1m"}}
    w = run(build(scenario(duration="3h", seed=13, bot=bot,
                           exchange={"transport": {"timeout": "2s", "response_loss_prob": 1.0}}), tmp_path))
    assert w.driver.timeouts == w.driver.requests > 0
    assert w.truth.duplicates == 0
    assert w.truth.unintended_exposure == 0


def test_with_many_responses_lost_no_intent_becomes_two_orders(tmp_path):
    bot = {"params": {"fast": 5, "slow": 15, "qty": 0.1, "interval": "1m"}}
    w = run(build(scenario(duration="6h", seed=13, bot=bot,
                           exchange={"transport": {"timeout": "2s", "response_loss_prob": 0.3}}), tmp_path))
    assert w.driver.timeouts > 0
    assert not bot_orders_accepted(w).empty
    assert w.truth.duplicates == 0
    assert w.record.position_qty() == w.venue.book.qty


def test_lost_submit_response_still_leaves_the_order_at_the_venue(tmp_path):
    w = build(scenario(duration="5m"), tmp_path)
    lose_responses_to(w, SubmitOrder)
    run(w)
    accepted = bot_orders_accepted(w)
    assert len(accepted) == 1  # the venue acted once, and the bot did not re-send
    assert w.driver.timeouts >= 1
    timeouts = events(w)[events(w)["kind"] == "request_timeout"]
    assert set(timeouts["detail"]) == {"SubmitOrder"}
    assert w.venue.book.qty == D("0.1")
    assert w.record.position_qty() == D("0.1")
    assert w.truth.duplicates == 0


def test_lost_submit_and_lookup_responses_are_reconciled_to_the_venue_position_after_settle(tmp_path):
    w = build(scenario(duration="5m"), tmp_path)
    lose_responses_to(w, SubmitOrder, FetchOrder)
    w.env.run(until=w.end_ms)
    (order,) = w.record.state.orders.values()
    assert order.status is OrderStatus.UNKNOWN  # no answer about it ever came back during the run
    w.driver.settle(w.bot.reconciler.reconcile())
    assert not any(o.status is OrderStatus.UNKNOWN for o in w.record.state.orders.values())
    assert len(bot_orders_accepted(w)) == 1
    assert w.venue.book.qty == D("0.1")
    assert w.record.position_qty() == D("0.1")
    assert w.truth.duplicates == 0


def test_lost_requests_never_reach_the_venue(tmp_path):
    w = build(scenario(exchange={"transport": {"request_loss_prob": 1.0}}), tmp_path)
    seen = answers(w)
    run(w)
    assert w.driver.timeouts == w.driver.requests > 0
    assert seen == []
    assert bot_orders_accepted(w).empty
    assert w.venue.book.qty == 0


def test_timeouts_are_reported_to_the_bot_as_request_timeout(tmp_path):
    w = build(scenario(duration="3m", exchange={"transport": {"response_loss_prob": 1.0}}), tmp_path)
    thrown: list[BaseException] = []
    original = w.bot.reconciler.reconcile

    def reconcile():  # the errors the driver hands the bot, in its replies
        gen = original()
        reply: Any = None
        while True:
            try:
                request = gen.send(reply)
            except StopIteration as stop:
                return stop.value
            reply = yield request
            if isinstance(reply.answer, BaseException):
                thrown.append(reply.answer)

    w.bot.reconciler.reconcile = reconcile  # type: ignore[method-assign]
    w.env.run(until=w.end_ms)
    assert thrown
    assert all(isinstance(e, RequestTimeout) for e in thrown)


# ----------------------------------------------------------------------------------- outage

OUTAGE_AT, OUTAGE_FOR = 30_000, 5 * MIN


def outage_world(tmp_path) -> tuple[World, list]:
    w = build(scenario(duration="15m", events=[{"at": "30s", "kind": "outage", "duration": "5m"}]), tmp_path)
    return w, answers(w)


def test_requests_during_an_outage_fail_with_unavailable(tmp_path):
    w, seen = outage_world(tmp_path)
    run(w)
    inside = [(t - w.start_ms, kind, err) for t, kind, err in seen
              if OUTAGE_AT <= t - w.start_ms < OUTAGE_AT + OUTAGE_FOR]
    assert inside
    assert all(isinstance(err, Unavailable) for _, _, err in inside)
    outside = [err for t, _, err in seen if not OUTAGE_AT <= t - w.start_ms < OUTAGE_AT + OUTAGE_FOR]
    assert outside and not any(isinstance(err, Unavailable) for err in outside)
    assert w.driver.gateway.refused == len(inside)


def test_the_venue_sees_no_bot_orders_during_an_outage_and_the_bot_acts_after_it(tmp_path):
    w, _ = outage_world(tmp_path)
    run(w)
    accepted = bot_orders_accepted(w)
    assert not accepted["t"].between(OUTAGE_AT, OUTAGE_AT + OUTAGE_FOR - 1).any()
    assert len(accepted) == 1
    assert accepted["t"].iloc[0] >= OUTAGE_AT + OUTAGE_FOR
    assert w.venue.book.qty == D("0.1")
    assert w.record.position_qty() == D("0.1")


def test_without_an_outage_the_same_bot_acts_at_its_target_time(tmp_path):
    w = run(build(scenario(duration="15m"), tmp_path))
    accepted = bot_orders_accepted(w)
    assert len(accepted) == 1
    assert MIN <= accepted["t"].iloc[0] < 2 * MIN


def test_pushed_updates_are_not_sent_during_an_outage(tmp_path):
    # a TP placed before the outage fires during it: its updates are dropped, not delivered
    sc = scenario(duration="2h", seed=7, cycle="5m", market={"sigma": 0.8},
                  protective={"take_profit_pct": 0.002, "stop_loss_pct": 0.05},
                  events=[{"at": "6m", "kind": "outage", "duration": "1h"}])
    w = run(build(sc, tmp_path))
    assert w.updates.dropped > 0
    assert w.bot.early_reconciles == 0


# ---------------------------------------------------------------------------- pushed updates


def tp_between_cycles(tmp_path, updates: dict) -> World:
    """A long whose native TP fires between two 5-minute cycles (as in tp-fires-between-cycles)."""
    sc = scenario(duration="2h", seed=7, cycle="5m", market={"sigma": 0.8},
                  protective={"take_profit_pct": 0.002, "stop_loss_pct": 0.05}, exchange={"updates": updates})
    return run(build(sc, tmp_path))


def tp_fill_ms(w: World) -> int:
    ev = events(w)
    tp = ev[ev["kind"].str.startswith("fill_") & ev["client_id"].fillna("").str.contains("-tp-")]
    assert len(tp) == 1, "the scenario should fire its take-profit once"
    return int(tp["ts"].iloc[0])


def detection_delay_ms(w: World, began: int) -> int:
    (ended,) = [e for b, e in w.truth.divergences if b == began]
    assert ended is not None
    return ended - began


def test_pushed_updates_wake_the_bot_to_reconcile_a_tp_fill_within_seconds(tmp_path):
    w = tp_between_cycles(tmp_path, {})
    began = tp_fill_ms(w)
    assert w.bot.early_reconciles > 0
    assert detection_delay_ms(w, began) < 5_000  # seconds, not the 5-minute cycle
    assert w.record.position_qty() == w.venue.book.qty == 0


@pytest.mark.parametrize("updates", [{"drop_prob": 1.0}, {"enabled": False}], ids=["all-dropped", "disabled"])
def test_without_pushed_updates_the_tp_fill_waits_for_the_next_cycle(tmp_path, updates):
    w = tp_between_cycles(tmp_path, updates)
    began = tp_fill_ms(w)
    assert w.bot.early_reconciles == 0
    delay = detection_delay_ms(w, began)
    assert 5_000 < delay <= 5 * MIN + 5_000
    assert w.record.position_qty() == w.venue.book.qty == 0


def test_dropped_updates_are_counted_and_none_is_delivered(tmp_path):
    w = tp_between_cycles(tmp_path, {"drop_prob": 1.0})
    assert w.updates.dropped > 0
    assert w.updates.sent == 0


def test_a_drop_updates_window_hides_a_tp_fill_inside_it(tmp_path):
    sc = scenario(duration="2h", seed=7, cycle="5m", market={"sigma": 0.8},
                  protective={"take_profit_pct": 0.002, "stop_loss_pct": 0.05},
                  events=[{"at": "6m", "kind": "drop_updates", "duration": "3m"}])
    w = run(build(sc, tmp_path))
    began = tp_fill_ms(w)
    assert 6 * MIN <= began - w.start_ms < 9 * MIN  # the fill falls inside the window
    assert w.bot.early_reconciles == 0
    assert detection_delay_ms(w, began) > 5_000
    assert w.updates.sent > 0  # updates outside the window still flow


# ------------------------------------------------------------------------ late-arriving requests


def delay_first_submit(world: World, leg_ms: int) -> None:
    """Make the request leg of the bot's first SubmitOrder take ``leg_ms`` (every other leg as drawn)."""
    state = {"armed": False, "used": False}
    before_submit, leg = world.truth.before_submit, world.driver.transport.leg_ms

    def on_submit(ts: int, request: SubmitOrder) -> None:
        before_submit(ts, request)
        state["armed"] = not state["used"]

    def slow_leg(now: int | None = None) -> int:
        if state["armed"]:
            state["armed"], state["used"] = False, True
            return leg_ms
        return leg(now)

    world.truth.before_submit = on_submit  # type: ignore[method-assign]
    world.driver.transport.leg_ms = slow_leg  # type: ignore[method-assign]


def test_a_submit_slower_than_the_timeout_still_reaches_the_venue_and_is_found_by_id(tmp_path):
    w = build(scenario(duration="5m", exchange={"transport": {"timeout": "5s"}}), tmp_path)
    delay_first_submit(w, 5_000)  # arrives as the client gives up, before its lookup by id
    run(w)
    timeouts = events(w)[events(w)["kind"] == "request_timeout"]
    assert list(timeouts["detail"]) == ["SubmitOrder"]
    assert len(bot_orders_accepted(w)) == 1
    assert w.venue.book.qty == w.record.position_qty() == D("0.1")
    assert w.truth.duplicates == 0 and w.truth.unintended_exposure == 0


def test_a_submit_arriving_after_its_lookup_never_doubles_the_position(tmp_path):
    sc = scenario(duration="3m", cycle="10s", exchange={"transport": {"timeout": "5s"}},
                  targets=[{"at": "1m", "side": "long", "qty": 0.1}, {"at": "70s", "side": "long", "qty": 0.1}])
    w = build(sc, tmp_path)
    delay_first_submit(w, 12_000)  # a latency spike of 300x on a 40 ms leg
    run(w)
    assert w.truth.unintended_exposure == 0
    assert w.venue.book.qty == D("0.1")
