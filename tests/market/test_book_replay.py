"""The recorded Binance book, replayed: reconstruction checked against the recording's own ticker and
trades, market orders priced by walking it by hand, resting orders by the queue arithmetic, gaps refused.

The by-hand book here is rebuilt from the CSVs with plain dicts, independently of `sim.data.depth`.
"""
from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.data.depth import load_depth
from sim.data.errors import MarketDataError
from sim.scenario import ScenarioError
from sim.scenario.loader import load_scenario
from sim.world.recorded_book import RecordedBook

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data/binance-btcusdt-perp"
DIFFS, SNAPS = DATA / "btcusdt_perp_depth_diffs.csv.gz", DATA / "btcusdt_perp_depth_snapshots.csv.gz"
WINDOW = "btcusdt_20240808.gz"
SCENARIO = ROOT / "scenarios/replay/replay-real-book.toml"


@pytest.fixture(scope="module")
def window():
    return load_depth(DIFFS, SNAPS, 0.1)[WINDOW]


@pytest.fixture(scope="module")
def raw():
    """The diffs and the snapshot of the window as plain tables (nothing of sim.data.depth)."""
    d = pd.read_csv(DIFFS, dtype={"side": str})
    s = pd.read_csv(SNAPS)
    return d[d["file"] == WINDOW].reset_index(drop=True), s[s["file"] == WINDOW]


def book_by_hand(raw, t_ms: int) -> tuple[dict, dict]:
    """Binance's recipe with dicts: the snapshot, then every diff with u >= lastUpdateId and T <= t."""
    d, s = raw
    lid = int(s["last_update_id"].iloc[0])
    book = {"bid": dict(zip(s[s.side == "bid"].price, s[s.side == "bid"].qty, strict=True)),
            "ask": dict(zip(s[s.side == "ask"].price, s[s.side == "ask"].qty, strict=True))}
    rows = d[(d["last_update_id"] >= lid) & (d["transaction_time_ms"] <= t_ms) & d["side"].notna()]
    for side, p, q in zip(rows["side"], rows["price"], rows["qty"], strict=True):
        if q == 0:
            book[side].pop(p, None)
        else:
            book[side][p] = q
    return book["bid"], book["ask"]


def walk_by_hand(levels: dict, buy: bool, qty: float) -> float:
    """Average price of ``qty`` taken from ``levels`` best first."""
    left, cost = qty, 0.0
    for p in sorted(levels, reverse=not buy):
        take = min(left, levels[p])
        cost += take * p
        left -= take
        if left <= 1e-12:
            break
    return cost / (qty - left)


def test_the_reconstructed_touch_equals_the_recorded_book_ticker_at_every_update_id_they_share(window):
    """The bookTicker stream and the diffs carry the same update ids: where a ticker's id is a diff's last,
    the rebuilt best bid and ask, prices and sizes, must be the ticker's exactly."""
    from sim.data.depth import BookState

    bt = pd.read_csv(DATA / "btcusdt_perp_bookticker_at_diffs.csv.gz")
    at = {int(u): k for k, u in enumerate(window.last_id)}
    shared = bt[bt["update_id"].isin(at)]
    assert len(shared) == len(bt) == 629
    book = BookState(window)
    for r in shared.itertuples():
        book.advance(at[r.update_id] + 1)
        b, a = book.best()
        assert (window.price(b), window.price(a)) == (r.bid_price, r.ask_price)
        assert (book.bids[b], book.asks[a]) == pytest.approx((r.bid_qty, r.ask_qty), abs=1e-9)


def test_the_recorded_book_is_never_crossed_nor_empty(window):
    assert len(window.time_ms) == 6547 and window.dropped == 4  # as documented in the data's README
    assert np.all(window.best_bid > 0) and np.all(window.best_ask > 0)
    assert np.all(window.best_bid < window.best_ask)


