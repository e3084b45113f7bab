"""The realistic price models: on the tick grid, seeded, searchable, and like the real BTC data."""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.market.bootstrap import block_indices, bootstrap_path
from sim.market.facts import stylised_facts
from sim.market.fit import fit_msm
from sim.market.msm import JumpParams, MsmParams, RegimeParams, hawkes_times, msm_path
from sim.market.scenario import msm_params
from sim.scenario.schema import Market
from sim.world.market import PricePath, TickLast

ROOT = Path(__file__).resolve().parents[2]
FTX = ROOT / "data/ftx-btc-perp/btc-perp-20211231-20220201_1m.csv.gz"


@pytest.fixture(scope="module")
def ftx_closes() -> np.ndarray:
    return pd.read_csv(FTX)["close"].to_numpy(float)


def test_msm_path_is_seeded_on_the_tick_grid_and_its_last_trades_at_bid_or_ask():
    p = MsmParams(30_000.0, 0.7, tick_size=0.1, active_share=0.7, jumps=JumpParams(rate=5))
    a = msm_path(p, 50_000, 1000, np.random.default_rng(1))
    assert np.array_equal(a, msm_path(p, 50_000, 1000, np.random.default_rng(1)))
    assert not np.array_equal(a, msm_path(p, 50_000, 1000, np.random.default_rng(2)))
    bid = a - 0.05
    assert np.allclose(bid * 10, np.round(bid * 10), atol=1e-6), "bid off the 0.1 grid"
    last = TickLast(a, 0.1, np.random.default_rng(3))
    s = last.series()
    assert np.allclose(np.abs(s - a), 0.05) and last.at(123) == s[123]
    assert np.allclose(s * 10, np.round(s * 10), atol=1e-6)


def test_chunked_generation_keeps_the_statistics_and_the_path_length():
    p = MsmParams(30_000.0, 0.7, active_share=0.6)
    small = msm_path(p, 200_001, 1000, np.random.default_rng(5), chunk=10_007)
    big = msm_path(p, 200_001, 1000, np.random.default_rng(5))
    assert len(small) == len(big) == 200_001
    zs = np.mean(np.diff(small) == 0), np.mean(np.diff(big) == 0)
    assert abs(zs[0] - 0.4) < 0.01 and abs(zs[1] - 0.4) < 0.01


def test_first_passage_search_works_on_a_realistic_path():
    p = MsmParams(30_000.0, 0.9, tick_size=0.1, jumps=JumpParams(rate=20, size=0.004))
    mid = msm_path(p, 300_000, 1000, np.random.default_rng(7))
    path = PricePath(0, 1000, mid)
    rng = np.random.default_rng(8)
    for _ in range(50):
        start = int(rng.integers(0, len(mid)))
        lo, hi = mid[start] * (1 - rng.uniform(0, 0.02)), mid[start] * (1 + rng.uniform(0, 0.02))
        idx = np.flatnonzero((mid <= lo) | (mid >= hi))
        idx = idx[idx >= start]
        assert path.first_exit(start, lo, hi) == (int(idx[0]) if len(idx) else None)


def test_hawkes_jumps_cluster():
    jp = JumpParams(rate=50, clustering=0.8, decay_ms=60_000)
    t = hawkes_times(jp, 100 * 86_400_000, np.random.default_rng(1))
    assert 0.7 * 5000 < len(t) < 1.3 * 5000  # rate includes the clusters
    gaps = np.diff(t)
    poisson_share = 1 - math.exp(-60_000 * 50 / 86_400_000)  # share of gaps under a minute without clustering
    assert np.mean(gaps < 60_000) > 4 * poisson_share


def test_regimes_raise_the_spread_of_hourly_volatility():
    base = MsmParams(30_000.0, 0.6, components=0)
    calm = stylised_facts(msm_path(base, 20 * 8640, 10_000, np.random.default_rng(2)), 10_000)
    reg = replace(base, regimes=RegimeParams(3.0, 2 * 86_400_000, 86_400_000))
    regd = stylised_facts(msm_path(reg, 20 * 8640, 10_000, np.random.default_rng(2)), 10_000)
    assert regd["hourly_vol_p95"] / regd["hourly_vol_p5"] > 2 * calm["hourly_vol_p95"] / calm["hourly_vol_p5"]


def test_block_bootstrap_keeps_blocks_and_the_data_distribution():
    rng = np.random.default_rng(3)
    idx = block_indices(1000, 10_000, 20.0, rng)
    assert len(idx) == 10_000 and idx.min() >= 0 and idx.max() < 1000
    assert 0.9 < np.mean(np.diff(idx) == 1) < 0.99  # mostly consecutive: blocks of ~20
    data = np.random.default_rng(4).standard_t(3, 5000) * 1e-3
    path = bootstrap_path(data, 60_000, 30_000.0, 60 * 3000 + 1, 1000, 30.0, rng, tick_size=0.1)
    r = np.diff(np.log(path[::60]))
    assert abs(r.std() / data.std() - 1) < 0.15


def _median_facts(p: MsmParams, minutes: int, seeds: range) -> dict[str, float]:
    """Medians over paths as long as the data, at 1-second ticks as a run has them."""
    rows = [stylised_facts(msm_path(p, minutes * 60 + 1, 1000, np.random.default_rng(s)), 1000) for s in seeds]
    return {k: float(np.median([r[k] for r in rows])) for k in rows[0]}


def _within_bands(sim: dict[str, float], data: dict[str, float], vol: bool = True) -> list[str]:
    """The issue's bands: kurtosis within +-30 %, |r| autocorrelation at 60 minutes within 0.05, tail shares
    within a factor of 2 (medians over paths as long as the data)."""
    bad = []
    for k in ("kurt_1m", "kurt_5m"):
        if abs(sim[k] / data[k] - 1) > 0.3:
            bad.append(f"{k} {sim[k]:.1f} vs {data[k]:.1f}")
    if abs(sim["acf_abs_60m"] - data["acf_abs_60m"]) > 0.05:
        bad.append(f"acf_abs_60m {sim['acf_abs_60m']:.3f} vs {data['acf_abs_60m']:.3f}")
    for k in ("tail_4sd", "tail_6sd"):
        if not 0.5 <= sim[k] / data[k] <= 2:
            bad.append(f"{k} {sim[k]:.5f} vs {data[k]:.5f}")
    if vol and not 0.8 <= sim["ann_vol"] / data["ann_vol"] <= 1.25:
        bad.append(f"ann_vol {sim['ann_vol']:.3f} vs {data['ann_vol']:.3f}")
    return bad


def test_the_default_market_has_the_stylised_facts_of_the_ftx_candles(ftx_closes):
    data = stylised_facts(ftx_closes, 60_000)
    sim = _median_facts(msm_params(Market()), len(ftx_closes), range(10))
    assert not _within_bands(sim, data, vol=False)  # the level is market.sigma's (0.6 a year), the shape the data's


def test_a_model_fitted_to_the_ftx_candles_reproduces_their_stylised_facts(ftx_closes):
    fit = fit_msm([ftx_closes], 60_000, msm_params(Market()))
    sim = _median_facts(fit.params, len(ftx_closes), range(20, 30))
    assert not _within_bands(sim, fit.data_facts)
    assert "sigma" in fit.fitted and "vol_multiplier" in fit.fitted
