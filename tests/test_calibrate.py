"""Calibration from real trades: sweeps, the bid-ask bounce, and a venue whose impact curve follows
the real one. Tolerance: within a factor of 1.5 in every size bin with 20+ aggressive orders whose
mean walk is at least a tenth of a tick."""
from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.data.calibrate import bounce_spread_bps, calibrate, sweeps
from sim.data.formats import load_trades

ROOT = Path(__file__).resolve().parent.parent
EXTRACT = ROOT / "data/binance-btcusdt-perp/btcusdt_perp_trades.csv.gz"
TOLERANCE = 1.5


@pytest.fixture(scope="module")
def real_trades() -> pd.DataFrame:
    df, facts = load_trades(EXTRACT, "csv", {"time": "trade_time_ms", "side": "aggressor_side", "type": "exec_type"},
                            "ms", ("INSURANCE_FUND",))
    assert facts["excluded"] == 1
    return df.sort_values("time_ms", kind="stable")


def test_trades_of_one_order_group_into_one_sweep_with_its_walk():
    t = pd.DataFrame({"time_ms": [1, 1, 1, 2, 3], "price": [100.0, 100.1, 100.2, 100.0, 99.9],
                      "qty": [1.0, 1.0, 2.0, 0.5, 0.5], "side": ["buy", "buy", "buy", "sell", "sell"]})
    sw = sweeps(t)
    assert list(sw["qty"]) == [4.0, 0.5, 0.5]
    assert sw["walk_bps"].iloc[0] == pytest.approx(20.0)


def test_the_bounce_between_opposite_aggressors_measures_the_spread():
    t = pd.DataFrame({"time_ms": np.arange(6) * 100, "price": [100.0, 100.1] * 3, "qty": 1.0,
                      "side": ["sell", "buy"] * 3})
    assert bounce_spread_bps(t) == pytest.approx(10.0, rel=0.01)


def test_calibrated_venue_follows_the_real_impact_curve_within_tolerance(real_trades):
    cal = calibrate(real_trades, tick_size=0.1)
    c = cal.curve
    assert len(c) >= 6 and c["size"].max() / c["size"].min() > 100  # over two decades of sizes
    ratio = c["model_mean_walk_bps"] / c["real_walk_bps"]
    assert (np.abs(np.log(ratio)) <= math.log(TOLERANCE)).all(), c
    assert 0.4 < cal.exponent < 1.0


def test_the_calibration_pastes_into_a_scenario(real_trades, tmp_path):
    import sim

    cal = calibrate(real_trades, tick_size=0.1)
    liquidity = tomllib.loads(cal.toml())["liquidity"]
    scenario = {"scenario": {"name": "c", "description": "calibrated", "duration": "1h"}, "liquidity": liquidity,
                "expect": {"residual_size_gap": 0}}
    from sim.scenario.loader import parse_scenario

    result = sim.run(parse_scenario(scenario), out=tmp_path / "r", ideal_twin=False, report=False)
    assert result.passed


def test_calibrate_command_writes_the_table_and_the_figure(tmp_path, capsys):
    from sim.cli import main

    code = main(["calibrate", str(EXTRACT), "--format", "csv", "--columns",
                 "time=trade_time_ms,side=aggressor_side,type=exec_type", "--time-unit", "ms",
                 "--exclude", "INSURANCE_FUND", "--out", str(tmp_path)])
    assert code == 0 and "impact exponent" in capsys.readouterr().out
    assert (tmp_path / "calibration.png").is_file()
    assert "depth_exponent" in (tmp_path / "calibration.toml").read_text()
