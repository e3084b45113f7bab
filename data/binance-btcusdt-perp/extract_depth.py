"""Flatten hftbacktest's raw Binance USD-M recordings into the depth-diff and book-ticker CSVs here.

Standard library only, so anyone can re-run it on the raw files:

    python data/binance-btcusdt-perp/extract_depth.py RAW_DIR [OUT_DIR] [--window btcusdt_20240808.gz ...]

``RAW_DIR`` holds ``btcusdt_20240808.gz`` etc. from nkaz001/hftbacktest (``examples/usdm/``): one
JSON message a line, prefixed by the recorder's clock in ns. Every ``btcusdt@depth@0ms`` message
(``depthUpdate``) of a window becomes rows of ``btcusdt_perp_depth_diffs.csv.gz``, one per price
level it sets (a message that sets none still gets one row with empty side/price/qty, so the
update-id chain stays whole). The ``btcusdt@bookTicker`` messages whose update id closes a depth
message (its ``u``: the points where the two streams describe the same book) become rows of
``btcusdt_perp_bookticker_at_diffs.csv.gz``, the exact check of a rebuilt book. Nothing else is
dropped or repaired, units are unchanged; prices and quantities are copied as the exchange wrote
them (decimal strings). The REST snapshot of each
window is already in ``btcusdt_perp_depth_snapshots.csv.gz`` (same ``file`` names).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
from pathlib import Path

WINDOWS = ("btcusdt_20240808.gz",)
DIFF_COLUMNS = ("file", "local_ts_ns", "event_time_ms", "transaction_time_ms", "first_update_id", "last_update_id",
                "prev_update_id", "side", "price", "qty")
TICKER_COLUMNS = ("file", "local_ts_ns", "event_time_ms", "transaction_time_ms", "update_id", "bid_price", "bid_qty",
                  "ask_price", "ask_qty")


def messages(path: Path):
    """(local ns, message) for every line of one raw recording."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        for line in fh:
            ts, _, body = line.partition(" ")
            yield int(ts), json.loads(body)


def _gz(path: Path) -> io.TextIOWrapper:
    """A gzip text file with no timestamp in its header: the same input gives the same bytes."""
    return io.TextIOWrapper(gzip.GzipFile(path, "wb", compresslevel=9, mtime=0), newline="")


def extract(raw: Path, out: Path, windows: tuple[str, ...]) -> tuple[int, int]:
    """Write the two CSVs; returns (depth messages, book-ticker rows written)."""
    n_diff = n_tick = 0
    with _gz(out / "btcusdt_perp_depth_diffs.csv.gz") as fd, _gz(out / "btcusdt_perp_bookticker_at_diffs.csv.gz") as ft:
        diffs, ticks = csv.writer(fd), csv.writer(ft)
        diffs.writerow(DIFF_COLUMNS)
        ticks.writerow(TICKER_COLUMNS)
        for name in windows:
            closing, tickers = set(), []
            for local, msg in messages(raw / name):
                stream, d = msg.get("stream", ""), msg.get("data")
                if stream.endswith("@depth@0ms"):
                    n_diff += 1
                    closing.add(d["u"])
                    head = (name, local, d["E"], d["T"], d["U"], d["u"], d["pu"])
                    levels = [("bid", p, q) for p, q in d["b"]] + [("ask", p, q) for p, q in d["a"]]
                    for side, p, q in levels or [("", "", "")]:
                        diffs.writerow((*head, side, p, q))
                elif stream.endswith("@bookTicker"):
                    tickers.append((name, local, d["E"], d["T"], d["u"], d["b"], d["B"], d["a"], d["A"]))
            kept = [row for row in tickers if row[4] in closing]
            ticks.writerows(kept)
            n_tick += len(kept)
    return n_diff, n_tick


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", type=Path, help="directory with hftbacktest's usdm recordings")
    ap.add_argument("out", type=Path, nargs="?", default=Path(__file__).resolve().parent)
    ap.add_argument("--window", action="append", help=f"recording file(s) to extract (default: {', '.join(WINDOWS)})")
    a = ap.parse_args()
    n_diff, n_tick = extract(a.raw, a.out, tuple(a.window or WINDOWS))
    print(f"{n_diff} depth messages, {n_tick} book-ticker rows at their update ids -> {a.out}")  # noqa: T201 (a script)


if __name__ == "__main__":
    main()
