"""The command line: run, validate, list, report; `python -m sim` is the same program."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
