"""Replay of real-data formats on small fixtures, the intrabar model, and clear errors for bad data."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.data.checks import check_bars
from sim.data.formats import load_bars, load_trades
from sim.data.paths import bars_to_ticks, trades_to_ticks
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_700_000_000_000  # ms


def bars(n=120, interval=60_000, seed=0):
    rng = np.random.default_rng(seed)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = np.concatenate([[30_000], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.001, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.001, n))
    return pd.DataFrame({"time": T0 + np.arange(n) * interval, "open": open_, "high": high, "low": low,
                         "close": close, "volume": rng.uniform(1, 5, n)})


def write_format(df: pd.DataFrame, fmt: str, path: Path) -> Path:
    if fmt == "kline_csv":  # exchange dump: no header, open time ms, ..., close time, quote volume, ...
        out = df.assign(close_time=df["time"] + 59_999, qv=1.0, n=10, tb=0.5, tq=0.5, ignore=0)
        out.to_csv(path, header=False, index=False)
    elif fmt == "ccxt_csv":
        df.to_csv(path, header=False, index=False)
    elif fmt == "freqtrade_json":
        path.write_text(json.dumps(df.values.tolist()))
    elif fmt == "freqtrade_feather":
        df.assign(date=pd.to_datetime(df["time"], unit="ms", utc=True)).drop(columns="time").to_feather(path)
    elif fmt == "parquet":
        df.rename(columns={"time": "ts"}).to_parquet(path)
    return path


@pytest.mark.parametrize("fmt,suffix", [("kline_csv", ".csv"), ("ccxt_csv", ".csv"), ("freqtrade_json", ".json"),
                                        ("freqtrade_feather", ".feather"), ("parquet", ".parquet")])
def test_every_candle_format_reads_to_the_same_candles(tmp_path, fmt, suffix):
    df = bars(20)
    cols = {"time": "ts"} if fmt == "parquet" else {}
    got, facts = load_bars(write_format(df, fmt, tmp_path / f"c{suffix}"), fmt, cols)
    assert list(got["time_ms"]) == list(df["time"])
    assert np.allclose(got["close"], df["close"]) and facts["rows"] == 20


def test_aggregated_trades_csv_reads_prices_times_and_aggressor_sides(tmp_path):
    f = tmp_path / "agg.csv"
    f.write_text("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
                 f"1,30000.1,0.5,1,2,{T0},true\n2,30000.2,0.1,3,3,{T0 + 250},false\n")
    got, _ = load_trades(f, "aggtrades_csv")
    assert list(got["side"]) == ["sell", "buy"] and list(got["time_ms"]) == [T0, T0 + 250]


def test_time_units_are_read_from_their_magnitude_and_reported():
    from sim.data.formats import to_ms

    for scale, unit in ((1e-3, "s"), (1, "ms"), (1e3, "us"), (1e6, "ns")):
        ms, seen = to_ms(pd.Series([T0 * scale]), "auto")
        assert ms[0] == T0 and seen == unit


def test_brownian_bridge_touches_each_bars_high_and_low_and_stays_inside():
    df = bars(200).rename(columns={"time": "time_ms"})
    ticks = bars_to_ticks(df, 60_000, 1_000, np.random.default_rng(3)).reshape(200, 60)
    assert np.allclose(ticks.max(axis=1), df["high"]) and np.allclose(ticks.min(axis=1), df["low"])
    assert np.allclose(ticks[:, 0], df["open"]) and np.allclose(ticks[:, -1], df["close"])


def test_which_extreme_comes_first_is_drawn_not_fixed():
    df = bars(300).rename(columns={"time": "time_ms"})
    ticks = bars_to_ticks(df, 60_000, 1_000, np.random.default_rng(5)).reshape(300, 60)
    high_first = ticks.argmax(axis=1) < ticks.argmin(axis=1)
    up = (df["close"] > df["open"]).to_numpy()
    assert 0 < high_first[up].mean() < 1 and 0 < high_first[~up].mean() < 1


def test_trades_become_the_last_price_on_a_grid():
    trades = pd.DataFrame({"time_ms": [T0, T0 + 150, T0 + 420], "price": [1.0, 2.0, 3.0]})
    assert list(trades_to_ticks(trades, T0, 6, 100)) == [1.0, 1.0, 2.0, 2.0, 2.0, 3.0]


def scenario_text(data_file: str, extra: str = "", duration: str = "30m") -> str:
    return f"""[scenario]
