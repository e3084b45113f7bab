"""`aethersim market` writes the path a run would see and prints its stylised facts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_market_writes_the_synthetic_path_with_mark_index_book_and_funding(tmp_path, capsys):
    sc = tmp_path / "m.toml"
    sc.write_text('[scenario]\nname = "m"\ndescription = "two days"\nduration = "2d"\nseed = 4\n')
    assert main(["market", str(sc), "--out", str(tmp_path / "m.parquet")]) == 0
    out = capsys.readouterr().out
    assert "market model msm" in out and "excess kurtosis 1 m" in out and "acf |r| lag 60 m" in out
    df = pd.read_parquet(tmp_path / "m.parquet")
    assert list(df.columns) == ["time", "mid", "mark", "index", "last", "bid", "ask", "funding_rate"]
    assert len(df) == 2 * 86_400 + 1
    assert (df["bid"] < df["mid"]).all() and (df["ask"] > df["mid"]).all()
    assert np.allclose(np.abs(df["last"] - df["mid"]), 0.05)  # one tick wide, at the bid or the ask
    assert (df["mark"] != df["mid"]).mean() > 0.5 and (abs(df["mark"] / df["mid"] - 1) < 5e-4).all()
    assert df["index"].notna().all() and df["funding_rate"].between(-0.003, 0.003).all()
    # the same seed twice: the same path (a run with that seed sees it)
    assert main(["market", str(sc), "--out", str(tmp_path / "n.parquet"), "--seed", "4"]) == 0
    assert pd.read_parquet(tmp_path / "n.parquet").equals(df)


def test_market_on_a_replay_uses_the_recorded_mark(tmp_path, capsys):
    out = tmp_path / "rr.parquet"
    assert main(["market", str(ROOT / "scenarios/basics/replay-real.toml"), "--out", str(out)]) == 0
    assert "market model replay" in capsys.readouterr().out
    df = pd.read_parquet(out)
    mp = pd.read_csv(ROOT / "data/binance-btcusdt-perp/btcusdt_perp_markprice.csv")
    assert set(np.round(df["mark"].iloc[-100:], 6)) <= set(np.round(mp["mark_price"], 6))
    settle = df["time"] < pd.Timestamp("2023-04-05", tz="UTC")
    assert np.allclose(df.loc[settle, "funding_rate"].dropna().iloc[-1], 0.0000276)


def test_market_refuses_a_folder_for_out(tmp_path, capsys):
    sc = tmp_path / "m.toml"
    sc.write_text('[scenario]\nname = "m"\ndescription = "an hour"\nduration = "1h"\n')
    assert main(["market", str(sc), "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_market_queue_prints_back_of_queue_fill_shares_beside_the_real_ones(tmp_path, capsys):
    sc = tmp_path / "q.toml"
    sc.write_text('[scenario]\nname = "q"\ndescription = "half an hour"\nduration = "30m"\nseed = 2\n')
    assert main(["market", str(sc), "--out", str(tmp_path / "q.parquet"), "--queue"]) == 0
    out = capsys.readouterr().out
    assert "real (pooled)" in out and "25.6%" in out and "mean fill, 0.25" in out and "level traded through" in out
    touch = tmp_path / "t.toml"
    touch.write_text(sc.read_text() + '[exchange.queue]\nmodel = "touch"\n')
    assert main(["market", str(touch), "--out", str(tmp_path / "t.parquet"), "--queue"]) == 2
    assert "exchange.queue.model" in capsys.readouterr().err
