"""Refusals and silences by kind, against the scripted fake venue (no SimPy): what the bot does next."""
from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from sim.bot.cycle import Bot
from sim.bot.policies import BotConfig, ProtectivePolicy
from sim.bot.record import PlatformRecord
from sim.bot.strategy.scripted import ScriptedTargets
from sim.core.errors import RateLimited, Rejected, Unavailable
from sim.core.instrument import Instrument
from sim.core.messages import FetchOrder, FetchPositions, FillReport, Sleep, SubmitOrder
from sim.core.types import FillKind, OrderRole, OrderStatus, RejectReason, Side, TradeId
from tests.fakes import FakeVenue, drive

D = Decimal
INST = Instrument("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("5"))
NO_PROTECTION = ProtectivePolicy(enabled=False)


def make_bot(tmp_path, targets, protective=NO_PROTECTION):
    record = PlatformRecord.open(tmp_path / "record.sqlite", "BTCUSDT", "ae")
    bot = Bot(BotConfig("ae", INST, 60_000, 0, protective), record, ScriptedTargets(targets=targets, start_ms=0))
    return bot, record


LONG = [{"at_ms": 0, "side": "long", "qty": "0.1"}]


def orders(tmp_path) -> dict[str, tuple]:
    """Every order in the record file: client id -> (status, reject reason, created_ms, updated_ms)."""
    with sqlite3.connect(tmp_path / "record.sqlite") as conn:
        rows = conn.execute("SELECT client_id, status, reject_reason, created_ms, updated_ms FROM orders")
        return {r[0]: r[1:] for r in rows}


def after_first_submit(venue: FakeVenue) -> list:
    i = next(k for k, r in enumerate(venue.requests) if isinstance(r, SubmitOrder))
    return venue.requests[i + 1:]


@pytest.mark.parametrize("reason", [RejectReason.BELOW_MIN_NOTIONAL, RejectReason.PRICE_OUT_OF_BAND,
                                    RejectReason.INSUFFICIENT_MARGIN])
def test_any_reject_makes_the_bot_reconcile_before_it_sends_anything_else(tmp_path, reason):
    bot, rec = make_bot(tmp_path, LONG)
    venue = FakeVenue(price=100.0)
    venue.fail_next(SubmitOrder, Rejected(reason))
    drive(bot.cycle(), venue)
    after = after_first_submit(venue)
    assert isinstance(after[0], FetchPositions)  # the reconcile comes first
    first_submit = next((k for k, r in enumerate(after) if isinstance(r, SubmitOrder)), len(after))
    assert any(isinstance(r, FetchPositions) for r in after[:first_submit])


def test_a_timeout_the_lookup_cannot_resolve_is_followed_by_a_reconcile_that_resolves_it(tmp_path):
    bot, rec = make_bot(tmp_path, LONG)
    venue = FakeVenue(price=100.0)
    venue.lose_reply.add(SubmitOrder)
    venue.fail_next(FetchOrder, Unavailable("down"))  # the lookup by id fails once
    drive(bot.cycle(), venue)
    after = after_first_submit(venue)
    assert [type(r) for r in after[:2]] == [FetchOrder, FetchPositions]
    assert rec.state.position.qty == D("0.1") and venue.qty == D("0.1")
    assert not any(o.status is OrderStatus.UNKNOWN for o in rec.state.orders.values())
    assert len([r for r in venue.requests if isinstance(r, SubmitOrder)]) == 1  # never re-sent


def test_unavailable_makes_the_bot_wait_then_reconcile_and_send_nothing_more_this_cycle(tmp_path):
    bot, rec = make_bot(tmp_path, LONG)
    venue = FakeVenue(price=100.0)
    venue.fail_next(SubmitOrder, Unavailable("outage"))
    drive(bot.cycle(), venue)
    after = after_first_submit(venue)
    status, reason, _, refused_at = orders(tmp_path)["ae-1-en-0"]
    assert isinstance(after[0], Sleep) and after[0].until_ms >= refused_at + bot.config.execution.unavailable_wait_ms
    assert isinstance(after[1], FetchPositions)
    assert not any(isinstance(r, SubmitOrder) for r in after)
    assert (status, reason) == ("rejected", "unavailable") and rec.state.position.qty == 0


def test_a_rate_limited_entry_is_resent_under_the_same_intent_after_the_retry_after(tmp_path):
    bot, rec = make_bot(tmp_path, LONG)
    venue = FakeVenue(price=100.0)
    venue.fail_next(SubmitOrder, RateLimited(500))
    drive(bot.cycle(), venue)
    subs = [r for r in venue.requests if isinstance(r, SubmitOrder)]
    assert [s.client_id for s in subs] == ["ae-1-en-0", "ae-1-en-1"]
    after = after_first_submit(venue)
    assert isinstance(after[0], Sleep) and after[0].until_ms >= orders(tmp_path)["ae-1-en-0"][3] + 500
    assert rec.state.position.qty == D("0.1") == venue.qty


def test_a_rate_limited_stop_loss_is_resent_within_the_cycle_not_left_for_the_next(tmp_path):
    bot, rec = make_bot(tmp_path, LONG, protective=ProtectivePolicy(True, 0.01, 0.005))
    venue = FakeVenue(price=100.0)
    sent = []

    def refuse_the_stop_loss_once(req):
        sent.append(req)
        return req.trigger_price == D("99.5") and len([r for r in sent if r.trigger_price == D("99.5")]) == 1

    original = venue.handle

    def handle(req, now):
        if isinstance(req, SubmitOrder) and refuse_the_stop_loss_once(req):
            venue.requests.append(req)
            venue.now = now
            raise RateLimited(400, now)
        return original(req, now)

    venue.handle = handle
    drive(bot.cycle(), venue)
    sls = {cid: row for cid, row in orders(tmp_path).items() if "-sl-" in cid}
    assert {cid: row[:2] for cid, row in sls.items()} == {"ae-3-sl-0": ("rejected", "rate_limited"),
                                                          "ae-3-sl-1": ("acknowledged", None)}
    assert sls["ae-3-sl-1"][2] - sls["ae-3-sl-0"][3] >= 400  # after the retry-after, not before
    assert {o.role for o in rec.state.open_protective()} == {OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS}


def test_a_back_off_keeps_sleeping_until_the_retry_after_when_a_pushed_update_wakes_it_early(tmp_path):
    bot, rec = make_bot(tmp_path, LONG)
    venue = FakeVenue(price=100.0)
    venue.fail_next(SubmitOrder, RateLimited(2_000))
    noise = FillReport(TradeId("x"), "BTCUSDT", None, "ae-1-en-0", Side.BUY, D("0.1"), D("100"), 0.0,
                       FillKind.TRADE, 0)
    venue.early_wakes.append((100, (noise,)))  # an update about an order in flight: not a surprise
    drive(bot.cycle(), venue)
    refused, resent = orders(tmp_path)["ae-1-en-0"][3], orders(tmp_path)["ae-1-en-1"][2]
    sleeps = [r for r in after_first_submit(venue) if isinstance(r, Sleep)]
    assert len(sleeps) == 2 and sleeps[0].until_ms == sleeps[1].until_ms  # woken early, slept on
    assert resent >= refused + 2_000


def test_a_read_that_times_out_is_asked_again_so_the_reconcile_completes_in_this_cycle(tmp_path):
    from sim.core.errors import RequestTimeout
    bot, rec = make_bot(tmp_path, LONG)
    venue = FakeVenue(price=100.0)
    venue.fail_next(FetchPositions, RequestTimeout("no answer in time"))
    drive(bot.cycle(), venue)
    assert [type(r) for r in venue.requests[:2]] == [FetchPositions, FetchPositions]
    assert rec.state.position.qty == D("0.1") == venue.qty  # the cycle went on to act
