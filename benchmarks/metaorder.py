"""The book's figures: the metaorder experiment, and the book's cost against the real snapshots.

    python benchmarks/metaorder.py

First table: metaorders of 10 to 100 BTC bought in slices on a flat price with the default
``[liquidity]`` (static depth, so every bps is the impact's): their average cost, the square-root
law's prediction, the one-sweep and one-slice costs, and the share of the impact left 1, 2 and 10
minutes after the last slice. Second table: the mean cost of 0.01 to 100 BTC market orders on the
real snapshots (both sides of three), on the static default ladder, and on the default dynamic book
at 200 random instants of a default market per snapshot (impact off: each order on a fresh book).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sim.market.book_data import load_snapshots, walk_cost_bps
from sim.market.metaorder import run_metaorder
from sim.scenario.loader import parse_scenario
from sim.world.build import book_of, depth_profile, price_path
from sim.world.liquidity import LiquiditySchedule
from sim.world.rng import RunStreams

ROOT = Path(__file__).resolve().parents[1]
SIZES = (0.01, 0.1, 1.0, 10.0, 100.0)
MIN = 60_000


def metaorder_rows() -> list[str]:
    sc = parse_scenario({"scenario": {"name": "m", "description": "metaorder", "duration": "1h"},
                         "liquidity": {"depth_model": "static"}})
    rows = []
    for total in (10, 20, 50, 100):
        for slices, spacing in ((10, 100), (100, 100), (10, 10 * MIN)):
            m = run_metaorder(sc, total, slices, spacing, (MIN, 2 * MIN, 10 * MIN))
            gap = f"{spacing} ms" if spacing < MIN else f"{spacing // MIN} min"
            left = " / ".join(f"{m.left_after[d]:.2f}" for d in (MIN, 2 * MIN, 10 * MIN))
            rows.append(f"| {total} BTC | {slices} × {total / slices:g} BTC, {gap} | {m.cost_bps:.3f} | "
                        f"{m.sqrt_law_bps:.3f} | {m.sweep_bps:.3f} | {m.slice_bps:.3f} | {left} |")
    return rows


def cost_rows(samples: int = 200) -> list[str]:
    snaps = load_snapshots(ROOT / "data/binance-btcusdt-perp/btcusdt_perp_depth_snapshots.csv.gz")
    static: dict[float, list[float]] = {q: [] for q in SIZES}
    dynamic: dict[float, list[float]] = {q: [] for q in SIZES}
    for seed, s in enumerate(snaps):
        sc = parse_scenario({"scenario": {"name": "b", "description": "book", "duration": "3d", "seed": seed},
                             "market": {"s0": s.mid}, "liquidity": {"impact": "none"}})
        streams = RunStreams(seed)
        path = price_path(sc, streams)
        ladder = depth_profile(sc, s.mid)
        book = book_of(sc, LiquiditySchedule(ladder), path, streams)
        for q in SIZES:
            static[q].append((ladder.walk(True, q, s.mid).avg_price / s.mid - 1) * 1e4)
        for t in np.random.default_rng(seed).integers(path.t0_ms, path.end_ms, samples):
            mid = path.mid_at(int(t))
            for q in SIZES:
                dynamic[q] += [abs(book.take(int(t), buy, q, mid).avg_price / mid - 1) * 1e4 for buy in (True, False)]
    rows = ["| size (BTC) | real, mean of 6 walks (bps) | static default (bps) | ratio | dynamic default (bps) "
            "| ratio |", "|---|---|---|---|---|---|"]
    for q in SIZES:
        real = float(np.mean([walk_cost_bps(lv, q, s.mid) for s in snaps for lv in (s.bids, s.asks)]))
        st, dy = float(np.mean(static[q])), float(np.mean(dynamic[q]))
        rows.append(f"| {q:g} | {real:.3f} | {st:.3f} | {st / real:.2f} | {dy:.3f} | {dy / real:.2f} |")
    return rows


def main() -> int:
    print("metaorders (flat price, default [liquidity] with static depth)")  # noqa: T201
    print("\n".join(metaorder_rows()))  # noqa: T201
    print("\nbook cost against the real snapshots")  # noqa: T201
    print("\n".join(cost_rows()))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
