"""`aethersim calibrate`: fit the book ([liquidity]) to real trades."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.data.formats import TRADE_FORMATS


def cmd_calibrate(args: argparse.Namespace) -> int:
    if args.market:
        return cmd_calibrate_market(args)
    from sim.data.calibrate import calibrate, plot
    from sim.data.errors import MarketDataError
    from sim.data.formats import load_trades

    columns = dict(kv.split("=", 1) for kv in args.columns.split(",")) if args.columns else {}
    if args.format not in TRADE_FORMATS:
        print(f"aethersim calibrate: --format {args.format} holds candles; the book is fitted to trades "
              f"({', '.join(TRADE_FORMATS)}); to fit the price model to candles add --market", file=sys.stderr)
        return 2
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


def cmd_calibrate_market(args: argparse.Namespace) -> int:
    """Fit the price model ([market], model "msm") to candles or trades; print it with the facts side by side."""
    import numpy as np

    from sim.data.errors import MarketDataError
    from sim.data.replay import ReplaySpec, load_replay
    from sim.market.facts import facts_table, stylised_facts
    from sim.market.fit import fit_msm
    from sim.market.msm import msm_path
    from sim.market.scenario import msm_params
    from sim.market.source import data_prices, data_step_ms
    from sim.scenario.schema import Market
    from sim.world.market import GbmParams, gbm_path

    columns = tuple(sorted(tuple(kv.split("=", 1)) for kv in args.columns.split(","))) if args.columns else ()
    kind = args.kind or ("trades" if args.format in ("aggtrades_csv", "freqtrade_trades_json") else "ohlcv")
    if args.format in ("csv", "parquet") and args.kind is None:
        print(f"aethersim calibrate: --format {args.format} needs --kind ohlcv or --kind trades", file=sys.stderr)
        return 2
    spec = ReplaySpec(str(Path(args.file).resolve()), kind, args.format, columns, args.time_unit, "fill", 60_000,
                      tuple(args.exclude or ()))
    base = Market(tick_size=args.tick_size)
    try:
        data = load_replay(spec)
        prices = data_prices(data)
        step = data_step_ms(data)
        if not prices:
            raise ValueError("no two consecutive prices in the data")
        fit = fit_msm(prices, step, msm_params(base))
    except (MarketDataError, ValueError) as exc:
        print(f"aethersim calibrate: {args.file}: {exc}", file=sys.stderr)
        return 2
    span = max(len(p) for p in prices) * step
    n = min(span, 60 * 86_400_000) // 1000 + 1  # a path as long as the data (at most 60 days) at 1 s
    s0 = float(prices[0][0])
    params = fit.params.__class__(**{**_fields(fit.params), "s0": s0})
    rows = [stylised_facts(msm_path(params, n, 1000, np.random.default_rng(args.seed + k)), 1000) for k in range(5)]
    fitted = {key: float(np.median([r[key] for r in rows])) for key in rows[0]}  # one month's kurtosis is noisy
    gbm = gbm_path(GbmParams(s0, base.sigma), n, 1000, np.random.default_rng(args.seed))
    what = f"{len(data.table):,} {'candles' if kind == 'ohlcv' else 'trades'}"
    print(f"{what}, {len(prices)} contiguous stretch(es), the longest {span / 3_600_000:,.1f} h at {step} ms; "
          f"fitted: {', '.join(fit.fitted)}")
    for note in fit.notes:
        print(f"note: {note}")
    print("paste into a scenario:\n")
    print(fit.toml())
    print(facts_table({"data": fit.data_facts, "fit (median of 5)": fitted,
                       "old default gbm": stylised_facts(gbm, 1000)}))
    return 0


def _fields(obj) -> dict:
    from dataclasses import fields

    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def add_parser(sub: argparse._SubParsersAction) -> None:
    from sim.data.formats import BAR_FORMATS

    c = sub.add_parser("calibrate", help="estimate [liquidity] (spread, depth, impact) from real trades, or with "
                                         "--market the price model from candles or trades")
    c.add_argument("file", help="a trades file (aggregated-trades CSV, freqtrade trades JSON, or csv/parquet); "
                                "with --market also a candle file")
    c.add_argument("--market", action="store_true", help="fit the price model ([market]) instead of the book")
    c.add_argument("--format", default="aggtrades_csv", choices=tuple(dict.fromkeys((*TRADE_FORMATS, *BAR_FORMATS))))
    c.add_argument("--kind", default=None, choices=("ohlcv", "trades"), help="with --format csv/parquet (--market)")
    c.add_argument("--seed", type=int, default=0, help="seed of the path generated from the fit (--market)")
    c.add_argument("--columns", default=None, help="column mapping, e.g. time=trade_time_ms,side=aggressor_side")
    c.add_argument("--time-unit", default="auto", choices=("auto", "s", "ms", "us", "ns"))
    c.add_argument("--tick-size", type=float, default=0.1, help="the instrument's price increment (quote)")
    c.add_argument("--exclude", action="append", help="trade types to leave out (e.g. INSURANCE_FUND); repeatable")
    c.add_argument("--out", default="reports/calibration", help="folder for calibration.toml/.png/_curve.csv")
    c.set_defaults(func=cmd_calibrate)
