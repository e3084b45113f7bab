"""Every bundled scenario runs end to end and meets its own `[expect]` table."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import sim
from sim.scenario.expect import SUMMARY_PATHS, lookup

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").rglob("*.toml"))


def test_every_bundled_scenario_states_its_expected_outcome():
    assert BUNDLED, "no bundled scenarios found"
    for path in BUNDLED:
        assert sim.load_scenario(path).expect, f"{path} has no [expect] table"


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_scenario_meets_its_expectations_keeps_every_invariant_and_renders_its_report(path, tmp_path):
    out = tmp_path / "run"
    result = sim.run(sim.load_scenario(path), out=out, ideal_twin=False)
    failed = [c.describe() for c in result.checks if not c.passed]
    assert not failed, failed
    assert result.summary["invariants_held"], result.summary["invariants"]
    html = (out / "report.html").read_text()
    assert html.count("Plotly.newPlot") == 9, "every figure is rendered into the page"
    assert not _references(html), "the report is one file: it references nothing beside it"


def test_run_directory_holds_every_file_of_the_contract(tmp_path):
    out = tmp_path / "run"
    sim.run(sim.load_scenario(ROOT / "scenarios/protective/tp-fires-between-cycles.toml"), out=out)
    for name in ("summary.json", "orders.parquet", "fills.parquet", "drift_episodes.parquet", "timeline.parquet",
                 "events.parquet", "record.sqlite", "report.html"):
        assert (out / name).is_file(), name
    assert not (out / "figures").exists()  # the report carries its figures
    assert not _references((out / "report.html").read_text())


def _references(html: str) -> list[str]:
    """What the page's markup loads from beside it (the inlined plotting library's code aside)."""
    markup = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)
    return [part.split('"')[0] for part in markup.split('src="')[1:]]


def test_summary_has_every_contract_key_and_no_invented_numbers(tmp_path):
    result = sim.run(sim.load_scenario(ROOT / "scenarios/basics/flip.toml"), out=tmp_path / "run", ideal_twin=False,
                     report=False)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for path in SUMMARY_PATHS:
        node = summary
        for part in path.split("."):
            assert part in node, f"summary lacks {path}"
            node = node[part]
    assert summary["pnl"]["ideal"] is None and summary["pnl"]["execution_cost"] is None  # no twin was run
    assert summary["drift"]["detect_s_max"] is None  # no episode: no latency to report
    assert lookup(result.summary, "decisions.flip") == 1


def test_same_scenario_and_seed_give_identical_summaries_apart_from_wall_time(tmp_path):
    sc = sim.load_scenario(ROOT / "scenarios/quickstart.toml")
    a = sim.run(sc, seed=5, out=tmp_path / "a", report=False).summary
    b = sim.run(sc, seed=5, out=tmp_path / "b", report=False).summary
    a.pop("wall_seconds"), b.pop("wall_seconds")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_different_seeds_give_different_markets(tmp_path):
    sc = sim.load_scenario(ROOT / "scenarios/quickstart.toml")
    a = sim.run(sc, seed=1, out=tmp_path / "a", ideal_twin=False, report=False)
    b = sim.run(sc, seed=2, out=tmp_path / "b", ideal_twin=False, report=False)
    assert a.summary["final"]["equity"] != b.summary["final"]["equity"]


def test_drift_detection_latency_is_measured_from_the_worlds_truth(tmp_path):
    result = sim.run(sim.load_scenario(ROOT / "scenarios/protective/tp-fires-between-cycles.toml"), out=tmp_path / "r",
                     ideal_twin=False, report=False)
    ep = result.tables["drift_episodes"].iloc[0]
    fills = result.tables["fills"]
    tp_fill_ms = int(fills.loc[fills["role"] == "take_profit", "ts_ms"].iloc[0])
    assert int(ep["began_ms"]) == tp_fill_ms
    assert ep["detected_ms"] > tp_fill_ms
    assert ep["detect_s"] == pytest.approx((ep["detected_ms"] - tp_fill_ms) / 1000)


def test_ideal_twin_prices_the_cost_of_execution(tmp_path):
    s = sim.run(sim.load_scenario(ROOT / "scenarios/quickstart.toml"), out=tmp_path / "r", report=False).summary
    assert s["pnl"]["ideal"] is not None
    assert s["pnl"]["execution_cost"] == pytest.approx(s["pnl"]["ideal"] - s["pnl"]["realistic"], abs=1e-3)
    assert s["execution"]["fees"] > 0


def test_every_bundled_file_is_named_after_its_scenario_so_run_by_name_finds_it():
    for path in BUNDLED:
        assert sim.load_scenario(path).scenario.name == path.stem, path


def test_catalogue_covers_every_theme_and_every_event_kind():
    from sim.scenario.schema import FAULT_KINDS

    themes = {p.parent.name for p in BUNDLED}
    assert {"basics", "fills", "protective", "margin", "interventions", "transport", "crash", "strategies"} <= themes
    assert len(BUNDLED) >= 24
    kinds = {e.kind for p in BUNDLED for e in sim.load_scenario(p).events}
    chaos = [p for p in BUNDLED if sim.load_scenario(p).faults.preset == "chaos"]
    assert chaos, "a chaos scenario draws every fault kind"
    assert set(FAULT_KINDS) | {"transfer_in"} <= kinds, sorted(set(FAULT_KINDS) - kinds)
