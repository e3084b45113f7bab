"""A recorded L2 book: a Binance REST depth snapshot and the ``depth@0ms`` diffs after it, checked.

Binance's recipe for a local USD-M order book ("How to manage a local order book correctly"):
drop every diff whose last update id ``u`` is below the snapshot's ``lastUpdateId``; the first diff
kept must straddle it (``U <= lastUpdateId <= u``); every later diff's ``pu`` must equal the
previous diff's ``u``, or the book is wrong from there on. A window that breaks the chain is
refused with the file and the update ids named, never replayed with a hole in it.

Files (as `data/binance-btcusdt-perp/` ships them, made by its ``extract_depth.py``): the diffs, one
row per price level a message sets (``file, event_time_ms, transaction_time_ms, first_update_id,
last_update_id, prev_update_id, side, price, qty``; a message that sets nothing has one row with an
empty side), and the snapshots (``file, snapshot_time_ms, last_update_id, side, price, qty``). The
``file`` column names the recording both come from: one window each. Times are the exchange's
transaction times (``T``), the clock trades are stamped with. Prices become integer ticks of the
instrument's tick size (a price off the grid is refused), so a level is an exact key.

`BookState` applies the messages forward; `DepthWindow.touch` holds the best bid and ask after every
message (one pass at load), which is what the replayed mid is made of.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from sortedcontainers import SortedDict

from sim.data.errors import MarketDataError

DIFF_COLUMNS = ("file", "transaction_time_ms", "first_update_id", "last_update_id", "prev_update_id", "side",
                "price", "qty")
SNAPSHOT_COLUMNS = ("file", "snapshot_time_ms", "last_update_id", "side", "price", "qty")
CHECKPOINT = 128  # messages between saved books: a question about the past replays at most this many


@dataclass(frozen=True, eq=False)
class DepthWindow:
    """One recording's snapshot and the diffs kept after it (the chain checked), prices in ticks.

    Messages ``k`` (in recorded order) have transaction time ``time_ms[k]`` and set the levels
    ``offset[k]:offset[k+1]`` of ``is_bid``/``px``/``qty`` (quantity 0 removes a level).
    ``best_bid``/``best_ask`` (ticks; -1 when a side is empty) are the touch after message ``k``.
    """

    name: str
    tick_size: float
    snapshot_ms: int
    last_update_id: int
    snap_bid: tuple[np.ndarray, np.ndarray]  # (ticks, qty), best first
    snap_ask: tuple[np.ndarray, np.ndarray]
    time_ms: np.ndarray
    first_id: np.ndarray
    last_id: np.ndarray
    offset: np.ndarray
    is_bid: np.ndarray
    px: np.ndarray
    qty: np.ndarray
    best_bid: np.ndarray
    best_ask: np.ndarray
    dropped: int  # diffs before the snapshot (u < lastUpdateId), as Binance's recipe says
    checkpoints: list = field(default_factory=list)  # the book after every CHECKPOINT-th message, as arrays

    @property
    def first_ms(self) -> int:
        """From when the book is known: the snapshot's time."""
        return self.snapshot_ms

    @property
    def last_ms(self) -> int:
        return int(self.time_ms[-1]) if len(self.time_ms) else self.snapshot_ms

    def applied(self, t_ms: int) -> int:
        """How many messages are in the book at ``t_ms`` (those with a transaction time at or before it)."""
        return int(np.searchsorted(self.time_ms, t_ms, side="right"))

    def touch_at(self, t_ms: int) -> tuple[int, int]:
        """Best bid and ask (ticks) at ``t_ms``."""
        k = self.applied(t_ms)
        if k == 0:
            return int(self.snap_bid[0][0]), int(self.snap_ask[0][0])
        return int(self.best_bid[k - 1]), int(self.best_ask[k - 1])

    def price(self, ticks: int) -> float:
        return round(ticks * self.tick_size, 10)

    def level_events(self, bid: bool, ticks: int) -> tuple[np.ndarray, np.ndarray]:
        """(message index, new quantity) of every message that sets the level ``ticks`` on that side."""
        hit = np.flatnonzero((self.px == ticks) & (self.is_bid == bid))
        msg = np.searchsorted(self.offset, hit, side="right") - 1
        return msg, self.qty[hit]


