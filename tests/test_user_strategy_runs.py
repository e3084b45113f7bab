"""A user strategy runs end to end; one that raises stops the run and keeps what it wrote."""
from __future__ import annotations

import json

import pandas as pd
import pytest

import sim
from sim.scenario.loader import parse_scenario

BASE = {"scenario": {"name": "user", "description": "user strategy", "duration": "2h", "seed": 4},
        "bot": {"strategy": "tests.user_strategy:EveryOtherCandle", "params": {"every": 15, "qty": "0.05"}},
        "expect": {"residual_size_gap": 0, "duplicates": 0, "decisions.open": {"ge": 1}}}


def test_a_user_strategy_named_in_a_scenario_trades_and_meets_expectations(tmp_path):
    result = sim.run(parse_scenario(BASE), out=tmp_path / "r", ideal_twin=False, report=False)
    assert result.passed, [c.describe() for c in result.checks]


def test_a_raising_strategy_stops_the_run_keeps_the_partial_directory_and_says_where(tmp_path):
    sc = parse_scenario({**BASE, "bot": {"strategy": "tests.user_strategy:Exploding"}, "expect": {}})
    with pytest.raises(sim.RunFailed) as info:
        sim.run(sc, out=tmp_path / "r", ideal_twin=False)
    assert "ZeroDivisionError" in str(info.value) and "Exploding" in str(info.value)
    summary = json.loads((tmp_path / "r/summary.json").read_text())
    assert summary["stopped"]["at_ms"] > 0
    assert (tmp_path / "r/events.parquet").is_file() and (tmp_path / "r/report.html").is_file()
    assert len(pd.read_parquet(tmp_path / "r/timeline.parquet")) > 0
