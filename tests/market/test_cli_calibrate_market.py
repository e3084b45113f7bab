"""`aethersim calibrate --market` fits the price model and prints a [market] table that a scenario accepts."""
from __future__ import annotations

import tomllib
from pathlib import Path

from sim.cli import main
from sim.scenario.loader import parse_scenario

ROOT = Path(__file__).resolve().parents[2]


def _market_table(out: str) -> dict:
    text = out.split("paste into a scenario:")[1].split("statistic")[0]
    return tomllib.loads(text)["market"]


def test_calibrate_market_on_candles_prints_a_pasteable_table_and_the_facts_side_by_side(capsys):
    rc = main(["calibrate", "--market", str(ROOT / "data/ftx-btc-perp/btc-perp-20211231-20220201_1m.csv.gz"),
               "--format", "csv", "--kind", "ohlcv", "--columns", "time=timestamp"])
    out = capsys.readouterr().out
    assert rc == 0
    market = _market_table(out)
    assert market["model"] == "msm" and 0.5 < market["sigma"] < 1.0
    sc = parse_scenario({"scenario": {"name": "x", "description": "fitted", "duration": "1h"}, "market": market})
    assert sc.market.vol_multiplier == market["vol_multiplier"]
    header = next(line for line in out.splitlines() if line.startswith("statistic"))
    assert "data" in header and "fit" in header and "old default gbm" in header
    kurt = next(line for line in out.splitlines() if line.startswith("excess kurtosis 1 m")).split()
    assert float(kurt[4]) > 15 and abs(float(kurt[6])) < 1  # the data's fat tails; GBM's none


def test_calibrate_market_on_a_few_minutes_of_trades_fits_what_they_can_tell(capsys):
    rc = main(["calibrate", "--market", str(ROOT / "data/binance-btcusdt-perp/btcusdt_perp_trades.csv.gz"),
               "--format", "csv", "--kind", "trades", "--columns", "time=trade_time_ms,type=exec_type",
               "--exclude", "INSURANCE_FUND", "--time-unit", "ms"])
    out = capsys.readouterr().out
    assert rc == 0 and "only volatility and the share of quiet seconds" in out
    assert 0.5 < _market_table(out)["active_share"] < 0.8


def test_calibrate_market_refuses_a_generic_table_without_its_kind(capsys):
    rc = main(["calibrate", "--market", str(ROOT / "data/ftx-btc-perp/btc-perp-20211231-20220201_1m.csv.gz"),
               "--format", "csv"])
    assert rc == 2 and "--kind" in capsys.readouterr().err