name = "replay-fixture"
description = "replay of a fixture"
duration = "{duration}"
[market]
model = "replay"
file = "{data_file}"
format = "ccxt_csv"
{extra}
[bot]
params = {{ fast = 3, slow = 8, qty = 0.1, interval = "1m" }}
[expect]
residual_size_gap = 0
"""


def test_a_candle_replay_runs_end_to_end_and_reports_its_intrabar_model(tmp_path):
    write_format(bars(60), "ccxt_csv", tmp_path / "c.csv")
    (tmp_path / "s.toml").write_text(scenario_text("c.csv"))
    result = sim.run(sim.load_scenario(tmp_path / "s.toml"), out=tmp_path / "r", ideal_twin=False)
    assert result.passed and result.summary["market"]["intrabar"] == "brownian_bridge"
    assert "intrabar model" in (tmp_path / "r/report.html").read_text()


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d.iloc[[0, 2, 1, *range(3, len(d))]], "out of time order"),
    (lambda d: pd.concat([d.iloc[:5], d.iloc[4:]]), "duplicate candle"),
    (lambda d: d.assign(close=d["close"].where(d.index != 7, -1.0)), "non-positive"),
    (lambda d: d.assign(high=d["high"].where(d.index != 9, d["low"] - 1)), "high < low"),
    (lambda d: d.drop(index=[10, 11, 12]), "gap"),
])
def test_bad_candle_data_is_refused_with_file_key_and_place(tmp_path, mutate, message):
    write_format(mutate(bars(60)).reset_index(drop=True), "ccxt_csv", tmp_path / "c.csv")
    (tmp_path / "s.toml").write_text(scenario_text("c.csv"))
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(tmp_path / "s.toml")
    assert "market.file" in str(info.value) and message in str(info.value) and "s.toml" in str(info.value)


def test_gaps_can_be_filled_on_request_and_are_counted(tmp_path):
    write_format(bars(60).drop(index=[10, 11]).reset_index(drop=True), "ccxt_csv", tmp_path / "c.csv")
    (tmp_path / "s.toml").write_text(scenario_text("c.csv", 'gaps = "fill"'))
    result = sim.run(sim.load_scenario(tmp_path / "s.toml"), out=tmp_path / "r", ideal_twin=False, report=False)
    assert result.summary["market"]["candles_filled"] == 2


@pytest.mark.parametrize("content,message", [(None, "file not found"), (b"\x00\x01garbage\xff", "cannot read"),
                                             (b"a,b\n1,2\n", "columns")])
def test_missing_or_corrupt_data_files_are_clear_errors(tmp_path, content, message):
    if content is not None:
        (tmp_path / "c.csv").write_bytes(content)
    (tmp_path / "s.toml").write_text(scenario_text("c.csv"))
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(tmp_path / "s.toml")
    assert "market.file (c.csv)" in str(info.value) and message in str(info.value)
    assert "s.toml" in str(info.value)


def test_a_window_beyond_the_data_is_refused(tmp_path):
    write_format(bars(60), "ccxt_csv", tmp_path / "c.csv")
    (tmp_path / "s.toml").write_text(scenario_text("c.csv", duration="3h"))
    with pytest.raises(ScenarioError, match="the data covers"):
        sim.load_scenario(tmp_path / "s.toml")


def test_check_bars_returns_the_interval():
    assert check_bars(bars(10, interval=300_000).rename(columns={"time": "time_ms"})) == 300_000


def test_shipped_real_extract_replays_and_its_insurance_fund_trade_is_excluded_and_reported(tmp_path):
    sc = sim.load_scenario(ROOT / "scenarios/basics/replay-real.toml")
    result = sim.run(sc, out=tmp_path / "r", ideal_twin=False, report=False)
    assert result.passed, [c.describe() for c in result.checks]
    assert result.summary["market"]["excluded"] == 1


# --- the replayed window: mid-candle starts, gaps at the window's end, off-grid candles -------------------

def _window_scenario(tmp_path: Path, df: pd.DataFrame, start: str, duration: str, extra: str = "") -> Path:
    write_format(df, "ccxt_csv", tmp_path / "c.csv")
    text = scenario_text("c.csv", extra, duration).replace(f'duration = "{duration}"',
                                                             f'duration = "{duration}"\nstart = {start}')
    (tmp_path / "s.toml").write_text(text)
    return tmp_path / "s.toml"


def _path(scenario_file: Path):
    from sim.world.build import replay_path
    from sim.world.rng import RunStreams

    sc = sim.load_scenario(scenario_file)
    return sc, *replay_path(sc, RunStreams(1))


def test_a_run_starting_mid_candle_gets_every_tick_from_the_candle_containing_the_start(tmp_path):
    # candles open at hh:mm:30; the run starts on the whole minute, inside the first candle (the audit's case:
    # 30 real ticks, then a flat price for the rest of a 2 h run)
    first = 1_700_013_630_000  # 2023-11-15T02:00:30Z
    df = bars(180).assign(time=lambda d: first + np.arange(len(d)) * 60_000)
    sc, path, _ = _path(_window_scenario(tmp_path, df, "2023-11-15T02:01:00Z", "2h"))
    mid = path.mid
    assert len(mid) == 2 * 3600 + 1  # one tick a second, both ends included
    assert path.t0_ms == first + 30_000
    per_candle = mid[30:30 + 119 * 60].reshape(119, 60)  # the candles opening 02:01:30 ... 03:59:30
    inner = df.iloc[1:120]
    assert np.allclose(per_candle[:, 0], inner["open"]) and np.allclose(per_candle[:, -1], inner["close"])
    assert np.allclose(per_candle.max(axis=1), inner["high"])
    assert df["low"].iloc[0] <= mid[0] <= df["high"].iloc[0]  # 30 s into the first candle
    assert (np.diff(mid[-60:]) != 0).any()  # no flat padding at the end


def test_a_run_over_the_whole_file_ends_on_the_last_close(tmp_path):
    df = bars(60)
    sc, path, _ = _path(_window_scenario(tmp_path, df, "2023-11-14T22:13:20Z", "60m"))
    assert len(path.mid) == 3601 and path.mid[-1] == pytest.approx(df["close"].iloc[-1])
    assert (np.diff(path.mid[-60:]) != 0).any()


def test_a_gap_running_over_the_end_of_the_window_is_refused_not_padded(tmp_path):
    df = bars(60).drop(index=range(28, 36)).reset_index(drop=True)  # candles 28..35 missing; the run ends at 30
    with pytest.raises(ScenarioError, match=r"1 gap\(s\) in the candles, the first from 2023-11-14T22:40:20"):
        sim.load_scenario(_window_scenario(tmp_path, df, "2023-11-14T22:13:20Z", "30m"))


def test_filled_gaps_are_counted_and_listed_and_the_path_has_the_runs_length(tmp_path):
    df = bars(60).drop(index=[5, 6, *range(28, 36)]).reset_index(drop=True)
    sc, path, facts = _path(_window_scenario(tmp_path, df, "2023-11-14T22:13:20Z", "30m", 'gaps = "fill"'))
    assert len(path.mid) == 1801
    assert facts["gaps"] == 2 and facts["candles_filled"] == 2 + 3  # 5, 6; then 28, 29, 30 (the run's last tick)
    assert facts["gap_stretches"] == [["2023-11-14T22:18:20+00:00", "2023-11-14T22:19:20+00:00"],
                                      ["2023-11-14T22:41:20+00:00", "2023-11-14T22:48:20+00:00"]]


@pytest.mark.parametrize("gaps", ["error", "fill"])
def test_a_candle_off_the_files_grid_is_refused_with_its_row_and_time(tmp_path, gaps):
    df = bars(60)
    df.loc[10, "time"] += 30_000  # would vanish when gaps are filled onto the grid
    with pytest.raises(ScenarioError, match=r"candle at 2023-11-14T22:23:50\+00:00 \(row 11\) is off the file's grid"):
        sim.load_scenario(_window_scenario(tmp_path, df, "2023-11-14T22:13:20Z", "30m", f'gaps = "{gaps}"'))


# --- data-file errors: wrong shapes, negative quantities, duplicate trade ids ---------------------------

def _validate(tmp_path: Path, capsys, name: str, content: str, fmt: str) -> str:
    from sim.cli import main

    (tmp_path / name).write_text(content)
    (tmp_path / "s.toml").write_text(scenario_text(name).replace('format = "ccxt_csv"', f'format = "{fmt}"'))
    assert main(["validate", str(tmp_path / "s.toml")]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return out.out + out.err


@pytest.mark.parametrize("name,content,fmt,message", [
    ("c.json", json.dumps([[T0 + i * 60_000, 1.0, 1.0, 1.0, 1.0] for i in range(5)]), "freqtrade_json",
     "c.json cannot be read as market.format = 'freqtrade_json' (a JSON list of [time ms, open, high, low, close, "
     "volume] rows): row 1 has 5 values"),
    ("c.json", json.dumps({"data": []}), "freqtrade_json", "(a JSON list of [time ms, open, high, low, close, volume] "
     "rows): it holds a JSON dict"),
    ("t.json", json.dumps([[T0, "1", None, "buy", 1.0, 0.1]]), "freqtrade_trades_json",
     "t.json cannot be read as market.format = 'freqtrade_trades_json' (a JSON list of [time ms, id, type, side, "
     "price, amount, cost] rows): row 1 has 6 values"),
    ("t.csv", f"1,30000,0.5,1,1,{T0},true\n2,30001,-0.1,2,2,{T0 + 5},false\n", "aggtrades_csv",
     "negative or missing trade quantity -0.1 at 2023-11-14T22:13:20.005000+00:00 (row 2)"),
    ("t.csv", f"7,30000,0.5,1,1,{T0},true\n8,30001,0.1,2,2,{T0 + 5},false\n7,30001,0.1,3,3,{T0 + 9},false\n",
     "aggtrades_csv", "trade id 7 appears twice: rows 1 (2023-11-14T22:13:20+00:00) and 3"),
    ("c.json", json.dumps([[T0 + i * 60_000, 1.0, 1.0, 1.0, 1.0, None] for i in range(3)] + [[None] * 6]),
     "freqtrade_json", "missing timestamp in row 4"),
    ("c.json", json.dumps([[T0 + i * 60_000, 1.0, 1.0, 1.0, 1.0, 1.0] for i in range(3)] + [[1e30, 1, 1, 1, 1, 1]]),
     "freqtrade_json", "timestamp 1e+30 in row 4 is out of range"),
])
def test_a_malformed_data_file_is_a_clear_error_naming_file_and_expected_shape(tmp_path, capsys, name, content, fmt,
                                                                                message):
    out = _validate(tmp_path, capsys, name, content, fmt)
    assert message in out and f"market.file ({name})" in out


# --- quirks: excluded trades counted in the window, price outliers warned about ------------------------

REAL = ROOT / "data/binance-btcusdt-perp/btcusdt_perp_trades.csv.gz"
REAL_COLUMNS = (("side", "aggressor_side"), ("time", "trade_time_ms"), ("type", "exec_type"))
INSURANCE_MS = 1_680_652_874_400  # the extract's one INSURANCE_FUND trade, 2 % off the market (its README)


def _real_window(start_ms: int, minutes: int, exclude: tuple[str, ...]) -> dict:
    from sim.data.replay import ReplaySpec, load_replay

    spec = ReplaySpec(str(REAL), "trades", "csv", REAL_COLUMNS, "ms", "error", 60_000, exclude)
    return load_replay(spec, (start_ms, start_ms + minutes * 60_000)).facts


def test_excluded_trades_are_counted_inside_the_replayed_window_not_the_whole_file():
    inside = _real_window(INSURANCE_MS - 60_000, 2, ("INSURANCE_FUND",))
    assert inside["excluded"] == 1 and inside["excluded_in_file"] == 1 and inside["price_outliers"] == 0
    later = _real_window(1_721_347_050_000, 5, ("INSURANCE_FUND",))  # 2024-07-18T23:57:30Z, the second window
    assert later["excluded"] == 0 and later["excluded_in_file"] == 1 and "warnings" not in later


def test_an_off_market_trade_left_in_is_warned_about_in_the_market_facts():
    facts = _real_window(INSURANCE_MS - 60_000, 2, ())
    assert facts["excluded"] == 0 and facts["price_outliers"] == 1
    (warning,) = facts["warnings"]
    assert "2023-04-05T00:01:14.400000+00:00 at 28722.5 (+204 bps)" in warning and "exclude_trade_types" in warning


# --- trade formats end to end, on two minutes of real trades (tests/fixtures/README.md) ----------------

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _trades_scenario(tmp_path: Path, file: str, fmt: str) -> Path:
    (tmp_path / "s.toml").write_text(f"""[scenario]
