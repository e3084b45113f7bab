"""`aethersim serve`: run a scenario's venue in real time and serve it as Binance USD-M on localhost."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import pprint
import signal
import sys
from pathlib import Path

from sim.cli.common import resolve_scenario_arg
from sim.core.units import parse_duration_ms


def _snippet(server) -> str:  # noqa: ANN001  (a ServeServer; imported lazily)
    cfg = server.ccxt_config()
    return ("import ccxt.pro as ccxtpro  # or ccxt.async_support\n"
            f"exchange = ccxtpro.binanceusdm({pprint.pformat(cfg, width=110, sort_dicts=False)})\n"
            "exchange.exceptions['exact'].update(exchange.exceptions['linear']['exact'])"
            "  # Binance's futures error classes on a local URL\n")


async def _serve(args: argparse.Namespace, scenario) -> int:  # noqa: ANN001
    from sim.serve import ApiKey, LimitsConfig, ServeServer

    key = ApiKey(args.api_key, args.api_secret) if args.api_key else None
    duration = parse_duration_ms(args.duration) if args.duration else None
    out = Path(args.out) if args.out else Path("reports") / "serve" / scenario.scenario.name
    server = ServeServer(scenario, host=args.host, port=args.port, api_key=key, operator_token=args.operator_token,
                         speed=args.speed, duration_ms=duration, out=out, seed=args.seed,
                         limits=LimitsConfig(*args.limits_config),
                         history_ms=parse_duration_ms(args.history) if args.history else 0,
                         legacy_stops=args.legacy_stops)
    try:
        await server.start()
    except OSError as exc:
        print(f"aethersim: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"aethersim serve: {scenario.scenario.name} at {server.base_url} (speed x{args.speed:g}); Ctrl-C stops")
    print(f"  REST      {server.base_url}/fapi/v1/...   WebSocket {server.ws_url}  (/public, /market, /private too)")
    if key is None:
        print(f"  api key   {server.api_key.key}\n  secret    {server.api_key.secret}")
    print(f"  operator  {server.base_url}/operator/event, /operator/truth  "
          f"(header 'Authorization: Bearer {server.operator_token}')")
    print("  ccxt:\n" + "\n".join("    " + line for line in _snippet(server).splitlines()), flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, lambda: (setattr(server, "stop_reason", "Ctrl-C"), server.stopped.set()))
    await server.wait()
    run_dir = await server.stop()
    print(f"aethersim serve: stopped ({server.stop_reason}); run directory: {run_dir}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import sim

    if args.api_key and not args.api_secret or args.api_secret and not args.api_key:
        print("aethersim: give both --api-key and --api-secret, or neither (a pair is made up)", file=sys.stderr)
        return 2
    if args.speed <= 0:
        print(f"aethersim: --speed must be positive, got {args.speed}", file=sys.stderr)
        return 2
    for name in ("duration", "history"):
        if getattr(args, name):
            try:
                parse_duration_ms(getattr(args, name))
            except ValueError as exc:
                print(f"aethersim: --{name}: {exc}", file=sys.stderr)
                return 2
    try:
        w1m, o10s, o1m = (int(x) for x in args.limits.split(","))
        if min(w1m, o10s, o1m) < 1:
            raise ValueError
    except ValueError:
        print(f"aethersim: --limits takes three positive integers W1M,O10S,O1M, got {args.limits!r}", file=sys.stderr)
        return 2
    args.limits_config = (w1m, o10s, o1m)
    if not 0 <= args.port <= 65535:
        print(f"aethersim: --port must be 0..65535, got {args.port}", file=sys.stderr)
        return 2
    scenario = sim.load_scenario(resolve_scenario_arg(args.scenario))
    if scenario.market.book_file:
        print("aethersim: serve does not replay a recorded book yet (market.book_file): its depth streams show the "
              "ladder of [liquidity]; run the scenario with `aethersim run`, or serve it without book_file",
              file=sys.stderr)
        return 2
    if args.history and parse_duration_ms(args.history) >= scenario.duration_ms:
        print(f"aethersim: --history {args.history} must be shorter than the scenario's duration "
              f"({scenario.scenario.duration})", file=sys.stderr)
        return 2
    return asyncio.run(_serve(args, scenario))


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="serve a scenario's venue as Binance USD-M on localhost, for any bot")
    s.add_argument("scenario", help="a scenario file, or the name of a bundled one")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    s.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    s.add_argument("--api-key", default=None, help="API key clients must send (default: a new pair is printed)")
    s.add_argument("--api-secret", default=None, help="its HMAC secret")
    s.add_argument("--operator-token", default=None, help="token for /operator/... (default: made up, printed)")
    s.add_argument("--speed", type=float, default=1.0, help="simulated seconds per wall second (default 1)")
    s.add_argument("--duration", default=None, help="stop after this much wall time, e.g. '10m' (default: the "
                                                    "scenario's duration)")
    s.add_argument("--history", default=None, help="begin serving this far into the scenario, e.g. '2h': the "
                                                   "path before is market history (klines) for warm-ups")
    s.add_argument("--legacy-stops", action="store_true",
                   help="also take STOP_MARKET / TAKE_PROFIT_MARKET on /fapi/v1/order (Binance's route before "
                        "2025-12-09, which some adapters still use); default: -4120, use the algo API")
    s.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    s.add_argument("--limits", default="2400,300,1200", metavar="W1M,O10S,O1M",
                   help="request weight per minute, orders per 10 s and per minute, advertised in exchangeInfo and "
                        "enforced (default Binance's 2400,300,1200)")
    s.add_argument("--out", default=None, help="run directory written on stop (default reports/serve/NAME)")
    s.set_defaults(func=cmd_serve)
