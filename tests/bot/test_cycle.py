"""The bot's cycle against a scripted fake venue (no SimPy): lifecycle, protection, timeouts."""
from __future__ import annotations

import sqlite3
from dataclasses import replace
from decimal import Decimal

import pytest

from sim.bot.cycle import Bot
from sim.bot.policies import BotConfig, ProtectivePolicy
from sim.bot.record import PlatformRecord
from sim.bot.strategy.scripted import ScriptedTargets
from sim.core.errors import Rejected, RequestTimeout, Unavailable
from sim.core.instrument import Instrument
from sim.core.messages import CancelOrder, FetchOrder, SubmitOrder
from sim.core.types import OrderRole, OrderStatus, OrderType, RejectReason, Side
from tests.fakes import FakeVenue, drive

D = Decimal
INST = Instrument("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("5"))


DEFAULT_PROTECTION = ProtectivePolicy(True, 0.01, 0.005)


def make_bot(tmp_path, targets, protective=DEFAULT_PROTECTION):
    record = PlatformRecord.open(tmp_path / "record.sqlite", "BTCUSDT", "ae")
    strategy = ScriptedTargets(targets=targets, start_ms=0)
    bot = Bot(BotConfig("ae", INST, 60_000, 0, protective), record, strategy)
    return bot, record


def submitted(venue: FakeVenue) -> list[SubmitOrder]:
    return [r for r in venue.requests if isinstance(r, SubmitOrder)]


def test_open_places_entry_then_native_tp_and_sl_sized_to_the_position(tmp_path):
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": "0.1"}])
    venue = FakeVenue(price=100.0)
    drive(bot.cycle(), venue)
    roles = [(s.side, s.qty, s.reduce_only, s.trigger_price) for s in submitted(venue)]
    assert roles == [(Side.BUY, D("0.1"), False, None), (Side.SELL, D("0.1"), True, D("101.0")),
                     (Side.SELL, D("0.1"), True, D("99.5"))]
    assert rec.state.position.qty == D("0.1")
    assert {o.role for o in rec.state.open_protective()} == {OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS}


def test_tp_fill_between_cycles_closes_the_record_and_cancels_the_leftover_sl(tmp_path):
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": "0.1"}])
    venue = FakeVenue(price=100.0)
    drive(bot.cycle(), venue)
    tp = next(o for o in rec.state.open_protective() if o.role is OrderRole.TAKE_PROFIT)
    sl = next(o for o in rec.state.open_protective() if o.role is OrderRole.STOP_LOSS)
    venue.price = 101.0
    venue.trigger(tp.client_id)
    drive(bot.cycle(), venue)
    assert rec.state.position.qty == 0
    assert venue.orders[sl.client_id].status is OrderStatus.CANCELLED
    with sqlite3.connect(tmp_path / "record.sqlite") as conn:
        cause = conn.execute("SELECT kind, cause FROM drift_episodes").fetchall()
        attributed = conn.execute("SELECT attributed_to FROM fills WHERE client_id = ?", (tp.client_id,)).fetchone()
    assert cause == [("position_gone", "take_profit_fill")]
    assert attributed == ("take_profit_fill",)


def test_flip_is_one_order_of_twice_the_size_and_protection_moves_to_the_new_side(tmp_path):
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": "0.1"},
                                   {"at_ms": 60_000, "side": "short", "qty": "0.1"}])
    venue = FakeVenue(price=100.0)
    drive(bot.cycle(), venue)
    venue.now = 60_000
    n = len(submitted(venue))
    drive(bot.cycle(), venue)
    entries = [s for s in submitted(venue)[n:] if s.trigger_price is None]
    assert [(s.side, s.qty) for s in entries] == [(Side.SELL, D("0.2"))]
    assert rec.state.position.qty == D("-0.1") and venue.qty == D("-0.1")
    assert all(o.side is Side.BUY for o in rec.state.open_protective())


