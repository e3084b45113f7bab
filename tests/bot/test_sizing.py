"""Sizing modes and exposure limits turn a target's posture into a venue-valid quantity."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sim.bot.sizing import SizingMode, SizingPolicy, cap_exposure, size_target
from sim.bot.strategy.base import Target
from sim.core.instrument import Instrument
from sim.core.types import PositionSide

D = Decimal
INST = Instrument("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("5"))
LONG = Target(PositionSide.LONG, D("0.25"), "why")


def sized(mode: SizingMode, value: float | None, equity=10_000.0, mid=20_000.0, stop=0.01) -> Target:
    return size_target(LONG, SizingPolicy(mode, value), INST, equity=equity, mid=mid, stop_loss_pct=stop)[0]


def test_strategy_mode_keeps_the_strategys_quantity():
    assert sized(SizingMode.STRATEGY, None).qty == D("0.25")


def test_fixed_quantity_mode():
    assert sized(SizingMode.FIXED_QTY, 0.4).qty == D("0.4")


def test_fixed_notional_mode_divides_by_the_mid_and_rounds_down_to_the_lot():
    assert sized(SizingMode.FIXED_NOTIONAL, 1_000.0, mid=30_000.0).qty == D("0.033")


def test_fraction_of_equity_mode():
    assert sized(SizingMode.EQUITY_FRACTION, 0.5, equity=10_000.0, mid=20_000.0).qty == D("0.25")


def test_risk_mode_loses_the_stated_fraction_of_equity_at_the_stop():
    t = sized(SizingMode.RISK, 0.01, equity=10_000.0, mid=20_000.0, stop=0.005)
    assert t.qty == D("1")  # 1 BTC x 20,000 x 0.5 % = 100 = 1 % of 10,000


def test_risk_mode_without_a_stop_distance_skips():
    target, why = size_target(LONG, SizingPolicy(SizingMode.RISK, 0.01), INST, equity=1e4, mid=2e4,
                              stop_loss_pct=None)
    assert target.qty == 0 and "stop-loss" in why


def test_size_below_the_venue_minimum_becomes_zero_with_a_reason():
    target, why = size_target(LONG, SizingPolicy(SizingMode.FIXED_NOTIONAL, 3.0), INST, equity=1e4, mid=2e4,
                              stop_loss_pct=None)
    assert target.qty == 0 and "below the venue minimum" in why


def test_flat_target_is_never_resized():
    flat = Target(PositionSide.FLAT, D(0))
    assert size_target(flat, SizingPolicy(SizingMode.FIXED_QTY, 1.0), INST, equity=1e4, mid=2e4,
                       stop_loss_pct=None)[0].qty == 0


@pytest.mark.parametrize("mode", [SizingMode.FIXED_QTY, SizingMode.RISK])
def test_modes_other_than_strategy_need_a_positive_value(mode):
    with pytest.raises(ValueError):
        SizingPolicy(mode, None)


def test_exposure_is_capped_by_max_position_and_by_max_leverage_keeping_the_sign():
    q, why = cap_exposure(D("-2"), max_position=D("1.5"), max_leverage=None, equity=1e4, mid=2e4, instrument=INST)
    assert q == D("-1.5") and "max_position" in why
    q, why = cap_exposure(D("2"), max_position=None, max_leverage=2.0, equity=1e4, mid=2e4, instrument=INST)
    assert q == D("1") and "equity" in why
    q, why = cap_exposure(D("0.5"), max_position=D("1"), max_leverage=3.0, equity=1e4, mid=2e4, instrument=INST)
    assert q == D("0.5") and why == ""
