"""Orders answered "acknowledged, nothing filled yet" (Binance's newOrderRespType=ACK, a matching engine
under load): such an order may still fill, and the bot must find out before it chases, completes or
sends anything else (issue 16, bot item 1)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sim.bot.cycle import Bot
from sim.bot.policies import BotConfig, ExecutionPolicy, PartialFillPolicy, ProtectivePolicy
from sim.bot.record import PlatformRecord
from sim.bot.strategy.scripted import ScriptedTargets
from sim.core.instrument import Instrument
from sim.core.messages import SubmitOrder
from sim.core.types import OrderType
from tests.fakes import FakeVenue, drive

D = Decimal
INST = Instrument("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("5"))
MINUTE = 60_000


NO_PROTECTION = ProtectivePolicy(enabled=False)


def make_bot(tmp_path, policy: PartialFillPolicy, protective=NO_PROTECTION):
    record = PlatformRecord.open(tmp_path / "record.sqlite", "BTCUSDT", "ae")
    config = BotConfig("ae", INST, MINUTE, 0, protective, execution=ExecutionPolicy(partial_fill=policy))
    strategy = ScriptedTargets(targets=[{"at_ms": 0, "side": "long", "qty": "0.1"}], start_ms=0)
    return Bot(config, record, strategy), record


def trades(venue: FakeVenue) -> list[SubmitOrder]:
    return [r for r in venue.requests if isinstance(r, SubmitOrder) and r.trigger_price is None]


@pytest.mark.parametrize("policy", list(PartialFillPolicy))
def test_an_acknowledged_market_order_is_never_chased_completed_or_resent(tmp_path, policy):
    """The case found by trying it: ACK answer, filled 0, then filled before the next request; with
    partial_fill = chase and a target of 0.1 the venue ended long 0.2 (the chase doubled the entry)."""
    bot, rec = make_bot(tmp_path, policy)
    venue = FakeVenue(price=100.0)
    venue.order_response = "ack"
    for i in range(3):
        venue.now = max(venue.now, i * MINUTE)
        drive(bot.cycle(), venue)
    assert venue.qty == D("0.1")
    assert rec.state.position.qty == D("0.1")
    assert len(trades(venue)) == 1


def test_protection_is_sized_on_the_fill_an_acknowledged_entry_got(tmp_path):
    bot, rec = make_bot(tmp_path, PartialFillPolicy.CHASE, protective=ProtectivePolicy(True, 0.01, 0.005))
    venue = FakeVenue(price=100.0)
    venue.order_response = "ack"
    drive(bot.cycle(), venue)
    live = {(o.type, o.qty) for o in venue.orders.values() if o.status.is_open}
    assert live == {(OrderType.TAKE_PROFIT_MARKET, D("0.1")), (OrderType.STOP_MARKET, D("0.1"))}


def test_an_acknowledged_order_that_filled_partly_is_then_chased_for_the_rest_only(tmp_path):
    bot, rec = make_bot(tmp_path, PartialFillPolicy.CHASE)
    venue = FakeVenue(price=100.0)
    venue.order_response = "ack"
    venue.fill_caps = [D("0.04")]
    drive(bot.cycle(), venue)
    assert [t.qty for t in trades(venue)] == [D("0.1"), D("0.06")]
    assert venue.qty == D("0.1") and rec.state.position.qty == D("0.1")


def test_an_order_still_working_after_the_lookups_holds_every_decision_until_it_ends(tmp_path):
    """A busy matching engine: the order is still NEW after the bot's lookups. The next cycle must not
    size anything on the position it may still move; once it has filled, the record follows."""
    bot, rec = make_bot(tmp_path, PartialFillPolicy.CHASE)
    venue = FakeVenue(price=100.0)
    venue.order_response = "ack"
    venue.match_after = 30  # longer than the bot asks
    drive(bot.cycle(), venue)
    assert venue.matching and rec.state.working()  # still working
    venue.now = MINUTE
    drive(bot.cycle(), venue)
    venue.match_after = 0
    venue.now = 2 * MINUTE
    drive(bot.cycle(), venue)
    assert len(trades(venue)) == 1
    assert venue.qty == D("0.1") and rec.state.position.qty == D("0.1") and not rec.state.working()
