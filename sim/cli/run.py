"""`aethersim run`: one scenario, one seed, a run directory and a short summary."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from sim.cli.common import add_memory_check_flag, num, out_dir, resolve_scenario_arg, whole_number
from sim.cli.progress import RunBars, on_terminal, step

INTERRUPTED = 130  # the shell's status for a process ended by Ctrl-C (128 + SIGINT)


def cmd_run(args: argparse.Namespace) -> int:
    import sim
    from sim.runner import RunInterrupted

    path = resolve_scenario_arg(args.scenario)
    scenario = sim.load_scenario(path)
    bars = RunBars() if on_terminal() else None
    try:
        if bars is not None:
            with bars:
                result = sim.run(scenario, seed=args.seed, out=args.out, ideal_twin=args.ideal_twin, report=False,
                                 progress=bars)
        else:
            result = sim.run(scenario, seed=args.seed, out=args.out, ideal_twin=args.ideal_twin, report=False)
    except RunInterrupted as exc:
        print(f"aethersim: {exc}", file=sys.stderr)
        return INTERRUPTED
    except sim.RunFailed as exc:
        _report(exc.run_dir)
        print(f"aethersim: {exc}", file=sys.stderr)
        return 1
    _report(result.run_dir)
    _print_summary(result.summary)
    for c in result.checks:
        print(f"  expect   {_check(c)}")
    broken = result.broken_invariants
    for name, problems in broken.items():  # DESIGN.md section 8: a broken invariant fails the run (exit 1)
        print(f"  invariant BROKEN {name}: {problems[0]}" + (f" (+{len(problems) - 1} more)" if len(problems) > 1
                                                               else ""))
    if not broken:
        print(f"  invariants held ({len(result.summary.get('invariants', {}))})")
    print(f"  report   {result.run_dir / 'report.html'}")
    return 0 if result.passed and not broken else 1


def _report(run_dir: Any) -> None:
    """Build the run's report.html under a spinner (5 to 15 s on a long run); Ctrl-C skips only the report."""
    from sim.report.html import build_report

    try:
        with step("building the report"):
            build_report(run_dir)
    except KeyboardInterrupt:
        print(f"aethersim: report build interrupted; `aethersim report {run_dir}` builds it", file=sys.stderr)
        raise
    except Exception as exc:  # a partial run may lack what a chart needs: its files and summary still stand
        print(f"aethersim: the report could not be built ({type(exc).__name__}: {exc})", file=sys.stderr)


def _print_summary(s: dict[str, Any]) -> None:
    """The headline figures, every number in one format: thousands separated, two decimals, n/a when absent."""
    d, e, o, p = s["drift"], s["execution"], s["orders"], s["pnl"]
    print(f"{s['scenario']} (seed {s['seed']}): {num(s['sim_seconds'] / 3600)} h simulated in "
          f"{num(s['wall_seconds'])} s, {num(s['events'])} events, {num(s['cycles'])} cycles")
    print(f"  orders   submitted {num(o['submitted'])}, filled {num(o['filled'])}, rejected {num(o['rejected'])},"
          f" cancelled {num(o['cancelled'])}")
    print(f"  drift    {num(d['episodes'])} episodes, worst detection {num(d['detect_s_max'])} s,"
          f" residual gap {num(d['residual_size_gap'], 4)}; stale actions {num(s['stale_actions'])},"
          f" duplicates {num(s['duplicates'])}")
    print(f"  exec     slippage {num(e['slippage_bps_mean'])} bps mean, fees {num(e['fees'])},"
          f" latency p50 {num(e['latency_ms_p50'])} ms")
    print(f"  pnl      realistic {num(p['realistic'])}, ideal {num(p['ideal'])},"
          f" cost of execution {num(p['execution_cost'])}")


def _check(c: Any) -> str:
    """An `[expect]` result as the summary prints numbers; the expectation as the scenario writes it."""
    places = 4 if "size_gap" in c.key or "position" in c.key else 2
    spec = c.expected
    wanted = ("{ " + ", ".join(f"{op} = {num(v, places)}" for op, v in spec.items()) + " }" if isinstance(spec, dict)
              else num(spec, places))
    return f"{'ok  ' if c.passed else 'FAIL'} {c.key}: expected {wanted}, got {num(c.actual, places)}"


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("run", help="run one scenario and write a run directory")
    r.add_argument("scenario", help="a scenario file, or the name of a bundled one")
    r.add_argument("--seed", type=whole_number(0), default=None, help="override the scenario's seed")
    r.add_argument("--out", type=out_dir, default=None, help="run directory (default reports/runs/NAME-seedN)")
    r.add_argument("--ideal-twin", action=argparse.BooleanOptionalAction, default=True,
                   help="also run the strategy in test mode to price execution (default on)")
    add_memory_check_flag(r)
    r.set_defaults(func=cmd_run)
