"""PricePath: first-passage search, tick/time conversion and candles, against brute force."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.world.market import BidAskBounce, PricePath

BLOCK = 1024  # block size of the path's min/max index
INF = math.inf


def brute_first_exit(p: np.ndarray, start: int, lo: float, hi: float) -> int | None:
    idx = np.flatnonzero((p <= lo) | (p >= hi))
    idx = idx[idx >= start]
    return int(idx[0]) if len(idx) else None


def random_walk(rng: np.random.Generator, n: int, s0: float = 100.0, vol: float = 0.001) -> np.ndarray:
    return s0 * np.exp(np.cumsum(np.concatenate([[0.0], vol * rng.standard_normal(n - 1)])))


def flat_with(n: int, spikes: dict[int, float], level: float = 100.0) -> np.ndarray:
    p = np.full(n, level)
    for i, v in spikes.items():
        p[i] = v
    return p


# ------------------------------------------------------------------------------ first_exit


@pytest.mark.parametrize("n", [1, 2, 7, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17, 20_000])
def test_first_exit_matches_brute_force_on_random_paths_and_bands(n):
    rng = np.random.default_rng(n)
    p = random_walk(rng, n)
    path = PricePath(0, 1000, p)
    for _ in range(150):
        start = int(rng.integers(-3, n + 3))
        lo_q, hi_q = rng.uniform(0, 0.5), rng.uniform(0.5, 1)
        lo = float(np.quantile(p, lo_q, method="lower"))
        hi = float(np.quantile(p, hi_q, method="higher"))
        for band in [(lo, hi), (-INF, hi), (lo, INF), (lo * 0.999, hi * 1.001)]:
            assert path.first_exit(start, *band) == brute_first_exit(p, max(start, 0), *band), (start, band)


def test_first_exit_matches_brute_force_on_a_path_longer_than_one_vectorised_scan_step():
    # 512 blocks of 1024 ticks are scanned per step; cross well past the first step
    rng = np.random.default_rng(7)
    n = 1_200_000
    p = random_walk(rng, n, vol=0.0002)
    path = PricePath(0, 100, p)
    for _ in range(40):
        start = int(rng.integers(0, n))
        lo = float(np.quantile(p, rng.uniform(0, 0.2), method="lower"))
        hi = float(np.quantile(p, rng.uniform(0.8, 1), method="higher"))
        for band in [(lo, hi), (-INF, hi), (lo, INF)]:
            assert path.first_exit(start, *band) == brute_first_exit(p, start, *band)


@pytest.mark.parametrize(
    ("start", "cross"),
    [
        (0, 0),  # at the very first tick
        (1000, 1000),  # exactly at start
        (1000, 1010),  # inside the partial first block
        (1000, BLOCK - 1),  # last tick of the partial first block
        (1000, BLOCK),  # first tick of the next block
        (0, BLOCK),  # first tick of block 1, starting at a block boundary
        (BLOCK, BLOCK),  # start on a boundary, cross at once
        (BLOCK, 2 * BLOCK - 1),  # last tick of a full block
        (5, 2 * BLOCK),  # block boundary after a whole block
        (5, 600 * BLOCK + 3),  # beyond the first vectorised scan step
    ],
)
@pytest.mark.parametrize("upward", [True, False])
def test_first_exit_finds_a_single_crossing_at_block_edges(start, cross, upward):
    n = 700 * BLOCK
    p = flat_with(n, {cross: 101.0 if upward else 99.0})
    path = PricePath(0, 1, p)
    band = (99.5, 100.5)
    assert path.first_exit(start, *band) == cross
    assert brute_first_exit(p, start, *band) == cross
    one_sided = (-INF, 100.5) if upward else (99.5, INF)
    assert path.first_exit(start, *one_sided) == cross
    wrong_side = (99.5, INF) if upward else (-INF, 100.5)
    assert path.first_exit(start, *wrong_side) is None


@pytest.mark.parametrize("n", [BLOCK * 3, BLOCK * 3 + 1, BLOCK * 3 - 1, 5000])
def test_first_exit_finds_a_crossing_at_the_last_tick(n):
    p = flat_with(n, {n - 1: 105.0})
    path = PricePath(0, 1, p)
    assert path.first_exit(0, 95.0, 105.0) == n - 1
    assert path.first_exit(n - 1, 95.0, 105.0) == n - 1
    assert path.first_exit(n - 2, -INF, 104.0) == n - 1


def test_first_exit_counts_a_price_exactly_at_the_band_edge_as_crossed():
    p = flat_with(3000, {1500: 100.5, 2500: 99.5})
    path = PricePath(0, 1, p)
    assert path.first_exit(0, 99.5, 100.5) == 1500
    assert path.first_exit(1501, 99.5, 100.5) == 2500
    assert path.first_exit(0, 99.5, INF) == 2500


def test_first_exit_returns_none_when_the_band_is_never_left():
    rng = np.random.default_rng(3)
    p = random_walk(rng, 5000)
    path = PricePath(0, 1, p)
    assert path.first_exit(0, p.min() * 0.99, p.max() * 1.01) is None
    assert path.first_exit(0, -INF, INF) is None
    assert path.first_exit(0, -INF, p.max() * 1.0001) is None
    assert path.first_exit(0, p.min() * 0.9999, INF) is None


def test_first_exit_ignores_crossings_before_start_and_starts_past_the_end():
    p = flat_with(4000, {10: 200.0, 2000: 200.0})
    path = PricePath(0, 1, p)
    assert path.first_exit(11, -INF, 150.0) == 2000
    assert path.first_exit(2001, -INF, 150.0) is None
    assert path.first_exit(4000, -INF, 150.0) is None
    assert path.first_exit(10**9, 0.0, 1.0) is None


def test_first_exit_treats_a_negative_start_as_zero():
    p = flat_with(100, {0: 200.0})
    assert PricePath(0, 1, p).first_exit(-50, -INF, 150.0) == 0


def test_first_exit_ignores_the_padding_of_the_last_block():
    # the last block is padded with the last price: a crossing only in the padding must not exist
    n = 2 * BLOCK + 10
    p = flat_with(n, {n - 1: 100.0})
    path = PricePath(0, 1, p)
    assert path.first_exit(0, 99.0, 101.0) is None
    p2 = flat_with(n, {n - 1: 120.0})
    assert PricePath(0, 1, p2).first_exit(0, 99.0, 101.0) == n - 1


def test_first_exit_on_the_last_series_searches_that_series_not_the_mid():
    rng = np.random.default_rng(5)
    mid = random_walk(rng, 5000)
    last = mid * (1 + 0.001 * rng.choice([-1.0, 1.0], size=len(mid)))
    path = PricePath(0, 1, mid, last=last)
    for _ in range(100):
        start = int(rng.integers(0, len(mid)))
        lo = float(np.quantile(last, rng.uniform(0, 0.4), method="lower"))
        hi = float(np.quantile(last, rng.uniform(0.6, 1), method="higher"))
        assert path.first_exit(start, lo, hi, "last") == brute_first_exit(last, start, lo, hi)
        assert path.first_exit(start, lo, hi, "mark") == brute_first_exit(mid, start, lo, hi)
    assert path.price_at("last", 17) == last[17]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), half_spread=st.floats(0.0, 0.01), n=st.integers(1, 3_000_000))
def test_a_single_last_price_equals_the_built_series_bit_for_bit(seed, half_spread, n):
    """A ticker's last price is computed from its tick's side alone; a trigger by last searches the
    built series: the two must never disagree, or a stop would fire at a price the ticker never showed."""
    mid = np.linspace(100.0, 200.0, n)
    bounce = BidAskBounce(mid, half_spread, np.random.default_rng(seed))
    series = BidAskBounce(mid, half_spread, np.random.default_rng(seed)).series()
    for i in {0, n // 3, n // 2, n - 1}:
        assert bounce.at(i) == series[i]


def test_a_ticker_last_price_does_not_build_the_last_series():
    mid = random_walk(np.random.default_rng(2), 10_000)
    path = PricePath(0, 1000, mid, last=BidAskBounce(mid, 0.0005, np.random.default_rng(3)))
    single = path.price_at("last", 5_000_000)
    assert path._last is None  # only the sides were drawn (a byte a tick), not the float series
    assert path.first_exit(0, 0.0, 1e9, "last") is None  # a trigger by last builds the series...
    assert path._last is not None and path.price_at("last", 5_000_000) == single  # ...with the same prices


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 4 * BLOCK + 50),
    seed=st.integers(0, 2**32 - 1),
    start=st.integers(-5, 4 * BLOCK + 60),
    lo_q=st.one_of(st.none(), st.floats(0.0, 1.0)),
    hi_q=st.one_of(st.none(), st.floats(0.0, 1.0)),
)
def test_first_exit_agrees_with_brute_force_property(n, seed, start, lo_q, hi_q):
    p = random_walk(np.random.default_rng(seed), n, vol=0.002)
    lo = -INF if lo_q is None else float(np.quantile(p, lo_q, method="lower"))
    hi = INF if hi_q is None else float(np.quantile(p, hi_q, method="higher"))
    assert PricePath(0, 1000, p).first_exit(start, lo, hi) == brute_first_exit(p, max(start, 0), lo, hi)


# ------------------------------------------------------------------------- index and time


@pytest.mark.parametrize(("t0", "tick", "n"), [(0, 1000, 50), (1_700_000_000_000, 250, 37), (-5_000, 7, 1)])
def test_index_at_is_the_last_tick_at_or_before_the_time_clamped_to_the_path(t0, tick, n):
    path = PricePath(t0, tick, np.linspace(100, 110, n))
    times = t0 + np.arange(n) * tick
    for t in range(t0 - 3 * tick, t0 + (n + 3) * tick, max(1, tick // 3)):
        expected = min(max(int(np.searchsorted(times, t, side="right")) - 1, 0), n - 1)
        assert path.index_at(t) == expected, t
        assert path.mid_at(t) == path.mid[expected]


def test_time_of_inverts_index_at_on_tick_times():
    path = PricePath(1_000_000, 250, np.linspace(1, 2, 400))
    for i in range(len(path)):
        assert path.time_of(i) == 1_000_000 + 250 * i
        assert path.index_at(path.time_of(i)) == i
        assert path.index_at(path.time_of(i) + 249) == i
    assert path.end_ms == path.time_of(399)


# ---------------------------------------------------------------------------------- ohlc


def brute_ohlc(p: np.ndarray, i0: int, per: int, count: int) -> list[tuple[float, float, float, float]]:
    out = []
    for k in range(count):
        seg = p[i0 + k * per: i0 + (k + 1) * per]
        if len(seg) < per:
            break
        out.append((seg[0], max(seg), min(seg), seg[-1]))
    return out


@pytest.mark.parametrize(
    ("start_offset", "per", "count"),
    [(0, 1, 5), (0, 60, 10), (3_000, 60, 20), (3_500, 7, 13), (0, 60, 1000), (290_000, 5, 10), (400_000, 5, 3)],
)
def test_ohlc_matches_brute_force_candles(start_offset, per, count):
    rng = np.random.default_rng(per * 31 + count)
    t0, tick = 1_000_000, 1000
    p = random_walk(rng, 300)
    path = PricePath(t0, tick, p)
    bars = path.ohlc(t0 + start_offset, per * tick, count)
    expected = brute_ohlc(p, path.index_at(t0 + start_offset), per, count)
    assert bars.shape == (len(expected), 4)
    np.testing.assert_array_equal(bars, np.array(expected).reshape(-1, 4))


def test_ohlc_only_returns_candles_fully_covered_by_the_path():
    path = PricePath(0, 1000, np.arange(1.0, 101.0))  # 100 ticks
    bars = path.ohlc(0, 30_000, 10)
    assert len(bars) == 3  # ticks 0..89; ticks 90..99 make an incomplete fourth candle
    np.testing.assert_array_equal(bars[-1], [61.0, 90.0, 61.0, 90.0])


@settings(max_examples=60, deadline=None)
@given(calls=st.lists(st.tuples(st.integers(0, 5_000), st.integers(1, 3_000)), min_size=1, max_size=8),
       per=st.sampled_from([1, 3, 60]))
def test_ohlc_rows_served_from_cached_blocks_equal_fresh_candles(calls, per):
    """However a bot walks the path (one candle a cycle, a catch-up of thousands, a step back),
    the rows handed out from the candle cache are exactly the candles computed afresh."""
    rng = np.random.default_rng(per)
    p = random_walk(rng, 6_000)
    path = PricePath(0, 1000, p)
    for start, count in calls:
        rows = path.ohlc_rows(start * 1000, per * 1000, count)
        expected = brute_ohlc(p, path.index_at(start * 1000), per, count)
        assert rows == [tuple(r) for r in expected]


def test_ohlc_rows_one_candle_a_cycle_across_block_boundaries():
    p = random_walk(np.random.default_rng(3), 60 * 3_000 + 30)
    path = PricePath(0, 1000, p)
    got = [row for k in range(3_001) for row in path.ohlc_rows(k * 60_000, 60_000, 1)]
    assert got == [tuple(r) for r in path.ohlc(0, 60_000, 3_001).tolist()]
    assert len(got) == 3_000  # the last candle is incomplete
