"""Cost must grow with what the bot does, not with market ticks (DESIGN.md section 6).

The same simulated day at 1 s and at 100 ms ticks (10x the ticks, the same cycles), and at a 1 min
and a 30 s cycle (2x the cycles). Each configuration is run three times; medians are compared.

    python benchmarks/scaling.py [--days 1]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from year import measure  # noqa: E402


def median_wall(days: float, tick: str, cycle: str, repeats: int = 3) -> float:
    return statistics.median(measure(days, tick, cycle)["sim_wall"] for _ in range(repeats))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=1.0)
    args = ap.parse_args()
    base = median_wall(args.days, "1s", "1m")
    fine = median_wall(args.days, "100ms", "1m")
    busy = median_wall(args.days, "1s", "30s")
    print(f"{args.days:g} day(s), simulation wall (median of 3): 1 s ticks / 1 min cycle {base:.2f} s; "
          f"100 ms ticks {fine:.2f} s; 30 s cycle {busy:.2f} s")
    print(f"scaling: ticks10x={fine / base:.2f} cycles2x={busy / base:.2f}")


if __name__ == "__main__":
    main()
