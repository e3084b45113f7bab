"""Batch throughput: 200 short runs serially and on the process pool; prints the speed-up.

    python benchmarks/batch.py [--runs 200] [--workers N]

The last line is the result: ``batch: runs=200 serial=...s pool=...s speedup=...x workers=2
identical=True`` (identical: the pool's summaries equal the serial ones, wall times aside).
Other jobs on the machine take cores from the pool: quote the load average with the figure.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

import sim

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "basics" / "flip.toml"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    seeds = list(range(args.runs))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        serial = sim.batch([SCENARIO], seeds=seeds, out=Path(tmp) / "serial", workers=1, report=False,
                           keep="summaries")
        t_serial = time.perf_counter() - t
        t = time.perf_counter()
        pool = sim.batch([SCENARIO], seeds=seeds, out=Path(tmp) / "pool", workers=args.workers, report=False,
                         keep="summaries")
        t_pool = time.perf_counter() - t
    same = _comparable(serial).equals(_comparable(pool))
    print(f"scenario {SCENARIO.name} (1 h simulated each), {args.runs} runs, {args.workers} workers on "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end")
    print(f"serial: {args.runs / t_serial:.1f} runs/s; pool: {args.runs / t_pool:.1f} runs/s")
    print(f"batch: runs={args.runs} serial={t_serial:.1f}s pool={t_pool:.1f}s speedup={t_serial / t_pool:.2f}x "
          f"workers={args.workers} identical={same}")


def _comparable(table: pd.DataFrame) -> pd.DataFrame:
    """The results without wall-clock figures, in run-id order."""
    return table.drop(columns="wall_seconds").sort_values("run_id").reset_index(drop=True)


if __name__ == "__main__":
    main()
