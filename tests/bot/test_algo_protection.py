"""Protection as algo orders (Binance USD-M since 2025-12-09): placed, found, cancelled and replaced
through the algo requests; a triggered TP/SL attributed through the child order it made; moving
protection is cancel-and-replace, and no client id is ever used twice (issue 16, bot item 2)."""
from __future__ import annotations

import sqlite3
from dataclasses import replace
from decimal import Decimal

from sim.bot.cycle import Bot
from sim.bot.policies import BotConfig, ConditionalRoute, ProtectivePolicy
from sim.bot.record import PlatformRecord
from sim.bot.strategy.scripted import ScriptedTargets
from sim.core.instrument import Instrument
from sim.core.messages import AmendOrder, CancelAlgoOrder, CancelOrder, SubmitAlgoOrder, SubmitOrder
from sim.core.types import AlgoStatus, OrderRole, OrderType, Side
from tests.fakes import FakeVenue, drive

D = Decimal
INST = Instrument("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("5"))
MINUTE = 60_000
ALGO = ProtectivePolicy(True, 0.01, 0.005, route=ConditionalRoute.ALGO)


def setup(tmp_path, targets=None):
    record = PlatformRecord.open(tmp_path / "record.sqlite", "BTCUSDT", "ae")
    strategy = ScriptedTargets(targets=targets or [{"at_ms": 0, "side": "long", "qty": "0.1"}], start_ms=0)
    bot = Bot(BotConfig("ae", INST, MINUTE, 0, ALGO), record, strategy)
    venue = FakeVenue(price=100.0)
    venue.conditional_orders = "algo"
    return bot, record, venue


def cycle(bot, venue, at_ms):
    venue.now = max(venue.now, at_ms)
    drive(bot.cycle(), venue)


def algo_submits(venue) -> list[SubmitAlgoOrder]:
    return [r for r in venue.requests if isinstance(r, SubmitAlgoOrder)]


def episodes(tmp_path):
    with sqlite3.connect(tmp_path / "record.sqlite") as conn:
        return conn.execute("SELECT kind, cause FROM drift_episodes ORDER BY id").fetchall()


def test_protection_is_placed_and_found_through_the_algo_service_without_drift(tmp_path):
    bot, rec, venue = setup(tmp_path)
    cycle(bot, venue, 0)
    assert [(a.type, a.side, a.qty, a.trigger_price) for a in algo_submits(venue)] == [
        (OrderType.TAKE_PROFIT_MARKET, Side.SELL, D("0.1"), D("101.0")),
        (OrderType.STOP_MARKET, Side.SELL, D("0.1"), D("99.5"))]
    assert not [r for r in venue.requests if isinstance(r, SubmitOrder) and r.trigger_price is not None]
    cycle(bot, venue, MINUTE)
    cycle(bot, venue, 2 * MINUTE)
    assert len(algo_submits(venue)) == 2  # found live at the venue: never placed again
    assert episodes(tmp_path) == []
    assert {o.role for o in rec.state.open_protective()} == {OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS}


def test_a_triggered_tp_is_attributed_through_its_child_order_and_the_sl_is_withdrawn(tmp_path):
    bot, rec, venue = setup(tmp_path)
    cycle(bot, venue, 0)
    tp, sl = (a.client_algo_id for a in algo_submits(venue))
    venue.price = 101.0
    venue.trigger(tp)
    child = venue.algo_orders[tp].actual_client_id
    assert child is not None and not child.startswith("ae-")  # the venue's id, not ours
    cycle(bot, venue, MINUTE)
    assert rec.state.position.qty == 0
    assert episodes(tmp_path)[0] == ("position_gone", "take_profit_fill")
    with sqlite3.connect(tmp_path / "record.sqlite") as conn:
        attributed = conn.execute("SELECT attributed_to FROM fills").fetchall()
        tp_row = conn.execute("SELECT status, filled_qty FROM orders WHERE client_id=?", (tp,)).fetchone()
    assert attributed == [("expected",), ("take_profit_fill",)]
    assert tp_row == ("filled", "0.1")
    assert venue.algo_orders[sl].status is AlgoStatus.CANCELLED
    assert any(isinstance(r, CancelAlgoOrder) and r.client_algo_id == sl for r in venue.requests)


def test_resized_or_cancelled_protection_is_cancelled_and_replaced_under_new_client_ids(tmp_path):
    bot, rec, venue = setup(tmp_path)
    cycle(bot, venue, 0)
    first = {a.client_algo_id for a in algo_submits(venue)}
    venue.external_fill(Side.SELL, D("0.05"), "ext-1")  # an operator halves the position
    cycle(bot, venue, MINUTE)
    live = {cid: a for cid, a in venue.algo_orders.items() if a.status.is_open}
    assert {a.qty for a in live.values()} == {D("0.05")}
    assert not set(live) & first  # new ids: never one used before
    assert all(venue.algo_orders[cid].status is AlgoStatus.CANCELLED for cid in first)
    assert not [r for r in venue.requests if isinstance(r, AmendOrder | CancelOrder)]
    sl = next(cid for cid, a in live.items() if a.type is OrderType.STOP_MARKET)
    venue.algo_orders[sl] = replace(venue.algo_orders[sl], status=AlgoStatus.CANCELLED)  # an operator cancels it
    cycle(bot, venue, 2 * MINUTE)
    ids = [a.client_algo_id for a in algo_submits(venue)]
    assert len(ids) == len(set(ids)) == 5  # the SL replaced under a fresh id
    assert episodes(tmp_path)[-1] == ("protective_missing", "protective_mismatch")
