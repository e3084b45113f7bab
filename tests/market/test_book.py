"""The default book is BTCUSDT's: one-tick spread, and the cost of walking it as the real snapshots'."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.market.book_data import depth_log_ratios, load_snapshots, walk_cost_bps
from sim.scenario.loader import parse_scenario
from sim.world.book_dynamics import DynamicBook
from sim.world.build import book_of, depth_profile, price_path
from sim.world.liquidity import LiquiditySchedule, max_qty_within
from sim.world.rng import RunStreams

ROOT = Path(__file__).resolve().parents[2]
SIZES = (0.01, 0.1, 1.0, 10.0, 100.0)


@pytest.fixture(scope="module")
def snapshots():
    return load_snapshots(ROOT / "data/binance-btcusdt-perp/btcusdt_perp_depth_snapshots.csv.gz")


def _default_book(mid: float):
    sc = parse_scenario({"scenario": {"name": "b", "description": "book", "duration": "1h"}, "market": {"s0": mid}})
    return depth_profile(sc, mid)


def test_the_default_spread_is_one_tick(snapshots):
    for s in snapshots:
        bid, ask = _default_book(s.mid).touch(s.mid)
        assert ask - bid == pytest.approx(0.1)
        assert float(s.asks[0, 0] - s.bids[0, 0]) == pytest.approx(0.1)  # as in every real snapshot


def test_the_default_books_average_cost_is_within_x1_5_of_walking_the_real_snapshots(snapshots):
    """Both sides of all three snapshots walked for each size (the mean of six), against the default book
    at each snapshot's mid."""
    for q in SIZES:
        real = np.mean([walk_cost_bps(levels, q, s.mid) for s in snapshots for levels in (s.bids, s.asks)])
        sim = np.mean([(_default_book(s.mid).walk(True, q, s.mid).avg_price / s.mid - 1) * 1e4 for s in snapshots])
        assert 1 / 1.5 <= sim / real <= 1.5, f"{q} BTC: default {sim:.4f} bps vs real {real:.4f} bps"


def test_the_default_book_holds_the_real_depth_near_the_touch(snapshots):
    for d in (5, 10, 20):
        real = np.mean([levels[np.abs(levels[:, 0] / s.mid - 1) * 1e4 <= d, 1].sum()
                        for s in snapshots for levels in (s.bids, s.asks)])
        sim = max_qty_within(_default_book(30_000.0), True, 30_000.0, 30_000.0 * (1 + d * 1e-4))
        assert 1 / 1.5 <= sim / real <= 1.5, f"within {d} bps: default {sim:.0f} BTC vs real {real:.0f} BTC"


def test_the_default_dynamic_book_costs_on_average_what_the_real_snapshots_do(snapshots):
    """The default book with its dynamics (depth from the realized volatility of a default market, a
    depth factor per side), walked at 200 random instants a snapshot's mid, both sides: the mean cost of
    each size within x1.5 of the real mean, as the static ladder's."""
    costs: dict[float, list[float]] = {q: [] for q in SIZES}
    for seed, s in enumerate(snapshots):
        sc = parse_scenario({"scenario": {"name": "b", "description": "book", "duration": "3d", "seed": seed},
                             "market": {"s0": s.mid}, "liquidity": {"impact": "none"}})
        streams = RunStreams(seed)
        path = price_path(sc, streams)
        book = book_of(sc, LiquiditySchedule(depth_profile(sc, s.mid)), path, streams)
        assert isinstance(book, DynamicBook)
        for t in np.random.default_rng(seed).integers(path.t0_ms, path.end_ms, 200):
            mid = path.mid_at(int(t))
            for q in SIZES:
                costs[q] += [abs(book.take(int(t), buy, q, mid).avg_price / mid - 1) * 1e4 for buy in (True, False)]
    for q in SIZES:
        real = np.mean([walk_cost_bps(levels, q, s.mid) for s in snapshots for levels in (s.bids, s.asks)])
        assert 1 / 1.5 <= np.mean(costs[q]) / real <= 1.5, f"{q} BTC: {np.mean(costs[q]):.4f} vs real {real:.4f} bps"


def test_the_default_side_depth_spread_is_the_one_fitted_to_the_snapshots(snapshots):
    def reach(mid: float, d: float) -> float:
        return max_qty_within(_default_book(mid), True, mid, mid * (1 + d * 1e-4))

    ratios = depth_log_ratios(snapshots, reach)
    assert abs(ratios.mean()) < 0.1  # the ladder is the snapshots' centre
    default = parse_scenario({"scenario": {"name": "b", "description": "b", "duration": "1h"}}).liquidity
    assert default.side_depth_sd == pytest.approx(ratios.std(ddof=1), abs=0.05)
