"""A scenario's market as a table: what `aethersim market` writes and measures.

The path is built exactly as a run builds it (same seed, same streams, price gaps applied), so
what the table shows is what the venue will serve: time, mid, mark, index, last, the best bid
and ask of the book, and the funding rate in force for the next settlement. Rows come in chunks,
so a year of 1-second ticks is written without holding a year-long table.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from sim.scenario.schema import PriceGap, Scenario, ms
from sim.world.market import PricePath
from sim.world.rng import RunStreams

ROWS_PER_CHUNK = 1 << 20


def scenario_path(sc: Scenario, seed: int) -> tuple[PricePath, dict]:
    """The run's price path for ``seed`` and the facts of how it was made."""
    from sim.world.build import price_path, replay_path

    streams = RunStreams(seed)
    if sc.market.model == "replay":
        return replay_path(sc, streams)
    gaps = [e for e in sc.events if isinstance(e, PriceGap)]
    return price_path(sc, streams, gaps), {"model": sc.market.model}


def funding_at(sc: Scenario, path: PricePath, t_ms: np.ndarray) -> np.ndarray:
    """The rate of the next settlement at each time (NaN where none is known)."""
    from sim.market.scenario import funding_mode

    iv = ms(sc.exchange.funding_interval)
    settle = (t_ms // iv + 1) * iv
    out = np.full(len(t_ms), np.nan)
    for s in np.unique(settle):
        rate = path.funding_rate(int(s)) if path.funding_rate is not None and funding_mode(sc) != "fixed" else None
        out[settle == s] = sc.exchange.funding_rate if rate is None else rate
    return out


def market_chunks(sc: Scenario, path: PricePath) -> Iterator[pd.DataFrame]:
    """The path as tables of at most `ROWS_PER_CHUNK` rows."""
    from sim.world.build import depth_profile

    depth = depth_profile(sc, float(path.mid[0]))
    mark, last = path.series("mark").prices, path.series("last").prices
    for a in range(0, len(path), ROWS_PER_CHUNK):
        b = min(a + ROWS_PER_CHUNK, len(path))
        t = path.t0_ms + np.arange(a, b, dtype=np.int64) * path.tick_ms
        mid = path.mid[a:b]
        bid, ask = depth.touch(mid)  # type: ignore[arg-type]
        if sc.market.book_file:  # a replayed book: its recorded touch
            from sim.world.book_replay import scenario_window, touch_on_grid

            bid, ask = touch_on_grid(scenario_window(sc), int(t[0]), b - a, path.tick_ms)
        index = path.index_slice(a, b) if path.index_slice is not None else np.full(b - a, np.nan)
        yield pd.DataFrame({"time": pd.to_datetime(t, unit="ms", utc=True), "mid": mid, "mark": mark[a:b],
                            "index": index, "last": last[a:b], "bid": bid, "ask": ask,
                            "funding_rate": funding_at(sc, path, t)})
