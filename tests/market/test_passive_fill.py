"""The queue model against real data: how often the market arriving at a level fills a back-of-queue order.

Real: the shipped Binance BTCUSDT book ticker and trades, computed as the audit's
`passive_fill_adverse.py` does. Simulated: the default scenario's market and queue model, with a
maker resting back-of-queue orders near the touch (`sim.world.queue_sample`).
"""
from __future__ import annotations

import numpy as np
import pytest

from sim.market.passive_fill import SIZES, fit_flow, load_real, post_fill_drift, real_shares, shares
from sim.scenario.loader import parse_scenario
from sim.scenario.schema.exchange import QueueCfg
from sim.world.queue_sample import sample

SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def real():
    return load_real()


@pytest.fixture(scope="module")
def simulated():
    touches, samples = [], []
    for seed in SEEDS:
        sc = parse_scenario({"scenario": {"name": "queue", "description": "default market", "duration": "4h",
                                          "seed": seed}, "bot": {"strategy": "ma_crossover"}})
        s = sample(sc, seed=seed)
        touches += [x for x in s.touches if x.arrived]
        samples.append(s)
    return touches, samples


def test_the_real_statistic_is_the_audits():
    """The audit's published figures (queue_adverse.json) for the two windows it measured."""
    r = real_shares()
    assert r["2023-04"]["arrivals"] == 453 and r["2024-08"]["arrivals"] == 1197
    assert r["2023-04"]["any_fill"] == pytest.approx(0.4105960264900662)
    assert r["2024-08"]["through"] == pytest.approx(0.7560568086883876)
    assert r["2024-08"]["fill_0.25"] == pytest.approx(0.1345530492898914)
    assert r["2023-04"]["fill_1"] == pytest.approx(0.18497130242825607)


def test_the_default_flow_is_the_fit_to_the_shipped_data(real):
    fit, q = fit_flow(real), QueueCfg()
    assert q.trade_rate == pytest.approx(fit.rate, rel=0.01)
    assert q.size_log_mean == pytest.approx(fit.size_log_mean, abs=0.01)
    assert q.size_log_sd == pytest.approx(fit.size_log_sd, abs=0.01)
    assert q.cancel_rate == pytest.approx(fit.cancel_rate, abs=0.01)
    assert q.through_log_mean == pytest.approx(fit.through_log_mean, abs=0.01)
    assert q.through_log_sd == pytest.approx(fit.through_log_sd, abs=0.01)
    assert q.through_factor == pytest.approx(fit.through_factor, abs=0.01)
    assert q.away_factor == pytest.approx(fit.away_factor, abs=0.01)
    assert fit.through_factor > 2 * fit.away_factor  # touches that end through carry the volume


def _sim_shares(touches):
    return shares(np.array([x.displayed for x in touches]), np.array([x.volume for x in touches]),
                  np.array([x.through for x in touches]))


@pytest.mark.parametrize("key", ["any_fill", *(f"fill_{q:g}" for q in SIZES)])
def test_simulated_touches_fill_back_of_queue_orders_as_often_as_real_ones(real, simulated, key):
    """Within 5 points of the real share (all windows pooled), for 0.01, 0.25 and 1 BTC orders."""
    sim = _sim_shares(simulated[0])
    assert sim["arrivals"] > 5000
    assert abs(sim[key] - real_shares(real)["all"][key]) <= 0.05, (sim, real_shares(real)["all"])


@pytest.mark.xfail(strict=True, reason="the 1 s price path crosses most levels within one step; real levels are "
                                       "touched and left sub-second before they go (README, Queue position)")
def test_simulated_touches_are_traded_through_as_often_as_real_ones(real, simulated):
    sim = _sim_shares(simulated[0])
    assert abs(sim["through"] - real_shares(real)["all"]["through"]) <= 0.05


def test_the_mid_moves_against_passive_fills_in_real_data_and_in_the_simulation(real, simulated):
    r = post_fill_drift(real)
    assert all(v > 0.2 for v in r.values()), r  # bps against the fill, 1 to 60 s after it
    for s in simulated[1]:
        assert s.drift_bps["1s"] > 0.2 and s.drift_bps["10s"] > 0.2, s.drift_bps
