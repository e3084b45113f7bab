"""`aethersim calibrate`: fit the book ([liquidity]) to real trades."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


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


def add_parser(sub: argparse._SubParsersAction) -> None:
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
