"""`sim.report.load_run` turns a run directory into typed pandas tables indexed by UTC time."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.report import load_run

ROOT = Path(__file__).resolve().parent.parent
LIQUIDATION = ROOT / "scenarios" / "margin" / "liquidation.toml"


@pytest.fixture(scope="module")
def with_twin(tmp_path_factory):
    out = tmp_path_factory.mktemp("twin")
    sim.run(sim.load_scenario(LIQUIDATION), out=out, ideal_twin=True, report=False)
    return out


@pytest.fixture(scope="module")
def without_twin(tmp_path_factory):
    out = tmp_path_factory.mktemp("no-twin")
    sim.run(sim.load_scenario(LIQUIDATION), out=out, ideal_twin=False, report=False)
    return out


def _utc_index(df: pd.DataFrame) -> bool:
    return isinstance(df.index, pd.DatetimeIndex) and str(df.index.tz) == "UTC" and df.index.name == "time"


def test_load_run_indexes_every_table_by_utc_time_and_keeps_exact_milliseconds(with_twin):
    run = load_run(with_twin)
    assert run.summary["scenario"] == "liquidation" and run.path == Path(with_twin)
    for name in ("orders", "fills", "drift_episodes", "timeline", "events"):
        df = getattr(run, name)
        assert len(df), name
        assert _utc_index(df), name
    assert run.timeline["ts_ms"].dtype == "int64"
    assert (run.timeline.index == pd.to_datetime(run.timeline["ts_ms"], unit="ms", utc=True)).all()
    assert run.orders["qty"].dtype == "float64" and run.orders["decided_ms"].dtype == "int64"
    assert pd.api.types.is_string_dtype(run.orders["client_id"])
    assert run.fills["fee"].dtype == "float64" and set(run.fills["source"]) == {"bot", "liquidation"}
    assert pd.api.types.is_float_dtype(run.drift_episodes["detect_s"])  # nullable Float64: began may be unknown


def test_load_run_loads_the_ideal_twins_timeline_when_the_run_has_one(with_twin):
    run = load_run(with_twin)
    ideal = run.ideal_timeline
    assert ideal is not None and len(ideal) and _utc_index(ideal)
    assert {"equity", "exchange_qty", "ts_ms"} <= set(ideal.columns)
    pnl = ideal["equity"].iloc[-1] - run.timeline["equity"].iloc[0]
    assert pnl == pytest.approx(run.summary["pnl"]["ideal"], abs=1e-3)


def test_load_run_has_no_ideal_timeline_without_a_twin(without_twin):
    assert not (without_twin / "ideal_timeline.parquet").exists()
    assert load_run(without_twin).ideal_timeline is None


def test_load_run_can_keep_time_as_a_column(with_twin):
    run = load_run(with_twin, index_by_time=False)
    assert "time" in run.timeline.columns and "time" in run.ideal_timeline.columns
    assert isinstance(run.timeline.index, pd.RangeIndex)


def test_load_run_refuses_a_directory_without_a_summary(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        load_run(tmp_path)


def test_a_run_shows_itself_as_a_card_and_offers_the_reports_figures(with_twin):
    import plotly.graph_objects as go

    run = load_run(with_twin)
    card = run._repr_html_()
    assert "aes-card" in card and "liquidation" in card and "drift episodes" in card and "report.html" in card
    for name in ("position", "price", "equity", "drift", "slippage", "costs", "latency", "rejects", "cost_breakdown"):
        fig = getattr(run.plot, name)()
        assert isinstance(fig, go.Figure) and (fig.data or fig.layout.annotations), name


def test_sim_run_result_shows_the_same_card_and_figures(tmp_path):
    result = sim.run(sim.load_scenario(LIQUIDATION), out=tmp_path / "r", ideal_twin=False, report=False)
    assert "aes-card" in result._repr_html_() and "liquidation" in result._repr_html_()
    assert len(result.plot.price().data) >= 2
