"""Where a run's time goes: the year workload for a few days under cProfile, top entries by own time.

    python benchmarks/hotspots.py [--days 7] [--top 5]

Deterministic profiling inflates the cost of small calls, so read the ranking, not the seconds;
for wall-clock shares of a long run, sample it instead:
``py-spy record -o out.svg -- python benchmarks/year.py --days 30``.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

import sim

sys.path.insert(0, str(Path(__file__).resolve().parent))
from year import workload  # noqa: E402


def top_entries(days: float, top: int) -> tuple[list[tuple[str, int, float, float]], int, float]:
    """(function, calls, own s, cumulative s) for the ``top`` functions by own time; total calls and seconds."""
    profiler = cProfile.Profile(time.process_time)
    with tempfile.TemporaryDirectory() as tmp:
        profiler.enable()
        sim.run(workload(days), out=Path(tmp) / "run", ideal_twin=False, report=False)
        profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (_, calls, own, cum, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(path).parent.name}/{Path(path).name}:{line}" if line else path
        rows.append((f"{where}({name})", calls, own, cum))
    rows.sort(key=lambda r: -r[2])
    return rows[:top], stats.total_calls, stats.total_tt  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--top", type=int, default=5)
    args = ap.parse_args()
    rows, calls, total = top_entries(args.days, args.top)
    print(f"{args.days:g} days under cProfile: {calls:,} calls, {total:.2f} s")
    for name, n, own, cum in rows:
        print(f"  own {own:6.3f} s  cum {cum:6.3f} s  {n:>9,} calls  {name}")


if __name__ == "__main__":
    main()
