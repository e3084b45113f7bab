"""`aethersim run`: one scenario, one seed, a run directory and a short summary."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.common import resolve_scenario_arg

if TYPE_CHECKING:
    from sim.runner import RunProgress


def cmd_run(args: argparse.Namespace) -> int:
    import sim

    path = resolve_scenario_arg(args.scenario)
    scenario = sim.load_scenario(path)
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        print(f"aethersim: --out {args.out} is a file, not a directory", file=sys.stderr)
        return 2
    try:
        result = sim.run(scenario, seed=args.seed, out=args.out, ideal_twin=args.ideal_twin,
                         progress=_run_progress_bar())
    except sim.RunFailed as exc:
        print(f"aethersim: {exc}", file=sys.stderr)
        return 1
    s = result.summary
    d, e, o = s["drift"], s["execution"], s["orders"]
    print(f"{s['scenario']} (seed {s['seed']}): {s['sim_seconds'] / 3600:.1f} h simulated in {s['wall_seconds']:.2f} s,"
          f" {s['events']:,} events, {s['cycles']:,} cycles")
    print(f"  orders   submitted {o['submitted']}, filled {o['filled']}, rejected {o['rejected']},"
          f" cancelled {o['cancelled']}")
    print(f"  drift    {d['episodes']} episodes, worst detection {d['detect_s_max']} s,"
          f" residual gap {d['residual_size_gap']}; stale actions {s['stale_actions']},"
          f" duplicates {s['duplicates']}")
    fees = "n/a" if e["fees"] is None else f"{e['fees']:,.2f}"
    print(f"  exec     slippage {e['slippage_bps_mean']} bps mean, fees {fees},"
          f" latency p50 {e['latency_ms_p50']} ms")
    print(f"  pnl      realistic {s['pnl']['realistic']}, ideal {s['pnl']['ideal']},"
          f" cost of execution {s['pnl']['execution_cost']}")
    for c in result.checks:
        print(f"  expect   {c.describe()}")
    broken = result.broken_invariants
    for name, problems in broken.items():  # DESIGN.md section 8: a broken invariant fails the run (exit 1)
        print(f"  invariant BROKEN {name}: {problems[0]}" + (f" (+{len(problems) - 1} more)" if len(problems) > 1
                                                               else ""))
    if not broken:
        print(f"  invariants held ({len(s.get('invariants', {}))})")
    print(f"  report   {result.run_dir / 'report.html'}")
    return 0 if result.passed and not broken else 1


def _run_progress_bar(quiet_for_s: float = 1.0) -> Callable[[RunProgress], None] | None:
    """A one-line bar for a long run on a terminal: simulated time done / total and events/s.

    Nothing when output is not a TTY, and nothing for a run that ends within ``quiet_for_s`` of
    wall time (a short run would only flash it).
    """
    if not sys.stderr.isatty():
        return None

    shown = False

    def show(p: RunProgress) -> None:
        nonlocal shown
        if not shown and p.wall_s < quiet_for_s:
            return
        shown = True
        bar = "#" * int(30 * p.fraction)
        print(f"\r{p.phase:<10} [{bar:<30}] {p.sim_done_s / 86400:,.2f} / {p.sim_total_s / 86400:,.2f} days, "
              f"{p.events_per_s:,.0f} events/s ", end="", file=sys.stderr, flush=True)
        if p.fraction >= 1.0:
            print(file=sys.stderr)
            shown = False  # the ideal twin gets its own bar

    return show


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("run", help="run one scenario and write a run directory")
    r.add_argument("scenario", help="a scenario file, or the name of a bundled one")
    r.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    r.add_argument("--out", default=None, help="run directory (default reports/runs/NAME-seedN)")
    r.add_argument("--ideal-twin", action=argparse.BooleanOptionalAction, default=True,
                   help="also run the strategy in test mode to price execution (default on)")
    r.set_defaults(func=cmd_run)