class BookState:
    """The book of a `DepthWindow` after its first ``applied`` messages: two sorted price -> qty maps."""

    def __init__(self, w: DepthWindow, k: int = 0) -> None:
        """The book after ``k`` messages: from the nearest saved book at or before it, moved forward."""
        self.w = w
        c = min(k // CHECKPOINT, len(w.checkpoints))
        (bp, bq), (ap, aq) = w.checkpoints[c - 1] if c else (w.snap_bid, w.snap_ask)
        self.bids: SortedDict = SortedDict(zip(bp.tolist(), bq.tolist(), strict=True))
        self.asks: SortedDict = SortedDict(zip(ap.tolist(), aq.tolist(), strict=True))
        self.applied = c * CHECKPOINT
        self.advance(k)

    def advance(self, k: int) -> None:
        """Apply messages up to (not including) ``k``; a book is only ever moved forward."""
        w, bids, asks = self.w, self.bids, self.asks
        if k <= self.applied:
            return
        a, b = int(w.offset[self.applied]), int(w.offset[k])
        for is_bid, p, q in zip(w.is_bid[a:b].tolist(), w.px[a:b].tolist(), w.qty[a:b].tolist(), strict=True):
            side = bids if is_bid else asks
            if q > 0:
                side[p] = q
            elif p in side:
                del side[p]
        self.applied = k

    def qty_at(self, bid: bool, ticks: int) -> float:
        return (self.bids if bid else self.asks).get(ticks, 0.0)

    def best(self) -> tuple[int, int]:
        """Best bid and ask in ticks (-1 for an empty side)."""
        return (self.bids.peekitem(-1)[0] if self.bids else -1, self.asks.peekitem(0)[0] if self.asks else -1)

    def side_levels(self, bid: bool):
        """(ticks, qty) from the touch outwards."""
        side = self.bids if bid else self.asks
        keys = reversed(side.keys()) if bid else iter(side.keys())
        return ((p, side[p]) for p in keys)


def _ticks(prices: np.ndarray, tick: float, what: str) -> np.ndarray:
    t = np.rint(prices / tick)
    off = np.abs(t * tick - prices) > 1e-6 * tick
    if off.any():
        raise MarketDataError(f"{what}: price {prices[int(np.argmax(off))]} is not on market.tick_size = {tick:g}")
    return t.astype(np.int64)


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise MarketDataError(f"file not found: {path}")
    try:
        df = pd.read_csv(path, dtype={"file": str, "side": str})
    except (OSError, ValueError, EOFError, UnicodeDecodeError) as exc:
        raise MarketDataError(f"cannot read {path.name}: {exc}") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MarketDataError(f"{path.name}: a depth file needs the columns {', '.join(columns)}; missing "
                              f"{', '.join(missing)}")
    return df


def _chain(path: Path, name: str, last_update_id: int, first: np.ndarray, last: np.ndarray,
           prev: np.ndarray) -> int:
    """Index of the first diff to apply; refuses a window whose update-id chain is broken."""
    reach = last >= last_update_id
    k = int(np.argmax(reach)) if reach.any() else len(last)
    if k == len(last):
        raise MarketDataError(f"{path.name} ({name}): no diff reaches the snapshot's lastUpdateId {last_update_id}; "
                              "the diffs end before the snapshot")
    if not first[k] <= last_update_id <= last[k]:
        raise MarketDataError(f"{path.name} ({name}): the first diff after the snapshot (update ids {first[k]} "
                              f"to {last[k]}) does not cover its lastUpdateId {last_update_id}: updates between "
                              "are missing")
    broken = np.flatnonzero(prev[k + 1:] != last[k:-1])
    if len(broken):
        j = k + 1 + int(broken[0])
        raise MarketDataError(f"{path.name} ({name}): gap in the depth diffs at update id {first[j]}: its pu "
                              f"{prev[j]} is not the previous diff's u {last[j - 1]} ({len(broken)} break(s) in all); "
                              "the book after it is unknown: replay a window before the gap")
    return k


def _window(path: Path, name: str, snap: pd.DataFrame, diffs: pd.DataFrame, tick: float) -> DepthWindow:
    lid = int(snap["last_update_id"].iloc[0])
    sides = {}
    for side, best_first in (("bid", False), ("ask", True)):
        s = snap[snap["side"] == side]
        px = _ticks(s["price"].to_numpy(float), tick, f"{path.name} ({name}) snapshot")
        order = np.argsort(px if best_first else -px, kind="stable")
        sides[side] = (px[order], s["qty"].to_numpy(float)[order])
    if not len(sides["bid"][0]) or not len(sides["ask"][0]):
        raise MarketDataError(f"{path.name} ({name}): the snapshot has an empty side")
    msg_first = np.r_[True, diffs["last_update_id"].to_numpy()[1:] != diffs["last_update_id"].to_numpy()[:-1]] \
        if len(diffs) else np.zeros(0, bool)
    starts = np.flatnonzero(msg_first)
    col = {c: diffs[c].to_numpy()[starts].astype(np.int64) for c in
           ("transaction_time_ms", "first_update_id", "last_update_id", "prev_update_id")}
    if not len(starts):
        raise MarketDataError(f"{path.name} ({name}): no depth diffs")
    k = _chain(path, name, lid, col["first_update_id"], col["last_update_id"], col["prev_update_id"])
    t = col["transaction_time_ms"][k:]
    if np.any(np.diff(t) < 0):
        i = int(np.argmax(np.diff(t) < 0)) + 1
        raise MarketDataError(f"{path.name} ({name}): transaction times go backwards at update id "
                              f"{col['first_update_id'][k + i]}")
    rows = diffs.iloc[int(starts[k]):]
    has = rows["side"].notna().to_numpy()
    bad = has & ~rows["side"].isin(["bid", "ask"]).to_numpy()
    if bad.any():
        raise MarketDataError(f"{path.name} ({name}): side {rows['side'].iloc[int(np.argmax(bad))]!r} is neither "
                              "bid nor ask")
    offset = np.searchsorted(np.flatnonzero(has), starts[k:] - starts[k]).astype(np.int64)
    offset = np.r_[offset, has.sum()]
    lv = rows[has]
    qty = lv["qty"].to_numpy(float)
    if not np.all(np.isfinite(qty)) or np.any(qty < 0):
        raise MarketDataError(f"{path.name} ({name}): a level quantity is negative or missing")
    w = DepthWindow(name, tick, int(snap["snapshot_time_ms"].iloc[0]), lid, sides["bid"], sides["ask"], t,
                    col["first_update_id"][k:], col["last_update_id"][k:], offset,
                    (lv["side"] == "bid").to_numpy(),
                    _ticks(lv["price"].to_numpy(float), tick, f"{path.name} ({name})"), qty,
                    np.empty(len(t), np.int64), np.empty(len(t), np.int64), k)
    book = BookState(w)
    for i in range(len(t)):  # the touch after each message: one pass, the replayed mid is made of it
        book.advance(i + 1)
        w.best_bid[i], w.best_ask[i] = book.best()
        if (i + 1) % CHECKPOINT == 0:
            w.checkpoints.append(tuple((np.fromiter(side.keys(), np.int64, len(side)),
                                        np.fromiter(side.values(), float, len(side)))
                                       for side in (book.bids, book.asks)))
    return w


@lru_cache(maxsize=4)
def _load(diffs_file: str, snapshots_file: str, tick: float, mtimes: tuple[float, float]) -> dict[str, DepthWindow]:
    dp, sp = Path(diffs_file), Path(snapshots_file)
    diffs, snaps = _read(dp, DIFF_COLUMNS), _read(sp, SNAPSHOT_COLUMNS)
    out = {}
    for name, d in diffs.groupby("file", sort=False):
        snap = snaps[snaps["file"] == name]
        if snap.empty:
            raise MarketDataError(f"{dp.name}: recording {name!r} has no snapshot in {sp.name} (its file column)")
        out[str(name)] = _window(dp, str(name), snap, d.reset_index(drop=True), tick)
    return out


def load_depth(diffs_file: str | Path, snapshots_file: str | Path, tick_size: float) -> dict[str, DepthWindow]:
    """Every recording of a diffs file with its snapshot, checked (cached by file and modification time)."""
    dp, sp = Path(diffs_file), Path(snapshots_file)
    for p in (dp, sp):
        if not p.is_file():
            raise MarketDataError(f"file not found: {p}")
    return _load(str(dp), str(sp), float(tick_size), (dp.stat().st_mtime, sp.stat().st_mtime))


def depth_window(diffs_file: str | Path, snapshots_file: str | Path, tick_size: float, start_ms: int,
                 end_ms: int) -> DepthWindow:
    """The recording whose book is known over the whole of [start, end], or an error naming what the files cover."""
    windows = load_depth(diffs_file, snapshots_file, tick_size)
    for w in windows.values():
        if w.first_ms <= start_ms and end_ms <= w.last_ms:
            return w
    have = "; ".join(f"{n}: {_iso(w.first_ms)} to {_iso(w.last_ms)}" for n, w in windows.items())
    raise MarketDataError(f"no recorded book covers {_iso(start_ms)} to {_iso(end_ms)} ({have}); check "
                          "scenario.start and scenario.duration")


def _iso(t_ms: int) -> str:
    return pd.to_datetime(int(t_ms), unit="ms", utc=True).isoformat()