def test_trades_print_at_or_beyond_the_recorded_touch_within_the_streams_timing(window):
    """A market buy prints at or above the best ask, a sell at or below the best bid. The depth stream
    comes in messages about 50 ms apart, so against the book before each trade 95.4 % of the trades
    do (README: the data's quirks), 97.9 % against the touch before or after the message covering them."""
    tr = pd.read_csv(DATA / "btcusdt_perp_trades.csv.gz")
    tr = tr[(tr["source_file"] == WINDOW) & (tr["trade_time_ms"] >= window.first_ms)
            & (tr["trade_time_ms"] < window.last_ms)]
    t, buy = tr["trade_time_ms"].to_numpy(), (tr["aggressor_side"] == "buy").to_numpy()
    p = np.rint(tr["price"].to_numpy() / 0.1).astype(np.int64)
    k = np.searchsorted(window.time_ms, t, side="left")
    bid = np.where(k > 0, window.best_bid[np.maximum(k - 1, 0)], window.snap_bid[0][0])
    ask = np.where(k > 0, window.best_ask[np.maximum(k - 1, 0)], window.snap_ask[0][0])
    before = np.where(buy, p >= ask, p <= bid)
    either = before | np.where(buy, p >= window.best_ask[k], p <= window.best_bid[k])
    assert len(tr) > 21_000
    assert before.mean() >= 0.95
    assert either.mean() >= 0.975


@pytest.mark.parametrize("t_ms", [1723161320698, 1723161440510, 1723161599000])
@pytest.mark.parametrize("buy", [True, False])
def test_a_1_btc_market_order_costs_what_walking_the_recorded_book_by_hand_costs(window, raw, t_ms, buy):
    book = RecordedBook(window)
    walk = book.take(t_ms, buy, 1.0, mid=0.0)
    bids, asks = book_by_hand(raw, t_ms)
    assert walk.filled == pytest.approx(1.0)
    assert walk.avg_price == pytest.approx(walk_by_hand(asks if buy else bids, buy, 1.0), rel=1e-12)
    assert book.touch(t_ms, 0.0) == (max(bids), min(asks))
    assert book.reach(t_ms, buy, 0.0, max(bids) if not buy else min(asks)) == \
        pytest.approx(asks[min(asks)] if buy else bids[max(bids)])


def test_a_limit_takes_only_the_recorded_levels_within_its_price(window, raw):
    t = 1723161500000
    book = RecordedBook(window)
    bids, asks = book_by_hand(raw, t)
    limit = sorted(asks)[2]  # three levels in reach
    walk = book.take(t, True, 100.0, 0.0, limit_price=limit)
    within = {p: q for p, q in asks.items() if p <= limit}
    assert walk.filled == pytest.approx(sum(within.values()))
    assert walk.avg_price == pytest.approx(walk_by_hand(within, True, walk.filled))
    assert walk.worst_price == limit


def _gapped(tmp_path: Path, drop_update_id: int) -> Path:
    d = pd.read_csv(DIFFS, dtype={"side": str, "price": str, "qty": str})
    out = tmp_path / "gapped.csv.gz"
    d[d["last_update_id"] != drop_update_id].to_csv(out, index=False)
    return out


def test_a_gap_in_the_diff_sequence_is_refused_naming_the_file_and_the_update_id(window, tmp_path):
    lost = int(window.last_id[100])
    with pytest.raises(MarketDataError) as exc:
        load_depth(_gapped(tmp_path, lost), SNAPS, 0.1)
    msg = str(exc.value)
    assert "gapped.csv.gz" in msg and WINDOW in msg
    assert f"update id {window.first_id[101]}" in msg and f"u {window.last_id[99]}" in msg