name = "replay-{fmt}"
description = "MA bot on two minutes of real trades as {fmt}"
duration = "110s"
start = 2024-07-18T23:57:35Z
seed = 3
[market]
model = "replay"
file = "{FIXTURES / file}"
format = "{fmt}"
resolution = "100ms"
[liquidity]
spread_bps = 0.1
level_step_bps = 0.05
level0_qty = 2.0
[bot]
cycle = "2s"
params = {{ fast = 2, slow = 5, qty = 0.01, interval = "2s" }}
[expect]
"decisions.open" = {{ ge = 1 }}
residual_size_gap = 0
duplicates = 0
invariants_held = true
""")
    return tmp_path / "s.toml"


@pytest.mark.parametrize("file,fmt,rows", [("btcusdt_aggtrades.csv", "aggtrades_csv", 398),
                                           ("btcusdt_trades.json", "freqtrade_trades_json", 717)])
def test_a_trade_format_fixture_runs_a_scenario_end_to_end(tmp_path, file, fmt, rows):
    result = sim.run(sim.load_scenario(_trades_scenario(tmp_path, file, fmt)), out=tmp_path / "r", ideal_twin=False,
                     report=False)
    assert result.passed, [c.describe() for c in result.checks]
    market = result.summary["market"]
    assert (market["format"], market["rows"], market["kind"], market["gaps"]) == (fmt, rows, "trades", 0)


def test_aggregated_and_single_trades_replay_to_the_same_price_path(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, agg, _ = _path(_trades_scenario(tmp_path / "a", "btcusdt_aggtrades.csv", "aggtrades_csv"))
    _, single, _ = _path(_trades_scenario(tmp_path / "b", "btcusdt_trades.json", "freqtrade_trades_json"))
    assert len(agg.mid) == 1101 and np.array_equal(agg.mid, single.mid) and np.ptp(agg.mid) > 0
