"""How long the run report takes to build, and how big it is, for the quickstart day and longer runs.

    python benchmarks/report.py [--days 30] [--days 365]

Runs the quickstart scenario and the year workload (`year.py`) for each ``--days`` without a report,
then times `build_report` alone on each run directory and prints its seconds, file size, and the
rows of the timeline it thinned to draw (what is measured is never thinned).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import sim
from sim.report.html import build_report
from sim.report.load import load_run

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_line  # noqa: E402
from year import workload  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def measure(scenario: sim.Scenario, label: str, tmp: Path) -> None:
    out = tmp / label
    sim.run(scenario, out=out, ideal_twin=False, report=False)
    t = time.perf_counter()
    path = build_report(out)
    wall = time.perf_counter() - t
    run = load_run(out)
    print(f"{label}: report built in {wall:.2f} s, {path.stat().st_size / 1e6:.1f} MB; timeline {len(run.timeline):,} "
          f"rows, {len(run.orders):,} orders (all in the table), {len(run.drift_episodes):,} drift episodes")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, action="append", help="year workload lengths (default 30)")
    args = ap.parse_args()
    print(machine_line())
    import plotly  # noqa: F401  (imported once, outside the timings, as a notebook or the CLI has it)

    with tempfile.TemporaryDirectory() as tmp:
        measure(sim.load_scenario(ROOT / "scenarios" / "quickstart.toml"), "quickstart (1 day)", Path(tmp))
        for days in args.days or [30.0]:
            measure(workload(days), f"year workload, {days:g} days", Path(tmp))


if __name__ == "__main__":
    main()