def test_submit_timeout_with_the_order_live_is_resolved_by_query_never_resent(tmp_path):
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": "0.1"}],
                        protective=ProtectivePolicy(enabled=False))
    venue = FakeVenue(price=100.0)
    venue.lose_reply.add(SubmitOrder)
    drive(bot.cycle(), venue)
    assert len(submitted(venue)) == 1
    assert venue.qty == D("0.1") and rec.state.position.qty == D("0.1")
    with sqlite3.connect(tmp_path / "record.sqlite") as conn:
        statuses = [r[0] for r in conn.execute("SELECT to_status FROM order_transitions ORDER BY id")]
    assert statuses == ["new", "sent", "unknown", "filled"]


def test_margin_reject_is_recorded_then_the_same_intent_is_retried_once_on_fresh_numbers(tmp_path):
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": "0.1"}],
                        protective=ProtectivePolicy(enabled=False))
    venue = FakeVenue(price=100.0)
    venue.fail_next(SubmitOrder, Rejected(RejectReason.INSUFFICIENT_MARGIN))
    drive(bot.cycle(), venue)
    with sqlite3.connect(tmp_path / "record.sqlite") as conn:
        rows = conn.execute("SELECT client_id, status, reject_reason FROM orders ORDER BY client_id").fetchall()
    assert rows == [("ae-1-en-0", "rejected", "insufficient_margin"), ("ae-1-en-1", "filled", None)]
    assert rec.state.position.qty == D("0.1") and venue.qty == D("0.1")


def test_reduce_only_reject_makes_the_bot_reconcile_before_anything_else(tmp_path):
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": "0.1"},
                                   {"at_ms": 60_000, "side": "flat", "qty": "0"}],
                        protective=ProtectivePolicy(enabled=False))
    venue = FakeVenue(price=100.0)
    drive(bot.cycle(), venue)
    venue.now = 60_000
    venue.fail_next(SubmitOrder, Rejected(RejectReason.REDUCE_ONLY_WOULD_INCREASE))
    venue.on_submit = lambda: venue.external_fill(Side.SELL, D("0.1"), "ext-1")  # an operator closed it first
    n = len(venue.requests)
    drive(bot.cycle(), venue)
    from sim.core.messages import FetchPositions
    after_submit = venue.requests[n:]
    i = next(k for k, r in enumerate(after_submit) if isinstance(r, SubmitOrder))
    assert any(isinstance(r, FetchPositions) for r in after_submit[i + 1:])
    assert rec.state.position.qty == 0


def leave_next_submit_unknown(venue: FakeVenue, lookups_failing: int) -> None:
    """The next order's answer is lost and the lookups by client id fail: its status stays unknown."""
    venue.lose_reply.add(SubmitOrder)
    venue.fail_next(FetchOrder, Unavailable("down"), times=lookups_failing)


def test_order_of_unknown_status_blocks_new_decisions(tmp_path):
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": "0.1"}],
                        protective=ProtectivePolicy(enabled=False))
    venue = FakeVenue(price=100.0)
    leave_next_submit_unknown(venue, lookups_failing=2)
    drive(bot.cycle(), venue)  # submit times out, the query and the reconcile's fail too: unknown
    assert any(o.status is OrderStatus.UNKNOWN for o in rec.state.orders.values())
    bot.strategy = ScriptedTargets(targets=[{"at_ms": 0, "side": "short", "qty": "0.1"}], start_ms=0)
    venue.fail_next(FetchOrder, Unavailable("still down"))
    n = len(submitted(venue))
    drive(bot.cycle(), venue)
    assert len(submitted(venue)) == n  # no action while uncertain


@pytest.mark.parametrize("qty", ["0.1", "0.25"])
def test_restart_from_the_record_alone_remembers_position_and_open_orders(tmp_path, qty):
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": qty}])
    venue = FakeVenue(price=100.0)
    drive(bot.cycle(), venue)
    before = (rec.state.position.qty, sorted(rec.state.orders), rec.state.next_intent)
    rec.close()
    again = PlatformRecord.open(tmp_path / "record.sqlite", "BTCUSDT", "ae")
    assert (again.state.position.qty, sorted(again.state.orders), again.state.next_intent) == before


