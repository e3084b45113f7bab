"""`aethersim batch`: scenarios x seeds x parameters, resumable, one results table."""
from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

from sim.cli.common import add_memory_check_flag, num, out_dir, resolve_scenario_arg, seed_list, whole_number
from sim.cli.progress import BatchBar, on_terminal, step


def cmd_batch(args: argparse.Namespace) -> int:
    import sim
    from sim.batching import parse_sets, write_report

    seeds = args.seed_list if args.seed_list is not None else list(range(args.seeds))
    try:
        grid = parse_sets(args.set or [])
    except ValueError as exc:
        print(f"aethersim: {exc}", file=sys.stderr)
        return 2
    paths = [str(resolve_scenario_arg(a)) for a in args.scenarios]
    try:
        bar = BatchBar() if on_terminal() else nullcontext()
        with bar:
            table = sim.batch(paths, seeds=seeds, params=grid, out=args.out, workers=args.workers, dask=args.dask,
                              keep=args.keep, ideal_twin=args.ideal_twin, report=False,
                              progress=bar if isinstance(bar, BatchBar) else None)
    except KeyboardInterrupt:
        print(f"aethersim: batch interrupted; the runs that finished are kept in {args.out}, and the same "
              "command resumes it (finished runs are not run again)", file=sys.stderr)
        return 130
    with step("building the batch report"):
        write_report(args.out)
    counts = table["status"].value_counts().to_dict()
    print(f"{num(len(table))} runs: {num(counts.get('ok', 0))} ok, {num(counts.get('expect_failed', 0))} failed an "
          f"expectation, {num(counts.get('broken', 0))} broke an invariant, {num(counts.get('error', 0))} raised")
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
    seeds.add_argument("--seeds", type=whole_number(1), default=1, help="seeds 0..N-1 (default 1)")
    seeds.add_argument("--seed-list", type=seed_list, default=None, help="explicit seeds, e.g. 1,7,42")
    b.add_argument("--set", action="append", metavar="KEY=V1,V2",
                   help="sweep a scenario key (dotted), e.g. exchange.latency.median_ms=20,80,200; repeatable")
    b.add_argument("--workers", type=whole_number(1), default=None, help="local processes (default: all cores)")
    b.add_argument("--dask", default=None, metavar="ADDRESS|local", help="run on Dask: 'local' or tcp://host:port")
    b.add_argument("--out", type=out_dir, required=True, help="batch directory (a second call resumes it)")
    b.add_argument("--keep", choices=("all", "summaries"), default="all", help="keep run directories or only summaries")
    b.add_argument("--ideal-twin", action=argparse.BooleanOptionalAction, default=False,
                   help="also run each in test mode to price execution (default off: twice the time)")
    add_memory_check_flag(b)
    b.set_defaults(func=cmd_batch)
