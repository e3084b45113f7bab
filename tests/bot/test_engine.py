"""The engine turns a target and the live position into each kind of decision."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sim.bot.engine import decide
from sim.bot.strategy.base import Target
from sim.core.instrument import Instrument
from sim.core.types import Action, PositionSide, Side

INST = Instrument("BTCUSDT", Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), Decimal("5"))
D = Decimal


def long(q: str) -> Target:
    return Target(PositionSide.LONG, D(q))


def short(q: str) -> Target:
    return Target(PositionSide.SHORT, D(q))


FLAT = Target(PositionSide.FLAT, D(0))


@pytest.mark.parametrize(("target", "position", "action", "side", "qty"), [
    (long("0.1"), D(0), Action.OPEN, Side.BUY, D("0.1")),
    (short("0.1"), D(0), Action.OPEN, Side.SELL, D("0.1")),
    (FLAT, D("0.1"), Action.CLOSE, Side.SELL, D("0.1")),
    (FLAT, D("-0.3"), Action.CLOSE, Side.BUY, D("0.3")),
    (short("0.1"), D("0.1"), Action.FLIP, Side.SELL, D("0.2")),
    (long("0.2"), D("-0.1"), Action.FLIP, Side.BUY, D("0.3")),
    (long("0.3"), D("0.1"), Action.INCREASE, Side.BUY, D("0.2")),
    (short("0.3"), D("-0.1"), Action.INCREASE, Side.SELL, D("0.2")),
    (long("0.1"), D("0.3"), Action.REDUCE, Side.SELL, D("0.2")),
    (short("0.1"), D("-0.3"), Action.REDUCE, Side.BUY, D("0.2")),
])
def test_target_and_live_position_give_each_action_kind(target, position, action, side, qty):
    d = decide(target, position, INST, mid=100.0)
    assert (d.action, d.side, d.qty) == (action, side, qty)
    assert d.target_qty == target.signed_qty
    assert d.position_before == position
    assert d.mid == 100.0


def test_no_new_target_holds():
    d = decide(None, D("0.1"), INST)
    assert d.action is Action.HOLD and d.qty == 0


def test_target_already_reached_holds():
    assert decide(long("0.1"), D("0.1"), INST).action is Action.HOLD
    assert decide(FLAT, D(0), INST).action is Action.HOLD


def test_target_size_is_rounded_down_to_the_lot():
    d = decide(long("0.1239"), D(0), INST)
    assert d.qty == D("0.123")


def test_decision_records_the_strategy_reason():
    d = decide(Target(PositionSide.LONG, D("0.1"), "SMA crossed"), D(0), INST)
    assert "SMA crossed" in d.reason
