"""Index, mark and funding as on Binance; a replay uses the recorded mark-price stream."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.market.mark import BinanceMark, IndexParams, MarkModel, funding_rate
from sim.market.msm import MsmParams, msm_path
from sim.scenario.loader import parse_scenario
from sim.world.build import replay_path
from sim.world.market import TickLast
from sim.world.rng import RunStreams

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data/binance-btcusdt-perp"
SETTLE = 1680652800000  # 2023-04-05 00:00 UTC, inside the recorded window


@pytest.fixture(scope="module")
def recorded() -> tuple[pd.DataFrame, np.ndarray]:
    m = pd.read_csv(DATA / "btcusdt_perp_markprice.csv")
    t = pd.read_csv(DATA / "btcusdt_perp_trades.csv.gz")
    t = t[(t.exec_type == "MARKET") & t.source_file.str.startswith("btcusdt_2023")].sort_values("trade_time_ms")
    e = m["event_time_ms"].to_numpy()
    last = t["price"].to_numpy(float)[np.searchsorted(t["trade_time_ms"].to_numpy(), e, side="right") - 1]
    return m, last


def test_binance_funding_formula_clamp_and_cap():
    p = IndexParams()
    assert funding_rate(0.0, p) == pytest.approx(0.0001)  # premium within the clamp: the interest rate
    assert funding_rate(0.0003, p) == pytest.approx(0.0001)
    assert funding_rate(-0.00047, p) == pytest.approx(0.00003)  # P + 0.05 %
    assert funding_rate(0.002, p) == pytest.approx(0.0015)  # P - 0.05 %
    assert funding_rate(0.01, p) == pytest.approx(0.003)  # capped
    four_hourly = IndexParams(interval_ms=4 * 3_600_000)
    assert funding_rate(0.0, four_hourly) == pytest.approx(0.00005)


def test_the_formula_on_the_recorded_premium_gives_the_recorded_rate(recorded):
    """The window's premium (last vs index, a one-tick book) through the formula: the 00:00 rate, 0.002754 %."""
    m, last = recorded
    before = m["event_time_ms"].to_numpy() < SETTLE
    premium = float(np.mean(last[before] / m["index_price"].to_numpy()[before] - 1))
    real = float(m.loc[m["next_funding_time_ms"] == SETTLE, "funding_rate"].iloc[-1])
    assert real == pytest.approx(0.00002754, rel=0.01)  # the last estimate before 00:00
    # eight minutes of premium stand for the 8-hour average: the clamp branch, within 0.005 % of the recorded rate
    assert abs(funding_rate(premium, IndexParams()) - real) < 0.00005


def test_synthetic_mark_is_the_median_of_three_and_moves_off_the_last_like_binances(recorded):
    n = 6 * 3600
    mid = msm_path(MsmParams(28_000.0, 0.6, tick_size=0.1), n, 1000, np.random.default_rng(1))
    model = MarkModel(IndexParams(basis_mean_bps=-4.5), 0, 1000, n, np.random.default_rng(2))
    last = TickLast(mid, 0.1, np.random.default_rng(3))
    bm = BinanceMark(model, mid, last)
    mark = bm.series()
    assert all(bm.at(i) == pytest.approx(mark[i], abs=1e-9) for i in (0, 1, 29, 30, 31, 5000, n - 1))
    index = model.index(mid)
    assert np.median((mark / index - 1) * 1e4) == pytest.approx(-4.5, abs=1.5)
    m, real_last = recorded
    real = (m["mark_price"].to_numpy() / real_last - 1) * 1e4
    sim_d = (mark / last.series() - 1) * 1e4
    # the spread of mark - last: the same order as BTCUSDT's (p95 - p5 of about 1.1 bps), not a coin flip of the quote
    width_real, width_sim = np.subtract(*np.percentile(real, [95, 5])), np.subtract(*np.percentile(sim_d, [95, 5]))
    assert 0.2 < width_sim / width_real < 3


def test_a_replay_with_the_recorded_stream_uses_its_mark_index_and_funding(recorded, tmp_path):
    m, real_last = recorded
    sc = sim.load_scenario(ROOT / "scenarios/basics/replay-real.toml")
    path, facts = replay_path(sc, RunStreams(1))
    assert facts["mark"] == "recorded"
    e = m["event_time_ms"].to_numpy()
    inside = (e >= sc.scenario.start_ms + 1000) & (e <= sc.scenario.start_ms + sc.duration_ms - 1000)
    got = np.array([path.mark_at(int(t)) for t in e[inside]])
    on_grid = np.searchsorted(e, path.t0_ms + (e[inside] - path.t0_ms) // path.tick_ms * path.tick_ms, "right") - 1
    assert np.allclose(got, m["mark_price"].to_numpy()[on_grid])  # the last recorded mark at the grid time
    assert path.index_price_at(int(e[inside][10])) == pytest.approx(float(m["index_price"].to_numpy()[on_grid][10]))
    # mark - last on the path's 100 ms grid reproduces the recorded distribution (p5, p50, p95 within 0.2 bps)
    grid_t = e[inside]
    sim_d = np.array([path.mark_at(int(t)) / path.price_at("last", int(t)) - 1 for t in grid_t]) * 1e4
    real_d = (m["mark_price"].to_numpy()[inside] / real_last[inside] - 1) * 1e4
    assert np.allclose(np.percentile(sim_d, [5, 50, 95]), np.percentile(real_d, [5, 50, 95]), atol=0.2)
    result = sim.run(sc, out=tmp_path / "run", ideal_twin=False, report=False)
    ev = pd.read_parquet(tmp_path / "run/events.parquet")
    rates = ev.loc[ev["kind"] == "funding", "price"].tolist()
    assert rates == [pytest.approx(0.00002754, rel=0.01)] and result.summary["market"]["mark"] == "recorded"


def test_funding_follows_the_premium_in_a_synthetic_market(tmp_path):
    base = {"scenario": {"name": "f", "description": "funding", "duration": "17h", "seed": 3},
            "market": {"basis_mean_bps": 20.0, "basis_sd_bps": 1.0},
            "bot": {"strategy": "scripted", "params": {"targets": []}}}
    sc = parse_scenario(base)
    result = sim.run(sc, out=tmp_path / "run", ideal_twin=False, report=False)
    ev = pd.read_parquet(tmp_path / "run/events.parquet")
    rates = ev.loc[ev["kind"] == "funding", "price"].to_numpy()
    assert len(rates) == 2 and np.all(np.abs(rates - 0.0015) < 0.0002), rates  # 0.2 % premium - 0.05 % clamp
    fixed = parse_scenario({**base, "exchange": {"funding_rate": 0.0002}})
    sim.run(fixed, out=tmp_path / "run2", ideal_twin=False, report=False)
    ev = pd.read_parquet(tmp_path / "run2/events.parquet")
    assert ev.loc[ev["kind"] == "funding", "price"].tolist() == [0.0002, 0.0002]
    assert result.summary["orders"]["submitted"] == 0
