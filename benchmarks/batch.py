"""Batch throughput: 200 short runs serially and on the process pool; prints the speed-up.

    python benchmarks/batch.py [--runs 200] [--workers N]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

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
    same = serial.drop(columns="wall_seconds").sort_values("run_id").reset_index(drop=True).equals(
        pool.drop(columns="wall_seconds").sort_values("run_id").reset_index(drop=True))
    print(f"scenario {SCENARIO.name} (1 h simulated each), {args.runs} runs, {args.workers} workers on "
          f"{os.cpu_count()} cores")
    print(f"serial: {t_serial:.1f} s ({args.runs / t_serial:.1f} runs/s); pool: {t_pool:.1f} s "
          f"({args.runs / t_pool:.1f} runs/s); identical summaries: {same}")
    print(f"batch: speedup={t_serial / t_pool:.2f}x runs={args.runs} workers={args.workers}")


if __name__ == "__main__":
    main()
