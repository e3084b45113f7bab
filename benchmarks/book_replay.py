"""What replaying the recorded book costs: loading and checking it, walking it, scheduling queue fills.

    python benchmarks/book_replay.py

Loads the shipped 2024-08-08 window (snapshot + 6,547 diffs, checked, touch after every message),
then asks the book for 1 BTC market walks at 1,000 times in order (the venue's pattern: time only
moves forward), 200 walks at random times (one in the past starts from the saved book before it), and
the queue schedule of 200 resting orders; then runs the bundled scenario. Also prints the average
cost of 0.01 to 100 BTC market orders across the window (bps from the recorded mid).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import sim
from sim.data.depth import load_depth
from sim.data.formats import read_trades
from sim.world.recorded_book import RecordedBook
from sim.world.replay_queue import TradeTape, level_events, queue_fills

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data/binance-btcusdt-perp"


def main() -> None:
    t = time.perf_counter()
    w = load_depth(DATA / "btcusdt_perp_depth_diffs.csv.gz", DATA / "btcusdt_perp_depth_snapshots.csv.gz",
                   0.1)["btcusdt_20240808.gz"]
    print(f"load and check: {time.perf_counter() - t:.2f} s ({len(w.time_ms):,} messages, {len(w.px):,} levels)")
    rng = np.random.default_rng(0)
    times = np.sort(rng.integers(w.first_ms, w.last_ms, 1000))
    book = RecordedBook(w)
    t = time.perf_counter()
    for x in times:
        book.take(int(x), True, 1.0, 0.0)
    print(f"1 BTC walks, time forward: {(time.perf_counter() - t) / len(times) * 1e6:.0f} us each")
    t = time.perf_counter()
    for x in rng.permutation(times)[:200]:
        book.take(int(x), True, 1.0, 0.0)
    print(f"1 BTC walks, random times: {(time.perf_counter() - t) / 200 * 1e3:.1f} ms each (from a saved book)")
    trades, _ = read_trades(DATA / "btcusdt_perp_trades.csv.gz", "csv",
                            {"time": "trade_time_ms", "side": "aggressor_side"}, "ms")
    tape = TradeTape.from_table(trades, 0.1)
    t, filled = time.perf_counter(), 0
    book = RecordedBook(w)
    for x in times[::5]:
        bid, _ = w.touch_at(int(x))
        ticks = bid - int(rng.integers(0, 10))
        ahead = book.state(int(x)).qty_at(True, ticks)
        filled += bool(queue_fills(ahead, 0.01, level_events(w, tape, True, ticks, int(x))))
    print(f"queue schedules: {(time.perf_counter() - t) / len(times[::5]) * 1e3:.1f} ms each "
          f"({filled} of {len(times[::5])} 0.01 BTC bids 0-9 ticks under the touch fill in the window)")
    book = RecordedBook(w)
    for q in (0.01, 0.1, 1.0, 10.0, 100.0):
        cost = [(book.take(int(x), True, q, 0.0).avg_price / book.recorded_mid(int(x)) - 1) * 1e4 for x in times]
        print(f"market buy {q:>6g} BTC: {np.mean(cost):6.2f} bps from the recorded mid on average")
    t = time.perf_counter()
    r = sim.run(sim.load_scenario(ROOT / "scenarios/replay/replay-real-book.toml"), out="/tmp/book_replay_bench")
    print(f"scenario replay-real-book: {time.perf_counter() - t:.2f} s wall (with its ideal twin and report), "
          f"passed {r.passed}")


if __name__ == "__main__":
    main()