def test_a_scenario_on_a_gapped_book_is_a_scenario_error_and_exit_2(window, tmp_path):
    gapped = _gapped(tmp_path, int(window.last_id[3000]))
    text = SCENARIO.read_text().replace("../../data/binance-btcusdt-perp/btcusdt_perp_depth_diffs.csv.gz",
                                        str(gapped)).replace("../../data", str(DATA.parent))
    sc = tmp_path / "gapped.toml"
    sc.write_text(text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(sc)
    assert "market.book_file" in str(exc.value) and "gap in the depth diffs" in str(exc.value)
    from sim.cli import main

    assert main(["validate", str(sc)]) == 2


def test_the_first_diff_must_cover_the_snapshot(tmp_path, window):
    d = pd.read_csv(DIFFS, dtype={"side": str, "price": str, "qty": str})
    cover = int(window.last_id[0])  # the diff that straddles lastUpdateId
    out = tmp_path / "late.csv.gz"
    d[d["last_update_id"] != cover].to_csv(out, index=False)
    with pytest.raises(MarketDataError, match="does not cover its lastUpdateId 5123107852948"):
        load_depth(out, SNAPS, 0.1)


def test_a_book_without_trades_or_snapshot_is_refused_at_load(tmp_path):
    base = SCENARIO.read_text().replace("../../data", str(DATA.parent))
    for edit, words in (
        (lambda s: s.replace('book_snapshot_file = "', '# "'), "market.book_snapshot_file"),
        (lambda s: s.replace('start = 2024-08-08T23:54:20Z', 'start = 2024-08-08T23:54:16.400Z'),
         "no recorded book covers 2024-08-08T23:54:16.400000\\+00:00"),  # trades from 16.322, the book from 16.493
        (lambda s: s.replace('model = "replay"', 'model = "msm"'), 'market.model = "replay" and market.kind'),
    ):
        f = tmp_path / "bad.toml"
        f.write_text(edit(base))
        with pytest.raises(ScenarioError, match=words):
            load_scenario(f)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return sim.run(load_scenario(SCENARIO), out=tmp_path_factory.mktemp("book") / "run")


def test_the_bundled_book_replay_passes_and_its_market_orders_cost_the_recorded_walk(run, raw):
    assert run.passed, [c for c in run.checks if not c.passed]
    assert run.summary["market"]["book"] == "recorded"
    fills = pd.read_parquet(run.run_dir / "fills.parquet")
    bot = fills[fills["source"] == "bot"]
    assert len(bot) == 4
    for f in bot.itertuples():
        bids, asks = book_by_hand(raw, int(f.ts_ms))
        buy = f.side == "buy"
        assert float(f.price) == pytest.approx(walk_by_hand(asks if buy else bids, buy, float(f.qty)), abs=1e-4)


def queue_by_hand(raw, window, trades: pd.DataFrame, buy: bool, price: float, qty: float,
                  t0: int) -> list[tuple[int, float]]:
    """The README's queue rule restated on the raw tables: ahead = recorded size at the price; trades
    against the order at its price eat the queue then fill us; a recorded decrease beyond those trades
    is cancels, shared in proportion to the size ahead; a trade through the price, or the other side's
    recorded touch coming to it, fills the rest."""
    d, s = raw
    bids, asks = book_by_hand(raw, t0)
    side = "bid" if buy else "ask"
    ahead = level = (bids if buy else asks).get(price, 0.0)
    traded, left, out = 0.0, qty, []
    lvl = d[(d["transaction_time_ms"] > t0) & (d["side"] == side) & (d["price"] == price)]
    tr = trades[(trades["trade_time_ms"] > t0) & (trades["aggressor_side"] == ("sell" if buy else "buy"))]
    through = tr[(tr["price"] < price) if buy else (tr["price"] > price)]["trade_time_ms"].min()
    k0, ticks = window.applied(t0), round(price / 0.1)
    opposite = window.best_ask[k0:] if buy else window.best_bid[k0:]
    crossed = np.flatnonzero((opposite <= ticks) if buy else (opposite >= ticks))
    assert (min(asks) > price) if buy else (max(bids) < price)  # not marketable when it rested
    if len(crossed):
        through = min(through, window.time_ms[k0 + crossed[0]]) if not np.isnan(through) else \
            window.time_ms[k0 + crossed[0]]
    events = [(t, 0, q) for t, q in zip(tr[tr["price"] == price]["trade_time_ms"], tr[tr["price"] == price]["qty"],
                                        strict=True)]
    events += [(t, 1, q) for t, q in zip(lvl["transaction_time_ms"], lvl["qty"], strict=True)]
    for t, kind, q in sorted(events):
        if not np.isnan(through) and t >= through:
            break
        if kind == 0:
            fill = min(max(q - ahead, 0.0), left)
            ahead, traded = max(ahead - q, 0.0), traded + q
        else:
            before = level - traded
            if before - q > 0 and before > 0:
                ahead -= (before - q) * ahead / before
            ahead, level, traded, fill = min(max(ahead, 0.0), q), q, 0.0, 0.0
        if fill > 0:
            out.append((int(t), fill))
            left -= fill
            if left <= 1e-12:
                return out
    if not np.isnan(through):
        out.append((int(through), left))
    return out


def test_a_resting_order_fills_as_the_queue_arithmetic_says(run, raw, window):
    """The external resting buy of the bundled scenario: its fills are the by-hand queue's, in time and size."""
    orders = pd.read_parquet(run.run_dir / "events.parquet")
    fills = pd.read_parquet(run.run_dir / "fills.parquet")
    trades = pd.read_csv(DATA / "btcusdt_perp_trades.csv.gz")
    trades = trades[trades["source_file"] == WINDOW]
    for cid in ("ext-1", "ext-2"):
        placed = orders[(orders["client_id"] == cid) & (orders["kind"] == "order_accepted")].iloc[0]
        mine = fills[fills["client_id"] == cid]
        price = float(mine["price"].iloc[0])
        qty = float(placed["qty"])
        expected = queue_by_hand(raw, window, trades, placed["side"] == "buy", price, qty, int(placed["ts_ms"]))
        assert expected, f"{cid} should fill in the recording"
        want, done, cum = [], 0.0, 0.0
        for t, q in expected:  # the venue fills whole lots: what the cumulative fill floors to, when it grows
            cum += q
            floor = float(Decimal(repr(cum + 1e-12)).quantize(Decimal("0.001"), "ROUND_DOWN"))
            lots = qty if cum >= qty - 1e-9 else floor
            if lots > done + 1e-12:
                want.append((t, round(lots - done, 3)))
                done = lots
        got = [(int(t), round(float(q), 3)) for t, q in zip(mine["ts_ms"], mine["qty"], strict=True)]
        assert got == want


def test_the_replay_is_deterministic(run, tmp_path):
    again = sim.run(load_scenario(SCENARIO), out=tmp_path / "again")
    keep = ("orders", "execution", "pnl", "final", "drift", "market")
    assert {k: again.summary[k] for k in keep} == {k: run.summary[k] for k in keep}


def test_the_diffs_file_is_what_the_extraction_script_writes_from_one_recording():
    with gzip.open(DIFFS, "rt") as fh:
        header = fh.readline().strip().split(",")
    assert header[:7] == ["file", "local_ts_ns", "event_time_ms", "transaction_time_ms", "first_update_id",
                          "last_update_id", "prev_update_id"]
    assert DIFFS.stat().st_size < 3_000_000


def test_queue_arithmetic_trades_eat_the_queue_then_fill_us_and_cancels_are_shared_in_proportion():
    from sim.world.replay_queue import LEVEL, THROUGH, TRADE, QueueEvent, queue_fills

    # 4 ahead of us at a level of 4. A 1.0 trade: 3 ahead. The level then reads 2.0: 3 - 1 traded = 3
    # before, 1 cancelled, of which 3/3 ahead (everyone is ahead of us): 2 ahead. A 2.5 trade eats the 2
    # and fills 0.5 of our 1.0; the next 0.3 fills 0.3; a trade through fills the last 0.2.
    evs = [QueueEvent(1, TRADE, 1.0), QueueEvent(2, LEVEL, 2.0), QueueEvent(3, TRADE, 2.5), QueueEvent(4, TRADE, 0.3),
           QueueEvent(5, THROUGH)]
    assert queue_fills(4.0, 1.0, evs) == [(3, 0.5), (4, pytest.approx(0.3)), (5, pytest.approx(0.2))]
    # 6 ahead of a level of 10 (4 behind us... as if others joined behind): a drop to 5 with no trades is 5
    # cancelled, 6/10 of them ahead: 3 ahead; then the level grows to 9 (joins behind): still 3 ahead
    evs = [QueueEvent(1, LEVEL, 10.0), QueueEvent(2, LEVEL, 5.0), QueueEvent(3, LEVEL, 9.0), QueueEvent(4, TRADE, 3.5)]
    assert queue_fills(6.0, 1.0, evs) == [(4, pytest.approx(0.5))]
    # the whole level cancelled: we are at the front, the next trade at the price fills us first
    assert queue_fills(2.0, 0.1, [QueueEvent(1, LEVEL, 0.0), QueueEvent(2, TRADE, 0.05)]) == [(2, 0.05)]


def test_a_thin_window_thins_and_widens_the_recorded_book(window):
    from sim.world.liquidity import ThinWindow

    t = 1723161400000
    plain = RecordedBook(window)
    thin = RecordedBook(window, [ThinWindow(t - 1000, t + 1000, depth_factor=0.5, spread_factor=3.0)])
    (b0, a0), (b1, a1) = plain.touch(t, 0.0), thin.touch(t, 0.0)
    assert a1 - b1 == pytest.approx(3 * (a0 - b0))
    m, far = 0.5 * (a0 + b0), a0 + 50.0  # the level at ``far`` sits 3 times as far from the mid in the window
    assert thin.reach(t, True, 0.0, m + 3 * (far - m)) == pytest.approx(0.5 * plain.reach(t, True, 0.0, far))
    assert thin.take(t, True, 1.0, 0.0).avg_price > plain.take(t, True, 1.0, 0.0).avg_price
    assert thin.touch(t + 2000, 0.0) == plain.touch(t + 2000, 0.0)  # after the window: the recording again


def test_serve_refuses_a_book_replay_instead_of_showing_another_book():
    from sim.cli import main

    assert main(["serve", str(SCENARIO)]) == 2


def test_a_book_asked_about_the_past_is_the_same_book_as_one_replayed_from_the_snapshot(window):
    from sim.data.depth import BookState

    book = RecordedBook(window)
    for k in (6000, 3, 129, 128, 2560, 6547, 700):  # back and forth, across saved books
        t = int(window.time_ms[k - 1])
        st = book.state(t)
        assert st.applied == window.applied(t) >= k
        ref = BookState(window)
        ref.advance(st.applied)
        assert dict(st.bids) == dict(ref.bids) and dict(st.asks) == dict(ref.asks)


def test_a_book_replay_needs_the_trades_aggressor_side(tmp_path):
    trades = pd.read_csv(DATA / "btcusdt_perp_trades.csv.gz")
    trades.drop(columns=["aggressor_side", "is_buyer_maker"]).to_csv(tmp_path / "noside.csv.gz", index=False)
    text = SCENARIO.read_text().replace("../../data/binance-btcusdt-perp/btcusdt_perp_trades.csv.gz",
                                        str(tmp_path / "noside.csv.gz"))
    f = tmp_path / "noside.toml"
    f.write_text(text.replace("../../data", str(DATA.parent)).replace(', side = "aggressor_side"', ""))
    with pytest.raises(ScenarioError, match="aggressor's side"):
        load_scenario(f)
