"""`aethersim live`: the scenario's bot on a venue's API (an `aethersim serve` on paper, or Binance)."""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from sim.cli.common import resolve_scenario_arg


def _env(name: str | None, what: str) -> str:
    if not name:
        return ""
    value = os.environ.get(name, "")
    if not value:
        raise ValueError(f"{what}: the environment variable {name} is not set (or empty)")
    return value


def cmd_live(args: argparse.Namespace) -> int:
    import sim
    from sim.live.errors import LiveConfigError
    from sim.live.rundir import OUTPUTS, write_run_dir
    from sim.live.session import LiveOptions, check_venue, is_real, run_live
    from sim.scenario.schema import ms

    scenario = sim.load_scenario(resolve_scenario_arg(args.scenario))
    try:
        key = _env(args.api_key_env, "--api-key-env")
        secret = _env(args.api_secret_env, "--api-secret-env")
        token = os.environ.get(args.operator_token_env, "") or None
        duration = ms(args.duration) / 1000.0 if args.duration else None
    except ValueError as exc:
        print(f"aethersim live: {exc}", file=sys.stderr)
        return 2
    opts = LiveOptions(args.venue, key, secret, duration, args.real_money, token)
    try:
        what = check_venue(opts)
    except LiveConfigError as exc:
        print(f"aethersim live: {exc}", file=sys.stderr)
        return 2
    run_dir = Path(args.out) if args.out else Path("reports") / "live" / scenario.scenario.name
    if run_dir.exists() and not run_dir.is_dir():
        print(f"aethersim live: --out {run_dir} is a file, not a directory", file=sys.stderr)
        return 2
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        (run_dir / name).unlink(missing_ok=True)
    bot = scenario.bot
    restart = (run_dir / "record.sqlite").exists()
    print(f"aethersim live: bot {bot.bot_id!r} ({bot.strategy}, cycle {bot.cycle}) trading {scenario.market.symbol} "
          f"on {what}")
    if is_real(args.venue):
        print(f"  REAL MONEY: sizing {bot.sizing.mode} {bot.sizing.value}, max position {bot.max_position}, "
              f"max leverage {bot.max_leverage}, TP/SL {'on' if bot.protective.enabled else 'off'}; Ctrl-C stops it")
    print(f"  record   {run_dir / 'record.sqlite'} ({'continuing from it' if restart else 'new'})")
    print(f"  stops    {'after ' + args.duration if args.duration else 'on Ctrl-C'}, then withdraws protection "
          "that no longer fits and writes the run directory", flush=True)
    try:
        run = asyncio.run(run_live(scenario, opts, run_dir / "record.sqlite"))
    except LiveConfigError as exc:
        print(f"aethersim live: {exc}", file=sys.stderr)
        return 2
    s = write_run_dir(scenario, run, run_dir)
    o, d = s["orders"], s["drift"]
    print(f"{s['scenario']} live: {run.wall_s:.1f} s, {run.cycles} cycles, {s['live']['requests']} requests "
          f"({s['live']['timeouts']} timed out), {s['live']['updates_received']} pushed updates")
    print(f"  orders   submitted {o['submitted']}, filled {o['filled']}, rejected {o['rejected']},"
          f" cancelled {o['cancelled']}")
    print(f"  drift    {d['episodes']} episodes, worst detection {d['detect_s_max']} s; final position record "
          f"{s['final']['record_position']}, venue {s['final']['exchange_position']}")
    print(f"  report   {run_dir / 'report.html'}")
    if run.error is not None:
        print(f"aethersim live: the bot stopped early: {run.error}", file=sys.stderr)
        return 1
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="run the scenario's bot on a venue's API (paper: an `aethersim serve`)")
    p.add_argument("scenario", help="a scenario file, or the name of a bundled one (its [bot] and [market] symbol)")
    p.add_argument("--venue", required=True,
                   help="http://127.0.0.1:PORT of an `aethersim serve` (paper), or binanceusdm / binanceusdm-demo")
    p.add_argument("--api-key-env", default="AETHERSIM_API_KEY",
                   help="environment variable holding the API key (default AETHERSIM_API_KEY)")
    p.add_argument("--api-secret-env", default="AETHERSIM_API_SECRET",
                   help="environment variable holding the API secret (default AETHERSIM_API_SECRET)")
    p.add_argument("--operator-token-env", default="AETHERSIM_OPERATOR_TOKEN",
                   help="environment variable with an aethersim serve's operator token: the run then fetches "
                        "the venue's truth at the end (default AETHERSIM_OPERATOR_TOKEN)")
    p.add_argument("--duration", default=None, help="stop after this much wall time, e.g. '10m' (default: Ctrl-C)")
    p.add_argument("--out", default=None, help="run directory (default reports/live/NAME); the same directory "
                                               "again continues from its record")
    p.add_argument("--real-money", action="store_true",
                   help="required to trade on a real exchange (binanceusdm, binanceusdm-demo)")
    p.set_defaults(func=cmd_live)
