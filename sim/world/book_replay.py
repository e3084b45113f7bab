"""A scenario's recorded book (``market.book_file`` and ``market.book_snapshot_file``), as a run uses it.

The composition root asks here for the three things a book replay changes: the mid (the recorded
touch's, on the run's grid), the venue's liquidity (`RecordedBook`: market orders walk the
recorded levels) and the resting-limit queue model (`ReplayQueue`: behind the recorded size,
advanced by the replayed trades and by cancels). Everything is read from the files the scenario
names, checked (`sim.data.depth`) and cached, so validating a scenario and running it read them once.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.data.depth import DepthWindow, depth_window
from sim.data.replay import load_replay
from sim.scenario.loader import replay_spec
from sim.scenario.schema import Scenario, ThinLiquidity, ms
from sim.world.liquidity import ThinWindow
from sim.world.recorded_book import RecordedBook
from sim.world.replay_queue import ReplayQueue, TradeTape


def scenario_window(sc: Scenario) -> DepthWindow:
    """The recording that covers the run (an error naming what the files cover if none does)."""
    m = sc.market
    start = sc.scenario.start_ms
    return depth_window(str(m.book_file), str(m.book_snapshot_file), float(m.tick_size), start,
                        start + sc.duration_ms)


def touch_on_grid(w: DepthWindow, start_ms: int, n: int, step_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """Recorded best bid and ask (prices) at each grid time: the book after the last message at or before it."""
    grid = start_ms + np.arange(n, dtype=np.int64) * step_ms
    k = np.searchsorted(w.time_ms, grid, side="right") - 1
    bid = np.where(k >= 0, w.best_bid[np.maximum(k, 0)], w.snap_bid[0][0]) * w.tick_size
    ask = np.where(k >= 0, w.best_ask[np.maximum(k, 0)], w.snap_ask[0][0]) * w.tick_size
    return np.round(bid, 10), np.round(ask, 10)


def recorded_mid(sc: Scenario, start_ms: int, n: int, step_ms: int) -> tuple[np.ndarray, dict]:
    """The replayed mid (the recorded touch's) and the facts a run reports about the book."""
    w = scenario_window(sc)
    bid, ask = touch_on_grid(w, start_ms, n, step_ms)
    end = start_ms + (n - 1) * step_ms
    facts = {"book": "recorded", "book_file": Path(str(sc.market.book_file)).name, "book_recording": w.name,
             "book_messages": w.applied(end) - w.applied(start_ms), "book_snapshot_update_id": w.last_update_id}
    return 0.5 * (bid + ask), facts


@dataclass(frozen=True)
class RecordedParts:
    """What a book replay puts in the venue: its book and its resting-limit queue model."""

    book: RecordedBook
    queue: ReplayQueue


def recorded_parts(sc: Scenario, events: list) -> RecordedParts:
    """The recorded book (thin-liquidity events applied to it) and the queue model over the run's replayed
    trades (those the scenario keeps, exclusions applied)."""
    start, end = sc.scenario.start_ms, sc.scenario.start_ms + sc.duration_ms
    thin = [ThinWindow(start + ms(e.at), start + ms(e.at) + ms(e.duration), e.depth_factor, e.spread_factor)
            for e in events if isinstance(e, ThinLiquidity)]
    book = RecordedBook(scenario_window(sc), thin)
    trades = load_replay(replay_spec(sc), (start, end))
    return RecordedParts(book, ReplayQueue(book, TradeTape.from_table(trades.table, book.window.tick_size),
                                           sc.market.lot_size))
