"""`aethersim batch`: scenarios x seeds x parameters, resumable, one results table."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import resolve_scenario_arg


def _progress_printer() -> object:
    """A one-line progress display on a terminal; nothing when output is not a TTY."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int, failures: int, eta: float) -> None:
        bar = "#" * int(30 * done / max(total, 1))
        print(f"\r[{bar:<30}] {done}/{total} runs, {failures} failed, ETA {eta:,.0f} s ", end="", file=sys.stderr,
              flush=True)
        if done == total:
            print(file=sys.stderr)

    return show


def cmd_batch(args: argparse.Namespace) -> int:
    import sim
    from sim.batching import parse_sets

    if args.seed_list:
        seeds = [int(x) for x in args.seed_list.split(",")]
    else:
        seeds = list(range(args.seeds))
    try:
        grid = parse_sets(args.set or [])
    except ValueError as exc:
        print(f"aethersim: {exc}", file=sys.stderr)
        return 2
    paths = [str(resolve_scenario_arg(a)) for a in args.scenarios]
    table = sim.batch(paths, seeds=seeds, params=grid, out=args.out, workers=args.workers, dask=args.dask,
                      keep=args.keep, ideal_twin=args.ideal_twin, progress=_progress_printer())
    counts = table["status"].value_counts().to_dict()
    print(f"{len(table)} runs: {counts.get('ok', 0)} ok, {counts.get('expect_failed', 0)} failed an expectation, "
          f"{counts.get('broken', 0)} broke an invariant, {counts.get('error', 0)} raised")
    from sim.report.sweep import sweep_summary

    for line in sweep_summary(table):
        print(line)
    print(f"results  {Path(args.out) / 'results.parquet'}")
    print(f"report   {Path(args.out) / 'report.html'}")
    return 0 if counts.get("ok", 0) == len(table) else 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("batch", help="run scenarios x seeds x parameters; resumable; one results table")
    b.add_argument("scenarios", nargs="+", help="scenario files, folders of them, or bundled names")
    seeds = b.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 (default 1)")
    seeds.add_argument("--seed-list", default=None, help="explicit seeds, e.g. 1,7,42")
    b.add_argument("--set", action="append", metavar="KEY=V1,V2",
                   help="sweep a scenario key (dotted), e.g. exchange.latency.median_ms=20,80,200; repeatable")
    b.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    b.add_argument("--dask", default=None, metavar="ADDRESS|local", help="run on Dask: 'local' or tcp://host:port")
    b.add_argument("--out", required=True, help="batch directory (a second call resumes it)")
    b.add_argument("--keep", choices=("all", "summaries"), default="all", help="keep run directories or only summaries")
    b.add_argument("--ideal-twin", action=argparse.BooleanOptionalAction, default=False,
                   help="also run each in test mode to price execution (default off: twice the time)")
    b.set_defaults(func=cmd_batch)
