"""DepthProfile.walk: the closed-form walk against an explicit level-by-level ladder."""
from __future__ import annotations

import math

import numpy as np
import pytest

from sim.world.liquidity import IDEAL, DepthProfile

MID = 50_000.0


def ladder(d: DepthProfile) -> list[tuple[float, float]]:
    """(distance in bps, quantity) for each level of one side, built explicitly."""
    h = 0.5 * d.spread_bps
    return [(h + k * d.level_step_bps, d.level0_qty * (2 * k + 1)) for k in range(d.levels)]


def brute_walk(d: DepthProfile, buy: bool, qty: float, mid: float) -> tuple[float, float, float]:
    """(filled, average price, worst price) of taking ``qty`` level by level.

    A residue below 1e-12 of the order is float noise from the running subtraction, not a fill
    on the next level.
    """
    left, filled, bps_volume, worst = qty, 0.0, 0.0, 0.0
    for bps, size in ladder(d):
        if left <= 1e-12 * qty:
            break
        take = min(left, size)
        filled += take
        bps_volume += take * bps
        worst = bps
        left -= take
    sign = 1.0 if buy else -1.0
    return filled, mid * (1 + sign * bps_volume / filled * 1e-4), mid * (1 + sign * worst * 1e-4)


PROFILES = [
    DepthProfile(),
    DepthProfile(spread_bps=2.0, level_step_bps=0.25, level0_qty=0.01, levels=1000),
    DepthProfile(spread_bps=0.0, level_step_bps=1.0, level0_qty=3.0, levels=20),
    DepthProfile(spread_bps=5.0, level_step_bps=0.0, level0_qty=1.0, levels=5),
]


@pytest.mark.parametrize("buy", [True, False])
@pytest.mark.parametrize("depth", PROFILES)
def test_tiny_order_fills_at_the_touch(depth, buy):
    qty = depth.level0_qty / 10
    w = depth.walk(buy, qty, MID)
    h = 0.5 * depth.spread_bps * 1e-4
    expected = MID * (1 + h) if buy else MID * (1 - h)
    assert w.filled == pytest.approx(qty)
    assert w.avg_price == pytest.approx(expected, rel=1e-12)
    assert w.worst_price == pytest.approx(expected, rel=1e-12)
    bid, ask = depth.touch(MID)
    assert w.avg_price == pytest.approx(ask if buy else bid, rel=1e-12)


@pytest.mark.parametrize("buy", [True, False])
@pytest.mark.parametrize("depth", PROFILES)
def test_closed_form_walk_equals_level_by_level_walk(depth, buy):
    rng = np.random.default_rng(int(depth.levels))
    total = depth.total_qty
    # random sizes over many decades, plus sizes exactly at level boundaries and either side of them
    sizes = list(np.exp(rng.uniform(math.log(depth.level0_qty / 100), math.log(total), 300)))
    for n in (1, 2, 3, depth.levels // 2, depth.levels - 1, depth.levels):
        boundary = depth.level0_qty * n * n
        sizes += [boundary, boundary * (1 - 1e-9), boundary * (1 + 1e-9)]
    for q in sizes:
        q = float(min(q, total))
        w = depth.walk(buy, q, MID)
        filled, avg, worst = brute_walk(depth, buy, q, MID)
        assert w.filled == pytest.approx(filled, rel=1e-12), q
        assert w.avg_price == pytest.approx(avg, rel=1e-12), q
        assert w.worst_price == pytest.approx(worst, rel=1e-7), q


@pytest.mark.parametrize("buy", [True, False])
@pytest.mark.parametrize("depth", PROFILES)
def test_order_larger_than_the_book_fills_only_total_depth(depth, buy):
    w = depth.walk(buy, depth.total_qty * 3.7, MID)
    assert w.filled == pytest.approx(depth.total_qty, rel=1e-12)
    filled, avg, _ = brute_walk(depth, buy, depth.total_qty * 3.7, MID)
    assert filled == pytest.approx(depth.total_qty, rel=1e-12)
    assert w.avg_price == pytest.approx(avg, rel=1e-12)


@pytest.mark.parametrize("buy", [True, False])
@pytest.mark.parametrize("depth", PROFILES)
def test_worst_price_of_a_whole_book_sweep_is_the_last_level(depth, buy):
    last_bps = 0.5 * depth.spread_bps + (depth.levels - 1) * depth.level_step_bps
    sign = 1.0 if buy else -1.0
    for qty in (depth.total_qty, depth.total_qty * 10):
        w = depth.walk(buy, qty, MID)
        assert w.worst_price == pytest.approx(MID * (1 + sign * last_bps * 1e-4), rel=1e-12)


@pytest.mark.parametrize("depth", PROFILES)
def test_buy_and_sell_walks_are_mirror_images_around_the_mid(depth):
    for q in np.geomspace(depth.level0_qty / 10, depth.total_qty, 50):
        b, s = depth.walk(True, float(q), MID), depth.walk(False, float(q), MID)
        assert b.filled == s.filled
        assert b.avg_price - MID == pytest.approx(MID - s.avg_price, rel=1e-9)
        assert b.avg_price >= MID >= s.avg_price


def test_non_positive_order_fills_nothing_at_the_mid():
    for q in (0.0, -1.0):
        w = DepthProfile().walk(True, q, MID)
        assert (w.filled, w.avg_price, w.worst_price) == (0.0, MID, MID)


def test_average_impact_above_the_half_spread_grows_like_sqrt_of_size():
    depth = DepthProfile(spread_bps=1.0, level_step_bps=0.5, level0_qty=0.01, levels=10_000)  # 1e6 deep
    h = 0.5 * depth.spread_bps
    sizes = np.geomspace(1.0, 1_000.0, 25)  # three decades, at most ~3% of a side of the book
    assert sizes[-1] < depth.total_qty / 100
    impact_bps = [(depth.walk(True, float(q), MID).avg_price / MID - 1) * 1e4 - h for q in sizes]
    slope = np.polyfit(np.log(sizes), np.log(impact_bps), 1)[0]
    assert 0.4 <= slope <= 0.6, slope


def test_average_price_rises_with_size():
    depth = DepthProfile()
    avgs = [depth.walk(True, float(q), MID).avg_price for q in np.geomspace(0.01, depth.total_qty, 200)]
    assert all(b >= a for a, b in zip(avgs, avgs[1:], strict=False))


@pytest.mark.parametrize("buy", [True, False])
def test_ideal_profile_fills_whole_at_the_mid(buy):
    for q in (1e-6, 0.5, 1.0, 1234.5, 1e9):
        w = IDEAL.walk(buy, q, MID)
        assert w.filled == q
        assert w.avg_price == MID
        assert w.worst_price == MID


def test_worst_price_of_a_whole_book_sweep_never_lies_beyond_the_last_level():
    depth = DepthProfile(spread_bps=1.0, level_step_bps=0.5, level0_qty=0.013, levels=1961)
    last_bps = 0.5 * depth.spread_bps + (depth.levels - 1) * depth.level_step_bps
    w = depth.walk(True, depth.total_qty, MID)
    assert w.worst_price == pytest.approx(MID * (1 + last_bps * 1e-4), rel=1e-12)
