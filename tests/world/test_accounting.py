"""PositionBook.apply_fill: average entry, realized PnL, flips and the wallet."""
from __future__ import annotations

import random
from decimal import Decimal

import pytest

from sim.world.accounting import PositionBook

D = Decimal


def test_first_fill_opens_at_the_fill_price_and_realizes_nothing():
    book = PositionBook(wallet=1000.0)
    assert book.apply_fill(D("2"), 100.0, 0.5) == 0.0
    assert book.qty == D("2")
    assert book.entry == 100.0
    assert book.realized_pnl == 0.0
    assert book.wallet == pytest.approx(999.5)


def test_opening_short_from_flat_uses_the_fill_price():
    book = PositionBook()
    book.apply_fill(D("-3"), 50.0, 0.0)
    assert book.qty == D("-3")
    assert book.entry == 50.0


@pytest.mark.parametrize("sign", [1, -1])
def test_increase_moves_entry_to_the_quantity_weighted_average(sign):
    book = PositionBook()
    book.apply_fill(D("1") * sign, 100.0, 0.0)
    realized = book.apply_fill(D("3") * sign, 120.0, 0.0)
    assert realized == 0.0
    assert book.qty == D("4") * sign
    assert book.entry == pytest.approx((1 * 100.0 + 3 * 120.0) / 4)


def test_partial_close_of_a_long_realizes_pnl_and_keeps_entry():
    book = PositionBook(wallet=1000.0)
    book.apply_fill(D("4"), 100.0, 0.0)
    realized = book.apply_fill(D("-1.5"), 110.0, 0.0)
    assert realized == pytest.approx(1.5 * 10.0)
    assert book.qty == D("2.5")
    assert book.entry == 100.0
    assert book.realized_pnl == pytest.approx(15.0)
    assert book.wallet == pytest.approx(1015.0)


def test_partial_close_of_a_short_realizes_pnl_with_the_short_sign():
    book = PositionBook()
    book.apply_fill(D("-2"), 100.0, 0.0)
    assert book.apply_fill(D("1"), 90.0, 0.0) == pytest.approx(10.0)  # short gains when price falls
    assert book.apply_fill(D("0.5"), 120.0, 0.0) == pytest.approx(-10.0)
    assert book.qty == D("-0.5")
    assert book.entry == 100.0


@pytest.mark.parametrize("sign", [1, -1])
def test_closing_to_flat_realizes_everything_and_resets_entry(sign):
    book = PositionBook()
    book.apply_fill(D("2") * sign, 100.0, 0.0)
    realized = book.apply_fill(D("-2") * sign, 105.0, 0.0)
    assert realized == pytest.approx(2 * 5.0 * sign)
    assert book.qty == 0
    assert book.entry == 0.0
    assert book.unrealized(200.0) == 0.0


@pytest.mark.parametrize("sign", [1, -1])
def test_flip_through_zero_realizes_the_closed_part_and_sets_entry_to_the_fill_price(sign):
    book = PositionBook()
    book.apply_fill(D("2") * sign, 100.0, 0.0)
    realized = book.apply_fill(D("-5") * sign, 90.0, 0.0)
    assert realized == pytest.approx(2 * (90.0 - 100.0) * sign)  # only the 2 that were closed
    assert book.qty == D("-3") * sign
    assert book.entry == 90.0


def test_unrealized_is_signed_quantity_times_distance_from_entry():
    book = PositionBook()
    book.apply_fill(D("-2"), 100.0, 0.0)
    assert book.unrealized(95.0) == pytest.approx(10.0)
    assert book.unrealized(105.0) == pytest.approx(-10.0)


def test_wallet_equals_initial_plus_realized_minus_fees_over_many_fills():
    rng = random.Random(11)
    book = PositionBook(wallet=5000.0)
    total_realized = total_fees = 0.0
    signed_sum = D(0)
    for _ in range(500):
        qty = D(rng.randint(-50, 50)) / 10 or D("0.1")
        price = rng.uniform(80, 120)
        fee = abs(float(qty)) * price * 0.0004
        total_realized += book.apply_fill(qty, price, fee)
        total_fees += fee
        signed_sum += qty
    assert book.qty == signed_sum  # exact: Decimal quantities
    assert book.realized_pnl == pytest.approx(total_realized)
    assert book.fees == pytest.approx(total_fees)
    assert book.wallet == pytest.approx(5000.0 + book.realized_pnl - book.fees)


def test_round_trip_profit_matches_hand_computation():
    book = PositionBook(wallet=100.0)
    book.apply_fill(D("1"), 10.0, 0.1)
    book.apply_fill(D("1"), 20.0, 0.1)  # entry 15
    book.apply_fill(D("-3"), 30.0, 0.3)  # closes 2 at +15 each, opens short 1 at 30
    book.apply_fill(D("1"), 25.0, 0.1)  # closes the short at +5
    assert book.qty == 0
    assert book.realized_pnl == pytest.approx(35.0)
    assert book.fees == pytest.approx(0.6)
    assert book.wallet == pytest.approx(100.0 + 35.0 - 0.6)
