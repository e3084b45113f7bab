"""The book's dynamics: transient impact that lasts and decays, depth that follows volatility and
differs by side, and the static book still available by name."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.market.metaorder import run_metaorder
from sim.scenario.loader import load_scenario, parse_scenario
from sim.world.book_dynamics import DepthParams, DynamicBook, ImpactParams
from sim.world.build import annualised_vol, book_of, depth_profile, replay_path
from sim.world.liquidity import DepthProfile, LiquiditySchedule
from sim.world.market import PricePath
from sim.world.rng import RunStreams

ROOT = Path(__file__).resolve().parents[2]
HALFLIFE = 60_000


def scenario(**liquidity):
    return parse_scenario({"scenario": {"name": "d", "description": "dynamics", "duration": "1h"},
                           "liquidity": {"depth_model": "static", **liquidity}})


@pytest.mark.parametrize("total", [10, 20, 50, 100])
def test_slices_close_together_pay_the_square_root_law_for_the_whole(total):
    m = run_metaorder(scenario(), total, 100, 100)
    assert 0.85 <= m.cost_bps / m.sqrt_law_bps <= 1.05, m
    assert m.cost_bps > 3 * m.slice_bps  # slicing does not escape the impact of the whole


def test_the_cost_of_a_fast_metaorder_beyond_its_slices_grows_as_the_square_root_of_its_size():
    sizes = np.array([10.0, 20.0, 50.0, 100.0])
    extra = [run_metaorder(scenario(), q, 100, 100) for q in sizes]
    slope = np.polyfit(np.log(sizes), np.log([m.cost_bps - m.slice_bps for m in extra]), 1)[0]
    assert 0.45 <= slope <= 0.55


@pytest.mark.parametrize("total", [10, 100])
def test_slices_spread_many_half_lives_apart_each_pay_about_the_single_piece_cost(total):
    m = run_metaorder(scenario(), total, 10, 10 * HALFLIFE)
    assert m.slice_bps <= m.cost_bps <= 1.15 * m.slice_bps, m
    assert m.cost_bps < 0.3 * m.sqrt_law_bps


def test_the_impact_decays_after_the_metaorder_at_the_stated_half_life():
    """sqrt of the volume left: half the volume after one half-life leaves 1/sqrt(2) of the impact."""
    m = run_metaorder(scenario(), 50, 50, 100, (HALFLIFE, 2 * HALFLIFE, 10 * HALFLIFE))
    assert m.left_after[HALFLIFE] == pytest.approx(math.sqrt(0.5), abs=0.03)
    assert m.left_after[2 * HALFLIFE] == pytest.approx(0.5, abs=0.03)
    assert m.left_after[10 * HALFLIFE] < 0.05


def test_the_static_book_of_before_is_available_by_name():
    sc = scenario(impact="none")
    path = PricePath(0, 1000, np.full(10, 30_000.0))
    schedule = LiquiditySchedule(depth_profile(sc, 30_000.0))
    assert book_of(sc, schedule, path, RunStreams(1)) is schedule
    m = run_metaorder(sc, 50, 50, 100)
    assert m.cost_bps == pytest.approx(m.slice_bps, rel=1e-9)  # it refills before every slice


def _book(mid: np.ndarray, impact: ImpactParams | None = None, depth: DepthParams | None = None,
          base: DepthProfile | None = None) -> tuple[DynamicBook, PricePath]:
    path = PricePath(0, 1000, mid)
    base = base or DepthProfile(0.033, 0.04, 0.1, 400, 1.4)
    return DynamicBook(LiquiditySchedule(base), path, impact, depth), path


def test_impact_stays_on_the_side_taken_and_leaves_the_mid_alone():
    book, path = _book(np.full(100, 30_000.0), ImpactParams(0.45, HALFLIFE))
    fresh_bid, fresh_ask = book.touch(1000, 30_000.0)
    book.take(1000, True, 50.0, 30_000.0)
    bid, ask = book.touch(2000, 30_000.0)
    assert bid == fresh_bid and ask > fresh_ask * (1 + 0.45 * math.sqrt(49) * 1e-4)
    sell = book.take(2000, False, 1.0, 30_000.0)
    assert sell.avg_price == LiquiditySchedule(book.at(0)).take(2000, False, 1.0, 30_000.0).avg_price  # no gain
    assert path.mid_at(2000) == path.mark_at(2000) == 30_000.0
    limit = fresh_ask * (1 + 1e-4)
    assert book.reach(2000, True, 30_000.0, limit) < LiquiditySchedule(book.at(0)).reach(2000, True, 30_000.0, limit)


def _calm_then_wild(seed: int = 3) -> np.ndarray:
    """An hour at 20 % a year, then an hour at 300 % (1-second steps)."""
    rng = np.random.default_rng(seed)
    per_s = np.r_[np.full(3600, 0.2), np.full(3600, 3.0)] / math.sqrt(365 * 86_400)
    return 30_000.0 * np.exp(np.cumsum(per_s * rng.standard_normal(7200)))


DEPTH = DepthParams(vol_window_ms=300_000, vol_reference=0.6, depth_vol_elasticity=1.0, spread_vol_threshold=3.0,
                    side_depth_sd=0.0, side_depth_period_ms=60_000, seed=7)


def test_depth_thins_and_the_spread_widens_when_realized_volatility_rises():
    book, path = _book(_calm_then_wild(), depth=DEPTH)
    calm, wild = 3_000_000, 7_000_000
    cost = {t: (book.take(t, True, 10.0, path.mid_at(t)).avg_price / path.mid_at(t) - 1) * 1e4 for t in (calm, wild)}
    assert cost[wild] > 3 * cost[calm]
    spread = {t: np.subtract(*book.touch(t, path.mid_at(t))[::-1]) / path.mid_at(t) * 1e4 for t in (calm, wild)}
    assert spread[calm] == pytest.approx(0.033)
    assert spread[wild] >= 0.066 - 1e-9  # five times the reference: whole multiples of the spread from three
    assert book.depth.realized_ratio(wild) == pytest.approx(5.0, rel=0.15)
    assert book.depth.realized_ratio(calm) == pytest.approx(1 / 3, rel=0.15)


def test_each_side_has_its_own_depth_factor_drawn_from_the_stated_lognormal():
    book, _ = _book(np.full(10, 30_000.0), depth=DepthParams(300_000, 0.0, 1.0, 3.0, 0.6, 60_000, 11))
    f = np.log([book.depth.side_factors(k * 60_000) for k in range(4000)])
    assert f.std() == pytest.approx(0.6, rel=0.05)
    assert abs(np.corrcoef(f[:, 0], f[:, 1])[0, 1]) < 0.05
    assert np.mean(np.abs(f[:, 0] - f[:, 1]) > math.log(3)) > 0.15  # one side three times thinner is common
    again, _ = _book(np.full(10, 30_000.0), depth=DepthParams(300_000, 0.0, 1.0, 3.0, 0.6, 60_000, 11))
    assert again.depth.side_factors(1234 * 60_000 + 5) == tuple(np.exp(f[1234]))  # the seed and the period decide


def test_the_volatility_is_measured_only_when_an_order_needs_the_book():
    book, path = _book(_calm_then_wild(), depth=DEPTH)
    assert book.depth._at == (-1, 1.0)  # building it measured nothing
    book.touch(4_000_000, path.mid_at(4_000_000))
    assert book.depth._at[0] == path.index_at(4_000_000)


def test_a_replay_measures_volatility_against_the_replayed_prices_own():
    sc = load_scenario(ROOT / "scenarios/basics/replay-real.toml")
    streams = RunStreams(0)
    path, _ = replay_path(sc, streams)
    book = book_of(sc, LiquiditySchedule(depth_profile(sc, float(path.mid[0]))), path, streams)
    assert book.depth.params.vol_reference == pytest.approx(annualised_vol(path)) and annualised_vol(path) > 0.05
    ratios = [book.depth.realized_ratio(path.time_of(i)) for i in range(0, len(path), 97)]
    assert 0.5 < float(np.sqrt(np.mean(np.square(ratios)))) < 2.0  # its windows sit around the reference
