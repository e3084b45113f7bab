"""Each decision kind, flip mode, partial-fill policy and exposure limit through the bot's cycle,
against the scripted fake venue (no SimPy)."""
from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from sim.bot.cycle import Bot
from sim.bot.policies import BotConfig, ExecutionPolicy, FlipMode, PartialFillPolicy, ProtectivePolicy
from sim.bot.record import PlatformRecord
from sim.bot.sizing import SizingMode, SizingPolicy
from sim.bot.strategy.scripted import ScriptedTargets
from sim.core.instrument import Instrument
from sim.core.messages import SubmitOrder
from sim.core.types import OrderType, Side, TimeInForce
from tests.fakes import FakeVenue, drive

D = Decimal
INST = Instrument("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("5"))
MINUTE = 60_000


DEFAULT_EXECUTION, DEFAULT_SIZING = ExecutionPolicy(), SizingPolicy()


def make_bot(tmp_path, targets, *, execution=DEFAULT_EXECUTION, sizing=DEFAULT_SIZING, max_position=None,
             max_leverage=None):
    record = PlatformRecord.open(tmp_path / "record.sqlite", "BTCUSDT", "ae")
    steps = [{"at_ms": i * MINUTE, "side": side, "qty": qty} for i, (side, qty) in enumerate(targets)]
    config = BotConfig("ae", INST, MINUTE, 0, ProtectivePolicy(enabled=False), max_position=max_position,
                       max_leverage=max_leverage, sizing=sizing, execution=execution)
    return Bot(config, record, ScriptedTargets(targets=steps, start_ms=0)), record


def run_cycles(bot, venue, n):
    for i in range(n):
        venue.now = max(venue.now, i * MINUTE)
        drive(bot.cycle(), venue)


def entries(venue, since=0):
    """The trading orders sent (no TP/SL): (side, qty, reduce_only)."""
    return [(r.side, r.qty, r.reduce_only) for r in venue.requests[since:]
            if isinstance(r, SubmitOrder) and r.trigger_price is None]


def decisions(tmp_path):
    with sqlite3.connect(tmp_path / "record.sqlite") as conn:
        return [(a, D(q)) for a, q in conn.execute("SELECT action, qty FROM decisions ORDER BY id")]


@pytest.mark.parametrize("second, action, order, after", [
    (("flat", "0"), "close", (Side.SELL, D("0.2"), True), D("0")),
    (("long", "0.3"), "increase", (Side.BUY, D("0.1"), False), D("0.3")),
    (("long", "0.05"), "reduce", (Side.SELL, D("0.15"), True), D("0.05")),
], ids=["close", "increase", "reduce"])
def test_a_second_target_becomes_close_increase_or_reduce_of_the_live_position_reduce_only_when_reducing(
        tmp_path, second, action, order, after):
    bot, rec = make_bot(tmp_path, [("long", "0.2"), second])
    venue = FakeVenue(price=100.0)
    run_cycles(bot, venue, 1)
    n = len(venue.requests)
    run_cycles(bot, venue, 2)
    assert decisions(tmp_path) == [("open", D("0.2")), (action, order[1])]
    assert entries(venue, n) == [order]
    assert rec.state.position.qty == after == venue.qty


def test_a_target_equal_to_the_live_position_holds_and_sends_nothing(tmp_path):
    bot, rec = make_bot(tmp_path, [("long", "0.2"), ("long", "0.2")])
    venue = FakeVenue(price=100.0)
    run_cycles(bot, venue, 1)
    n = len(venue.requests)
    run_cycles(bot, venue, 2)
    assert entries(venue, n) == []
    assert rec.state.position.qty == D("0.2") and rec.state.pending is None


def test_close_then_open_flip_sends_a_reduce_only_close_then_the_open_once_the_close_filled(tmp_path):
    bot, rec = make_bot(tmp_path, [("long", "0.1"), ("short", "0.2")],
                        execution=ExecutionPolicy(flip=FlipMode.CLOSE_THEN_OPEN))
    venue = FakeVenue(price=100.0)
    run_cycles(bot, venue, 1)
    n = len(venue.requests)
    run_cycles(bot, venue, 2)
    assert entries(venue, n) == [(Side.SELL, D("0.1"), True), (Side.SELL, D("0.2"), False)]
    assert rec.state.position.qty == D("-0.2") == venue.qty


def test_close_then_open_flip_whose_close_fills_partly_stops_in_a_known_state_and_completes_next_cycle(tmp_path):
    bot, rec = make_bot(tmp_path, [("long", "0.1"), ("short", "0.2")],
                        execution=ExecutionPolicy(flip=FlipMode.CLOSE_THEN_OPEN))
    venue = FakeVenue(price=100.0)
    run_cycles(bot, venue, 1)
    venue.fill_caps.append(D("0.04"))
    n = len(venue.requests)
    venue.now = MINUTE
    drive(bot.cycle(), venue)
    assert entries(venue, n) == [(Side.SELL, D("0.1"), True)]  # no open leg after a short close
    assert rec.state.position.qty == D("0.06") == venue.qty  # known: the record has what the venue has
    venue.now = 2 * MINUTE
    drive(bot.cycle(), venue)  # policy "complete": the pending target is pursued
    assert rec.state.position.qty == D("-0.2") == venue.qty


@pytest.mark.parametrize("policy, after_cycle, after_next", [
    (PartialFillPolicy.CANCEL, D("0.1"), D("0.1")),     # accept the partial position
    (PartialFillPolicy.CHASE, D("0.3"), D("0.3")),      # IOC limits within the cycle get the rest
    (PartialFillPolicy.COMPLETE, D("0.1"), D("0.3")),   # the next cycle pursues the rest
    (PartialFillPolicy.UNWIND, D("0.1"), D("0")),       # the next cycle goes flat
], ids=lambda v: v.value if isinstance(v, PartialFillPolicy) else None)
def test_each_partial_fill_policy_ends_where_it_says_this_cycle_and_the_next(tmp_path, policy, after_cycle,
                                                                             after_next):
    bot, rec = make_bot(tmp_path, [("long", "0.3")], execution=ExecutionPolicy(partial_fill=policy))
    venue = FakeVenue(price=100.0)
    venue.fill_caps.append(D("0.1"))  # the open gets a third; the rest of the IOC expires
    drive(bot.cycle(), venue)
    assert rec.state.position.qty == after_cycle == venue.qty
    venue.now = MINUTE
    drive(bot.cycle(), venue)
    assert rec.state.position.qty == after_next == venue.qty
    if policy is PartialFillPolicy.CHASE:
        chase = [r for r in venue.requests if isinstance(r, SubmitOrder) and r.type is OrderType.LIMIT]
        assert [(r.qty, r.time_in_force) for r in chase] == [(D("0.2"), TimeInForce.IOC)]
        assert chase[0].price <= D("100.1")  # no worse than chase_limit_bps (10) from the decision mid


def test_max_position_caps_what_pursue_sends(tmp_path):
    bot, rec = make_bot(tmp_path, [("long", "0.5")], max_position=D("0.2"))
    venue = FakeVenue(price=100.0)
    run_cycles(bot, venue, 1)
    assert entries(venue) == [(Side.BUY, D("0.2"), False)]


def test_max_leverage_caps_the_position_notional_against_fresh_equity(tmp_path):
    bot, rec = make_bot(tmp_path, [("long", "50")], max_leverage=0.1)  # equity 10,000 -> notional 1,000
    venue = FakeVenue(price=100.0)
    run_cycles(bot, venue, 1)
    assert entries(venue) == [(Side.BUY, D("10"), False)]


def test_fixed_notional_sizing_turns_the_target_into_quantity_at_the_fresh_mid(tmp_path):
    bot, rec = make_bot(tmp_path, [("short", "1")], sizing=SizingPolicy(SizingMode.FIXED_NOTIONAL, 250.0))
    venue = FakeVenue(price=100.0)
    run_cycles(bot, venue, 1)
    assert entries(venue) == [(Side.SELL, D("2.5"), False)]


def test_an_entry_is_sized_down_to_fresh_available_margin_and_the_reason_recorded(tmp_path):
    bot, rec = make_bot(tmp_path, [("long", "5")])
    venue = FakeVenue(price=100.0)
    venue.available_margin = 50.0  # funds 50 / (100 / 5 * 1.002) = 2.49 at leverage 5
    run_cycles(bot, venue, 1)
    assert entries(venue) == [(Side.BUY, D("2.495"), False)]
    with sqlite3.connect(tmp_path / "record.sqlite") as conn:
        (reason,) = conn.execute("SELECT reason FROM decisions").fetchone()
    assert "sized down" in reason


def test_an_entry_no_margin_can_fund_is_skipped_as_hold_with_nothing_sent(tmp_path):
    bot, rec = make_bot(tmp_path, [("long", "5")])
    venue = FakeVenue(price=100.0)
    venue.available_margin = 0.0
    run_cycles(bot, venue, 1)
    assert entries(venue) == []
    assert decisions(tmp_path) == [("hold", D("0"))]


def test_a_position_that_moved_after_the_reconcile_is_reconciled_before_deciding_and_nothing_is_sent(tmp_path):
    from sim.core.messages import FetchTicker
    bot, rec = make_bot(tmp_path, [("short", "0.25")], max_position=D("0.25"))
    venue = FakeVenue(price=100.0)
    venue.on_request[FetchTicker] = lambda: venue.external_fill(Side.SELL, D("0.1"), "ext-1")  # mid-cycle
    run_cycles(bot, venue, 1)
    assert entries(venue) == []  # no order sized on the stale position
    assert rec.state.position.qty == D("-0.1") == venue.qty
    venue.now = MINUTE
    drive(bot.cycle(), venue)  # the target is kept and decided afresh on the live position
    assert entries(venue) == [(Side.SELL, D("0.15"), False)]
    assert rec.state.position.qty == D("-0.25") == venue.qty


def test_a_chase_never_trades_beyond_what_the_margin_check_funded(tmp_path):
    """Found by the property tests: a flip sized down to fit the margin filled whole, and the chase
    then traded the rest of the unfunded target under the same decision (0.133 decided, 0.2 filled)."""
    bot, rec = make_bot(tmp_path, [("long", "1"), ("short", "1")],
                        execution=ExecutionPolicy(partial_fill=PartialFillPolicy.CHASE))
    venue = FakeVenue(price=100.0)
    run_cycles(bot, venue, 1)
    venue.available_margin = 10.0  # funds 0.499 at leverage 5: the open part is cut from 1 to 0.499
    n = len(venue.requests)
    run_cycles(bot, venue, 2)
    assert entries(venue, n) == [(Side.SELL, D("1.499"), False)]  # and no chase for the unfunded rest
    assert venue.qty == D("-0.499") and rec.state.position.qty == D("-0.499")