def test_no_protection_is_placed_while_a_flip_of_unknown_status_may_have_moved_the_position(tmp_path):
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": "0.1"},
                                   {"at_ms": 60_000, "side": "short", "qty": "0.1"}])
    venue = FakeVenue(price=100.0)
    drive(bot.cycle(), venue)
    venue.now = 60_000
    leave_next_submit_unknown(venue, lookups_failing=2)
    n = len(submitted(venue))
    drive(bot.cycle(), venue)  # the flip times out, the lookup and the reconcile's fail: unknown
    assert [s.trigger_price for s in submitted(venue)[n:]] == [None]  # the flip only: no TP/SL for the old long
    assert rec.state.open_protective() == []
    drive(bot.cycle(), venue)  # the next reconcile resolves it, then protection follows the short
    assert rec.state.position.qty == D("-0.1")
    assert {(o.role, o.side, o.qty) for o in rec.state.open_protective()} == {
        (OrderRole.TAKE_PROFIT, Side.BUY, D("0.1")), (OrderRole.STOP_LOSS, Side.BUY, D("0.1"))}


def test_an_episode_found_while_an_order_is_uncertain_is_resolved_by_the_next_clean_reconcile(tmp_path):
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": "0.1"}],
                        protective=ProtectivePolicy(enabled=False))
    venue = FakeVenue(price=100.0)
    leave_next_submit_unknown(venue, lookups_failing=3)
    drive(bot.cycle(), venue)  # the entry's status stays unknown through this cycle...
    venue.now = 60_000
    drive(bot.cycle(), venue)  # ...and the next: the position it made is found, still uncertain
    with sqlite3.connect(tmp_path / "record.sqlite") as conn:
        assert conn.execute("SELECT kind, resolved_ms FROM drift_episodes").fetchall() == [("position_appeared", None)]
    venue.now = 120_000
    drive(bot.cycle(), venue)  # the lookup answers: nothing uncertain, the episode is closed
    with sqlite3.connect(tmp_path / "record.sqlite") as conn:
        (episode, resolved), = conn.execute("SELECT id, resolved_ms FROM drift_episodes").fetchall()
        history = conn.execute("SELECT what, before, after FROM corrections WHERE episode_id=? AND what='episode'",
                               (episode,)).fetchall()
    assert resolved is not None and resolved >= 120_000
    assert history == [("episode", "unresolved", "resolved")]
    assert rec.state.open_episodes == []
    again = PlatformRecord.open(tmp_path / "record.sqlite", "BTCUSDT", "ae")
    assert again.state.open_episodes == []


def test_unknown_order_is_not_never_arrived_while_the_order_may_still_arrive(tmp_path):
    """Issue 15 bug 1: a lookup said "unknown" while the TP was still on the wire; the record marked it
    rejected, the TP then arrived, and the next reconcile's adoption crashed on a duplicate INSERT."""
    record = PlatformRecord.open(tmp_path / "record.sqlite", "BTCUSDT", "ae")
    strategy = ScriptedTargets(targets=[{"at_ms": 0, "side": "long", "qty": "0.1"}], start_ms=0)
    bot = Bot(BotConfig("ae", INST, 60_000, 0, DEFAULT_PROTECTION, recv_window_ms=30_000), record, strategy)
    venue = FakeVenue(price=100.0)
    venue.hold = lambda r: isinstance(r, SubmitOrder) and r.trigger_price is not None  # the TP is slow
    drive(bot.cycle(), venue)
    tp = venue.held[0]
    assert record.state.orders[tp.client_id].status is OrderStatus.UNKNOWN  # not "never arrived": it may arrive
    venue.arrive()
    venue.now = 60_000
    drive(bot.cycle(), venue)
    tps = [s for s in submitted(venue) if s.type.value == "take_profit_market"]
    assert len(tps) == 1  # never a second TP while the first may be live
    assert record.state.orders[tp.client_id].status is OrderStatus.ACKNOWLEDGED


