"""The command line: run, validate, list, report; `python -m sim` is the same program."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_run_writes_a_run_directory_and_prints_a_summary(tmp_path, capsys):
    code = main(["run", str(ROOT / "scenarios/basics/flip.toml"), "--out", str(tmp_path / "r"), "--no-ideal-twin"])
    out = capsys.readouterr().out
    assert code == 0
    assert "flip (seed 3)" in out and "expect   ok" in out
    assert json.loads((tmp_path / "r/summary.json").read_text())["scenario"] == "flip"


def test_run_accepts_a_bundled_scenario_by_name(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["run", "flip", "--out", str(tmp_path / "r"), "--no-ideal-twin", "--seed", "3"]) == 0


def test_failed_expectation_exits_with_status_1(tmp_path, capsys):
    text = (ROOT / "scenarios/basics/flip.toml").read_text().replace('"decisions.flip" = 1', '"decisions.flip" = 2')
    f = tmp_path / "flip-wrong.toml"
    f.write_text(text)
    assert main(["run", str(f), "--out", str(tmp_path / "r"), "--no-ideal-twin"]) == 1
    assert "FAIL decisions.flip" in capsys.readouterr().out


def test_validate_accepts_every_bundled_scenario(capsys):
    files = [str(p) for p in sorted((ROOT / "scenarios").rglob("*.toml"))]
    assert main(["validate", *files]) == 0


def test_validate_bad_file_exits_2_naming_file_and_key(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text('[scenario]\nname = "x"\ndescription = "y"\nduration = "1h"\n[bot]\ncycel = "1m"\n')
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "bot.cycel" in err and "did you mean 'cycle'" in err


def test_a_run_failing_midway_exits_1_keeps_its_partial_directory_and_says_where_it_stopped(tmp_path, capsys):
    f = tmp_path / "exploding.toml"
    f.write_text('[scenario]\nname = "exploding"\ndescription = "a user strategy with a bug"\nduration = "1h"\n'
                 '[bot]\nstrategy = "tests.user_strategy:Exploding"\n'  # raises on its 5th candle
                 '[[events]]\nat = "2m"\nkind = "external_add"\nqty = 0.01\n'  # something in the log before
                 '[[events]]\nat = "30m"\nkind = "external_close"\n')  # and something after
    assert main(["run", str(f), "--out", str(tmp_path / "r"), "--no-ideal-twin"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    stopped = re.search(r"run stopped (\d+)m(\d\d)\.\ds into the run \(2024-01-01 00:(\d\d):(\d\d)\.\d{3} UTC\)", err)
    assert stopped, err
    assert [int(g) for g in stopped.group(1, 2)] == [int(g) for g in stopped.group(3, 4)]  # starts at midnight
    assert "strategy Exploding raised" in err and "ZeroDivisionError('user bug')" in err and "t=17" not in err
    assert f"partial run directory: {tmp_path / 'r'}" in err
    summary = json.loads((tmp_path / "r/summary.json").read_text())
    assert summary["stopped"]["at_ms"] > 1_704_067_200_000 and "ZeroDivisionError" in summary["stopped"]["error"]
    events = pd.read_parquet(tmp_path / "r/events.parquet")
    kinds = set(events["kind"])
    assert "intervention_external_add" in kinds and "intervention_external_close" not in kinds
    assert events["ts_ms"].max() <= summary["stopped"]["at_ms"]


def test_list_shows_bundled_scenarios_with_descriptions(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "quickstart" in out and "MA crossover" in out and "flip" in out


def test_report_rebuilds_the_html(tmp_path, capsys):
    main(["run", str(ROOT / "scenarios/basics/flip.toml"), "--out", str(tmp_path / "r"), "--no-ideal-twin"])
    (tmp_path / "r/report.html").unlink()
    assert main(["report", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r/report.html").is_file()


def test_python_dash_m_sim_is_the_same_program():
    done = subprocess.run([sys.executable, "-m", "sim", "list"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and "quickstart" in done.stdout


def test_list_with_no_bundled_scenarios_found_says_so_and_fails(tmp_path, capsys, monkeypatch):
    import sim.scenario.bundled as bundled

    monkeypatch.setattr(bundled, "PACKAGE", tmp_path / "sim")  # an install that lost its scenarios
    assert main(["list"]) == 1
    err = capsys.readouterr().err
    assert "no bundled scenarios found" in err and "reinstall" in err


def test_version_bare_and_a_mistyped_command(capsys):
    import pytest

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and re.fullmatch(r"aethersim \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)
    assert main([]) == 0  # bare: the help, no argparse error
    out, err = capsys.readouterr()
    assert out.startswith("usage: aethersim") and "run" in out and "batch" in out and not err
    assert main(["rnu", "quickstart"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'rnu'; did you mean 'run'?" in err and "Traceback" not in err


def test_the_summary_printout_uses_one_number_format(tmp_path, capsys):
    assert main(["run", str(ROOT / "scenarios/quickstart.toml"), "--out", str(tmp_path / "r"), "--no-ideal-twin"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if not line.lstrip().startswith("report")]
    text = "\n".join(lines)
    assert "None" not in text and "n/a" in text  # no ideal twin: its figures are absent, said the same way
    found = re.findall(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?", text.replace("seed 42", "").replace("p50", ""))
    numbers = [n.rstrip(",") for n in found]  # a list's comma is not the number's
    # counts with thousands separators; measures with two decimals (a position size with four: lots of 0.001)
    assert numbers and all(re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d\d|\.\d{4})?", n) for n in numbers), numbers


def test_ctrl_c_stops_a_run_cleanly_keeps_what_it_wrote_and_exits_130(tmp_path):
    import os
    import signal
    import time

    f = _long_scenario(tmp_path)
    out = tmp_path / "r"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", str(f), "--out", str(out), "--no-ideal-twin"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not _has_orders(out / "record.sqlite") and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)  # until the bot has traded: inside the simulation (120 days take far longer)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr and "run stopped" in stderr, stderr
    assert f"partial run directory: {out}" in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped"]["error"] == "interrupted (Ctrl-C)" and 0 < summary["sim_seconds"] < 120 * 86400
    events = pd.read_parquet(out / "events.parquet")
    # the log holds what happened up to the stop (and what was already in flight then: a leg's latency ahead)
    assert (events["ts_ms"] <= summary["stopped"]["at_ms"]).sum() > 0
    assert events["ts_ms"].max() <= summary["stopped"]["at_ms"] + 60_000
    assert (out / "orders.parquet").is_file()


def _has_orders(record: Path) -> bool:
    """Whether the bot has recorded an order yet: the run is past its set-up, inside the simulation."""
    import sqlite3

    if not record.exists():
        return False
    try:
        with sqlite3.connect(f"file:{record}?mode=ro", uri=True, timeout=0.5) as conn:
            return conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def _long_scenario(tmp_path: Path) -> Path:
    f = tmp_path / "long.toml"
    f.write_text((ROOT / "scenarios/quickstart.toml").read_text().replace('duration = "1d"', 'duration = "120d"')
                 .replace('name = "quickstart"', 'name = "long"'))
    return f


def test_ctrl_c_stops_a_batch_at_once_and_says_how_to_resume(tmp_path):
    """Ctrl-C to the batch alone (workers ignore it): the workers are ended, not waited for (120-day runs)."""
    import os
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for workers in ("2", "1"):
        out = tmp_path / f"b{workers}"
        proc = subprocess.Popen([sys.executable, "-m", "sim", "batch", str(_long_scenario(tmp_path)), "--seeds", "3",
                                 "--workers", workers, "--out", str(out)], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while (not any(_has_orders(r) for r in out.glob("runs/*/record.sqlite")) and time.monotonic() < deadline
               and proc.poll() is None):
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, (workers, stderr)
        assert "Traceback" not in stderr and "batch interrupted" in stderr and "resumes" in stderr, stderr
