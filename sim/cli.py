"""aethersim: simulate a trading bot's execution lifecycle and report drift and execution quality.

Exit codes: 0 ok, 1 an `[expect]` check failed (or a run stopped early), 2 bad input.
(The only module of the package that prints.)
"""
from __future__ import annotations

import argparse
import difflib
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sim.scenario.errors import ScenarioError

if TYPE_CHECKING:
    from sim.runner import RunProgress

SCENARIO_DIR = Path("scenarios")


def _bundled_dir() -> Path:
    """The scenarios folder: the working directory's, else the repository's beside the package."""
    if SCENARIO_DIR.is_dir():
        return SCENARIO_DIR
    return Path(__file__).resolve().parent.parent / "scenarios"


def resolve_scenario_arg(arg: str) -> Path:
    """A path, or the name of a bundled scenario (``quickstart``, ``flip``)."""
    p = Path(arg)
    if p.exists() or arg.endswith(".toml"):
        return p
    matches = sorted(_bundled_dir().rglob(f"{arg}.toml"))
    if matches:
        return matches[0]
    names = [f.stem for f in _bundled_dir().rglob("*.toml")]
    near = difflib.get_close_matches(arg, names, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    raise ScenarioError(arg, [f"no such file or bundled scenario; {hint}`aethersim list` shows the bundled ones"])


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
    print(f"  report   {result.run_dir / 'report.html'}")
    return 0 if result.passed else 1


def cmd_validate(args: argparse.Namespace) -> int:
    import sim

    bad = 0
    for arg in args.scenarios:
        try:
            sc = sim.load_scenario(resolve_scenario_arg(arg))
            print(f"ok    {arg}: {sc.scenario.name}")
        except ScenarioError as exc:
            bad += 1
            print(str(exc), file=sys.stderr)
    return 2 if bad else 0


def cmd_list(args: argparse.Namespace) -> int:
    """The bundled scenarios by folder (top-level ones first), each with its one-line description."""
    root = _bundled_dir()
    files = sorted(root.rglob("*.toml"), key=lambda p: (len(p.relative_to(root).parts) > 1, str(p)))
    folder = None
    for f in files:
        rel = f.relative_to(root)
        here = str(rel.parent) if len(rel.parts) > 1 else ""
        if here != folder:
            folder = here
            print(f"\n{here}/" if here else "(start here)")
        try:
            meta = tomllib.loads(f.read_text(encoding="utf-8")).get("scenario", {})
            desc = str(meta.get("description", "")).strip().splitlines()[0] if meta.get("description") else ""
        except (tomllib.TOMLDecodeError, OSError):
            desc = "(unreadable: run `aethersim validate` on it)"
        print(f"  {f.stem:<32} {desc}")
    return 0


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
    broken = int((table.filter(like="invariants_held") == False).sum().sum())  # noqa: E712
    print(f"{len(table)} runs: {counts.get('ok', 0)} ok, {counts.get('expect_failed', 0)} failed an expectation, "
          f"{counts.get('error', 0)} raised, {broken} broke an invariant")
    print(f"results  {Path(args.out) / 'results.parquet'}")
    print(f"report   {Path(args.out) / 'report.html'}")
    return 0 if counts.get("ok", 0) == len(table) else 1


def cmd_calibrate(args: argparse.Namespace) -> int:
    from sim.data.calibrate import calibrate, plot
    from sim.data.errors import MarketDataError
    from sim.data.formats import load_trades

    columns = dict(kv.split("=", 1) for kv in args.columns.split(",")) if args.columns else {}
    try:
        trades, facts = load_trades(args.file, args.format, columns, args.time_unit, tuple(args.exclude or ()))
        trades = trades.sort_values("time_ms", kind="stable")
        cal = calibrate(trades, args.tick_size)
    except (MarketDataError, ValueError) as exc:
        print(f"aethersim calibrate: {args.file}: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "calibration.toml").write_text(cal.toml())
    cal.curve.to_csv(out / "calibration_curve.csv", index=False)
    plot(cal, str(out / "calibration.png"))
    print(f"{facts['rows']:,} trades ({facts['excluded']} excluded as {facts['excluded_types']}), "
          f"{cal.sweeps:,} aggressive orders; impact exponent on the real data {cal.exponent:.2f}")
    print("paste into a scenario:\n")
    print(cal.toml())
    print(f"fit: {out / 'calibration.png'}   curve: {out / 'calibration_curve.csv'}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from sim.report.batch_html import build_batch_report
    from sim.report.html import build_report

    target = Path(args.run_dir)
    path = build_batch_report(target) if (target / "results.parquet").is_file() else build_report(target)
    print(f"report: {path}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aethersim", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run one scenario and write a run directory")
    r.add_argument("scenario", help="a scenario file, or the name of a bundled one")
    r.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    r.add_argument("--out", default=None, help="run directory (default reports/runs/NAME-seedN)")
    r.add_argument("--ideal-twin", action=argparse.BooleanOptionalAction, default=True,
                   help="also run the strategy in test mode to price execution (default on)")
    r.set_defaults(func=cmd_run)
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
    c = sub.add_parser("calibrate", help="estimate [liquidity] (spread, depth, impact) from real trades")
    c.add_argument("file", help="a trades file (aggregated-trades CSV, freqtrade trades JSON, or csv/parquet)")
    c.add_argument("--format", default="aggtrades_csv",
                   choices=("aggtrades_csv", "freqtrade_trades_json", "csv", "parquet"))
    c.add_argument("--columns", default=None, help="column mapping, e.g. time=trade_time_ms,side=aggressor_side")
    c.add_argument("--time-unit", default="auto", choices=("auto", "s", "ms", "us", "ns"))
    c.add_argument("--tick-size", type=float, default=0.1, help="the instrument's price increment (quote)")
    c.add_argument("--exclude", action="append", help="trade types to leave out (e.g. INSURANCE_FUND); repeatable")
    c.add_argument("--out", default="reports/calibration", help="folder for calibration.toml/.png/_curve.csv")
    c.set_defaults(func=cmd_calibrate)
    v = sub.add_parser("validate", help="check scenario files without running them")
    v.add_argument("scenarios", nargs="+")
    v.set_defaults(func=cmd_validate)
    listing = sub.add_parser("list", help="list the bundled scenarios")
    listing.set_defaults(func=cmd_list)
    rep = sub.add_parser("report", help="(re)build the report.html of a run or batch directory")
    rep.add_argument("run_dir")
    rep.set_defaults(func=cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"aethersim: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