def test_unknown_order_after_the_receive_window_proves_it_never_arrived(tmp_path):
    record = PlatformRecord.open(tmp_path / "record.sqlite", "BTCUSDT", "ae")
    strategy = ScriptedTargets(targets=[{"at_ms": 0, "side": "long", "qty": "0.1"}], start_ms=0)
    bot = Bot(BotConfig("ae", INST, 60_000, 0, DEFAULT_PROTECTION, recv_window_ms=30_000), record, strategy)
    venue = FakeVenue(price=100.0)
    venue.hold = lambda r: isinstance(r, SubmitOrder) and r.trigger_price is not None
    drive(bot.cycle(), venue)
    tp = venue.held[0]
    venue.held.clear()  # it was lost on the wire after all
    venue.now = 60_000
    drive(bot.cycle(), venue)
    with sqlite3.connect(tmp_path / "record.sqlite") as conn:
        row = conn.execute("SELECT status FROM orders WHERE client_id=?", (tp.client_id,)).fetchone()
    assert row == ("rejected",)
    assert {o.role for o in record.state.open_protective() if o.status.is_open} == {OrderRole.TAKE_PROFIT,
                                                                                  OrderRole.STOP_LOSS}


def test_no_market_exit_while_the_other_protective_orders_cancel_is_unresolved(tmp_path):
    """Issue 15 bug 2: the SL would trigger at once, so the bot exits at market after withdrawing the TP;
    when the TP's cancel times out the TP may still be live, and exiting would leave it on a flat position."""
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": "0.1"}])
    venue = FakeVenue(price=100.0)
    drive(bot.cycle(), venue)
    sl = next(o for o in rec.state.open_protective() if o.role is OrderRole.STOP_LOSS)
    tp = next(o for o in rec.state.open_protective() if o.role is OrderRole.TAKE_PROFIT)
    venue.orders[sl.client_id] = replace(venue.orders[sl.client_id], status=OrderStatus.CANCELLED)  # an operator
    venue.fail_next(SubmitOrder, Rejected(RejectReason.WOULD_TRIGGER_IMMEDIATELY))
    venue.fail_next(CancelOrder, RequestTimeout("no answer in time"))
    venue.now = 60_000
    n = len(submitted(venue))
    drive(bot.cycle(), venue)
    exits = [s for s in submitted(venue)[n:] if s.type is OrderType.MARKET]
    assert exits == []  # the TP may be live: no exit until its status is known
    assert venue.orders[tp.client_id].status.is_open and venue.qty == D("0.1")


def test_protection_after_an_unanswered_order_is_sized_on_a_fresh_position(tmp_path):
    """Issue 15 bug 3: the TP's answer was lost; while the bot waited and looked it up, an operator
    reduced the position; the SL then went out for the old size without a fresh position read."""
    bot, rec = make_bot(tmp_path, [{"at_ms": 0, "side": "long", "qty": "0.1"}])
    venue = FakeVenue(price=100.0)
    venue.lose = lambda r: isinstance(r, SubmitOrder) and r.type is OrderType.TAKE_PROFIT_MARKET
    venue.on_request[FetchOrder] = lambda: venue.external_fill(Side.SELL, D("0.05"), "ext-1")  # meanwhile
    drive(bot.cycle(), venue)
    stops = [s.qty for s in submitted(venue) if s.type is OrderType.STOP_MARKET]
    assert D("0.1") not in stops  # never protection for a position that is no longer there
    live = [o for o in venue.orders.values() if o.status.is_open]
    assert {(o.type, o.qty) for o in live} == {(OrderType.TAKE_PROFIT_MARKET, D("0.05")),
                                               (OrderType.STOP_MARKET, D("0.05"))}
    assert rec.state.position.qty == D("0.05")
