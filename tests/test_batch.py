"""Batches: expansion with stable run ids, resume, failure isolation, and the same summaries from
serial, process-pool and Dask backends."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.batching import apply_overrides, expand, parse_sets, run_id, writable
from sim.scenario.errors import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
FLIP = ROOT / "scenarios/basics/flip.toml"
TP = ROOT / "scenarios/protective/tp-fires-between-cycles.toml"


def test_expansion_is_the_product_of_scenarios_seeds_and_parameter_values_with_stable_ids():
    grid = parse_sets(["exchange.latency.median_ms=20,80,200", "bot.cycle=30s,1m"])
    specs = expand([FLIP, TP], seeds=[1, 2], grid=grid)
    assert len(specs) == 2 * 2 * 3 * 2
    assert len({s.run_id for s in specs}) == len(specs)
    again = expand([FLIP, TP], seeds=[1, 2], grid=grid)
    assert [s.run_id for s in specs] == [s.run_id for s in again]
    one = next(s for s in specs if s.scenario_name == "flip" and s.seed == 2
               and dict(s.params) == {"bot.cycle": "1m", "exchange.latency.median_ms": 80})
    assert one.data["exchange"]["latency"]["median_ms"] == 80 and one.data["bot"]["cycle"] == "1m"
    assert one.run_id == run_id("flip", 2, one.params)


def test_set_values_are_read_as_toml_scalars():
    assert parse_sets(["a.b=1,2.5,true,x"]) == {"a.b": [1, 2.5, True, "x"]}
    with pytest.raises(ValueError):
        parse_sets(["no-equals-sign"])


def test_overrides_create_tables_and_leave_the_original_alone():
    base = {"scenario": {"name": "x"}}
    out = apply_overrides(base, [("exchange.latency.median_ms", 5)])
    assert out["exchange"]["latency"]["median_ms"] == 5 and "exchange" not in base


def test_overrides_reach_list_entries_by_their_number_from_1():
    base = {"events": [{"at": "1m"}, {"at": "2m"}]}
    assert apply_overrides(base, [("events.2.at", "5m")])["events"] == [{"at": "1m"}, {"at": "5m"}]
    with pytest.raises(ValueError, match="2 entries"):
        apply_overrides(base, [("events.3.at", "5m")])


@pytest.mark.parametrize(("sets", "message"), [
    (["bot.cycle=30s,60"], r"bot.cycle: expected a duration string .* got 60 \(with --set bot.cycle=60\)"),
    (["exchange.latncy.median_ms=20,80"], "did you mean 'latency'"),
    (["bot.cycle.every=2"], "bot.cycle is a value"),
])
def test_a_bad_set_key_or_value_fails_before_any_run_naming_the_key_and_value(tmp_path, sets, message):
    with pytest.raises(ScenarioError, match=message):
        sim.batch([FLIP], seeds=[1], params=parse_sets(sets), out=tmp_path / "b", workers=1)
    assert not (tmp_path / "b").exists()


def test_the_command_line_exits_2_on_a_bad_set_value_before_running(tmp_path, capsys):
    from sim.cli import main

    assert main(["batch", str(FLIP), "--set", "bot.cycle=30s,60", "--workers", "1", "--out", str(tmp_path / "b")]) == 2
    assert "bot.cycle" in capsys.readouterr().err and not (tmp_path / "b").exists()


def test_columns_of_mixed_types_are_written_as_text_so_the_table_is_always_writable(tmp_path):
    df = pd.DataFrame({"param.bot.cycle": ["30s", 60, None], "param.x": [1, 2.5, 3], "ok": [True, False, None]})
    writable(df).to_parquet(tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert list(back["param.bot.cycle"][:2]) == ["30s", "60"] and back["param.bot.cycle"].isna()[2]
    assert list(back["param.x"]) == [1, 2.5, 3] and back["ok"].tolist()[:2] == [True, False]


def test_a_directory_expands_to_every_scenario_in_it():
    specs = expand([ROOT / "scenarios/crash"], seeds=[0])
    assert {s.scenario_name for s in specs} == {"crash-after-submit", "crash-during-flip", "crash-while-tp-fires"}


def _comparable(df: pd.DataFrame) -> list[dict]:
    cols = [c for c in df.columns if c != "wall_seconds"]
    return json.loads(df.sort_values("run_id")[cols].to_json(orient="records"))


def test_serial_pool_and_dask_backends_give_identical_summaries(tmp_path):
    pytest.importorskip("dask.distributed")
    kwargs = dict(seeds=[1, 2, 3], params={"exchange.latency.median_ms": [10, 100]}, report=False)
    serial = sim.batch([FLIP], out=tmp_path / "serial", workers=1, **kwargs)
    pool = sim.batch([FLIP], out=tmp_path / "pool", workers=2, **kwargs)
    dask = sim.batch([FLIP], out=tmp_path / "dask", workers=2, dask="local", **kwargs)
    assert len(serial) == 6
    assert _comparable(serial) == _comparable(pool) == _comparable(dask)


def test_a_second_call_resumes_skipping_complete_runs_and_rerunning_failed_ones(tmp_path):
    out = tmp_path / "b"
    sim.batch([FLIP], seeds=[1, 2], out=out, workers=1, report=False)
    row = out / "runs" / "flip-s1" / "row.json"
    first = row.stat().st_mtime_ns
    failed = json.loads((out / "runs" / "flip-s2" / "row.json").read_text()) | {"status": "error"}
    (out / "runs" / "flip-s2" / "row.json").write_text(json.dumps(failed))
    seen = []
    table = sim.batch([FLIP], seeds=[1, 2], out=out, workers=1, report=False,
                      progress=lambda done, total, fails, eta: seen.append(done))
    assert row.stat().st_mtime_ns == first  # complete: skipped
    assert seen[0] == 1 and seen[-1] == 2  # one carried over, one rerun
    assert list(table["status"]) == ["ok", "ok"]


def test_resume_reruns_a_run_whose_scenario_or_simulator_version_changed(tmp_path, monkeypatch):
    scenario = tmp_path / "flip.toml"
    scenario.write_text(FLIP.read_text())
    out = tmp_path / "b"
    first = sim.batch([scenario], seeds=[1], out=out, workers=1, report=False)
    assert first["sim_seconds"][0] == 3600
    scenario.write_text(FLIP.read_text().replace('duration = "1h"', 'duration = "40m"'))
    edited = sim.batch([scenario], seeds=[1], out=out, workers=1, report=False)
    assert edited["sim_seconds"][0] == 2400 and edited["scenario_hash"][0] != first["scenario_hash"][0]
    row = json.loads((out / "runs" / "flip-s1" / "row.json").read_text())
    assert row["scenario_hash"] == edited["scenario_hash"][0] and row["sim_version"] == sim.__version__
    stamp = (out / "runs" / "flip-s1" / "row.json").stat().st_mtime_ns
    sim.batch([scenario], seeds=[1], out=out, workers=1, report=False)
    assert (out / "runs" / "flip-s1" / "row.json").stat().st_mtime_ns == stamp  # unchanged: skipped
    monkeypatch.setattr(sim, "__version__", "99.0")
    sim.batch([scenario], seeds=[1], out=out, workers=1, report=False)
    assert json.loads((out / "runs" / "flip-s1" / "row.json").read_text())["sim_version"] == "99.0"


def test_a_run_that_raises_becomes_a_row_with_its_error_and_the_batch_goes_on(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "bad"\ndescription = "raises"\nduration = "1h"\n'
                   '[bot]\nstrategy = "tests.user_strategy:Exploding"\n')
    table = sim.batch([bad, FLIP], seeds=[1], out=tmp_path / "b", workers=1)
    by = table.set_index("scenario")
    assert by.loc["bad", "status"] == "error" and "ZeroDivisionError" in by.loc["bad", "error"]
    assert by.loc["flip", "status"] == "ok"
    assert (tmp_path / "b" / "report.html").is_file() and (tmp_path / "b" / "results.parquet").is_file()


DYING = ('[scenario]\nname = "dies"\ndescription = "its worker process exits mid-run"\nduration = "1h"\n'
         '[bot]\nstrategy = "tests.dying_strategy:DiesInWorker"\n')


@pytest.mark.parametrize("backend", ["pool", "dask"])
def test_a_run_whose_worker_dies_becomes_an_error_row_and_the_other_runs_complete(tmp_path, backend):
    dying = tmp_path / "dies.toml"
    dying.write_text(DYING)
    out = tmp_path / "b"
    seeds = [1, 2, 3]
    if backend == "pool":
        table = sim.batch([dying, FLIP], seeds=seeds, out=out, workers=2, report=False)
    else:
        dask = pytest.importorskip("dask")
        pytest.importorskip("dask.distributed")
        # no retries: Dask gives up at once on every task of a dying worker, bystanders included (faster, and
        # the batch must still tell the culprits from the bystanders)
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            table = sim.batch([dying, FLIP], seeds=seeds, out=out, workers=2, report=False, dask="local")
    status = dict(zip(table["run_id"], table["status"], strict=True))
    assert status == {f"dies-s{s}": "error" for s in seeds} | {f"flip-s{s}": "ok" for s in seeds}
    assert table.set_index("run_id").loc["dies-s2", "error"].startswith("worker died")
    assert (out / "results.parquet").is_file()
    assert not list(out.glob("runs/*/.started"))


def test_keep_summaries_leaves_only_each_summary_and_row(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "bad"\ndescription = "raises"\nduration = "1h"\n'
                   '[bot]\nstrategy = "tests.user_strategy:Exploding"\n')
    table = sim.batch([FLIP, bad], seeds=[1], out=tmp_path / "b", workers=1, keep="summaries", report=False)
    runs = tmp_path / "b" / "runs"
    assert {p.name for p in (runs / "flip-s1").iterdir()} == {"summary.json", "row.json"}
    assert {p.name for p in (runs / "bad-s1").iterdir()} == {"summary.json", "error.txt", "row.json"}
    error = table.set_index("run_id").loc["bad-s1", "error"]
    assert "ZeroDivisionError" in error and str(runs / "bad-s1") in error  # not the scratch folder it ran in


def test_the_batch_report_of_a_sweep_with_empty_panels_warns_nothing_on_stderr(tmp_path, recwarn):
    # flip has no drift episodes, so the heatmap of worst detection has nothing to show
    sim.batch([FLIP], seeds=[1], params={"market.sigma": [0.5], "bot.cycle": ["1m"]}, out=tmp_path / "b", workers=1)
    assert (tmp_path / "b" / "report.html").is_file()
    assert [str(w.message) for w in recwarn] == []


def test_batch_command_line_runs_and_reports(tmp_path, capsys):
    from sim.cli import main

    code = main(["batch", str(FLIP), "--seeds", "2", "--set", "bot.cycle=30s,1m", "--workers", "1",
                 "--out", str(tmp_path / "b")])
    out = capsys.readouterr().out
    assert code == 0 and "4 runs: 4 ok" in out
    assert "median / worst, by bot.cycle" in out and "effect of the sweep:" in out  # compared, not just counted
    df = pd.read_parquet(tmp_path / "b" / "results.parquet")
    assert {"run_id", "scenario", "seed", "param.bot.cycle", "drift.detect_s_max", "invariants_held"} <= set(df.columns)
    html = (tmp_path / "b" / "report.html").read_text()
    markup = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)  # the page itself, not the inlined library
    for src in [p.split('"')[0] for p in markup.split('src="')[1:]]:
        assert (tmp_path / "b" / src).is_file()
