"""A long run reports its progress, and watching it changes nothing the run does."""
from __future__ import annotations

import json
from pathlib import Path

import sim
from sim.runner import PROGRESS_STEPS, RunProgress

ROOT = Path(__file__).resolve().parent.parent


def _summary_without_wall(run_dir: Path) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text())
    summary.pop("wall_seconds")
    return summary


def test_progress_runs_from_start_to_end_of_simulated_time_and_leaves_the_summary_unchanged(tmp_path):
    scenario = sim.load_scenario(ROOT / "scenarios/protective/tp-fires-between-cycles.toml")
    seen: list[RunProgress] = []
    sim.run(scenario, out=tmp_path / "watched", ideal_twin=True, report=False, progress=seen.append)
    sim.run(scenario, out=tmp_path / "plain", ideal_twin=True, report=False)

    assert _summary_without_wall(tmp_path / "watched") == _summary_without_wall(tmp_path / "plain")
    for phase in ("run", "ideal twin"):
        steps = [p for p in seen if p.phase == phase]
        assert PROGRESS_STEPS <= len(steps) <= PROGRESS_STEPS + 1
        done = [p.sim_done_s for p in steps]
        assert done == sorted(done) and done[-1] == steps[-1].sim_total_s and steps[-1].fraction == 1.0
        assert steps[-1].events > 0
