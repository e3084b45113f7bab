"""Resting limit orders queued behind the recorded size (``market.book_file``): the replay's queue model.

An order that starts resting at price ``P`` joins the back of the recorded queue: the size ahead
of it is the recorded size at ``P`` on its side at that moment (0 at a price nobody was quoting).
Then, in time order (a trade before a book message of the same millisecond, which reports its
result):

- a recorded trade at ``P`` whose aggressor is on the other side (a market sell for a resting buy)
  eats the queue ahead; what is left of it after the queue fills our order;
- a recorded decrease of the size at ``P`` beyond the trades seen there since the last message is
  cancels; the share attributed to orders ahead of us is proportional to the size ahead
  (hftbacktest's probabilistic queue model with a linear function: ahead / (ahead + behind));
  the size ahead never exceeds the recorded size (an increase joins behind us);
- a trade through ``P`` (a market sell printing below a resting buy's price), or the recorded
  opposite touch reaching ``P`` (a seller quoting at or through our bid), fills the rest of our
  order: in the market we would have been taken before that.

Fills are at ``P`` with the maker fee. The recording is fixed, so an order's whole fill schedule
is computed when it rests (`queue_fills`, pure arithmetic over the recorded events at its price);
the venue wakes at the next scheduled fill, as at any other venue event.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from sim.core.types import Side
from sim.data.depth import DepthWindow
from sim.world.recorded_book import RecordedBook
from sim.world.venue_orders import VenueOrder

TRADE, LEVEL, THROUGH = 0, 1, 2  # event kinds; at one time, trades are applied before the book message


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """A recorded event at the order's price: a trade against its side (``qty`` traded), a new
    recorded size at the level (``qty`` the size), or a trade or quote through it."""

    t_ms: int
    kind: int
    qty: float = 0.0


@dataclass(slots=True)
class QueueState:
    """Where an order stands: size ahead of it, the recorded size at its level, trades seen there since
    the level's last recorded change (hftbacktest's ``cum_trade_qty``)."""

    ahead: float
    level: float
    traded: float = 0.0

    def apply(self, ev: QueueEvent, remaining: float) -> float:
        """Advance over one event; returns the quantity of our order it fills (at most ``remaining``)."""
        if ev.kind == THROUGH:
            self.ahead = 0.0
            return remaining
        if ev.kind == TRADE:
            fill = min(max(ev.qty - self.ahead, 0.0), remaining)
            self.ahead = max(self.ahead - ev.qty, 0.0)
            self.traded += ev.qty
            return fill
        before = self.level - self.traded  # the level's size after the trades we saw, before this change
        cancelled = before - ev.qty
        if cancelled > 0 and before > 0:
            self.ahead -= cancelled * self.ahead / before  # cancels shared ahead/behind in proportion
        self.ahead = min(max(self.ahead, 0.0), ev.qty)
        self.level, self.traded = ev.qty, 0.0
        return 0.0


def queue_fills(ahead: float, qty: float, events: list[QueueEvent]) -> list[tuple[int, float]]:
    """The (time, quantity) fills of an order of ``qty`` that joined behind ``ahead``, over ``events``."""
    state, left, out = QueueState(ahead, ahead), qty, []
    for ev in events:
        f = state.apply(ev, left)
        if f > 0:
            out.append((ev.t_ms, f))
            left -= f
            if left <= 1e-12:
                break
    return out


@dataclass(frozen=True)
class TradeTape:
    """The replayed trades in time order: time (ms), price (ticks), quantity, and whether a seller took."""

    time_ms: np.ndarray
    px: np.ndarray
    qty: np.ndarray
    sell: np.ndarray

    @classmethod
    def from_table(cls, table: pd.DataFrame, tick_size: float) -> TradeTape:
        """From a trades replay's table (``time_ms, price, qty, side``)."""
        order = np.argsort(table["time_ms"].to_numpy(), kind="stable")
        t = table.iloc[order]
        return cls(t["time_ms"].to_numpy(np.int64), np.rint(t["price"].to_numpy(float) / tick_size).astype(np.int64),
                   np.nan_to_num(t["qty"].to_numpy(float)), (t["side"].astype(str).str.lower() == "sell").to_numpy())


def level_events(w: DepthWindow, tape: TradeTape, buy: bool, ticks: int, after_ms: int) -> list[QueueEvent]:
    """The recorded events after ``after_ms`` that move a resting order at ``ticks`` (a buy or a sell)."""
    k0 = w.applied(after_ms)
    msg, size = w.level_events(buy, ticks)
    keep = msg >= k0
    evs = [(int(w.time_ms[m]), LEVEL, float(q)) for m, q in zip(msg[keep], size[keep], strict=True)]
    t0 = int(np.searchsorted(tape.time_ms, after_ms, side="right"))
    t, px, q, against = tape.time_ms[t0:], tape.px[t0:], tape.qty[t0:], tape.sell[t0:] == buy
    at = against & (px == ticks)
    evs += [(int(a), TRADE, float(b)) for a, b in zip(t[at], q[at], strict=True)]
    through = np.flatnonzero(against & ((px < ticks) if buy else (px > ticks)))
    if len(through):
        evs.append((int(t[through[0]]), THROUGH, 0.0))
    opposite = w.best_ask[k0:] if buy else w.best_bid[k0:]
    crossed = (opposite <= ticks) if buy else (opposite >= ticks)
    first = 0
    bid0, ask0 = w.touch_at(after_ms)
    if (ask0 <= ticks) if buy else (bid0 >= ticks):  # a cross already there when it rested is what it took
        clear = np.flatnonzero(~crossed)
        first = int(clear[0]) if len(clear) else len(crossed)
    later = np.flatnonzero(crossed[first:])
    if len(later):
        evs.append((int(w.time_ms[k0 + first + later[0]]), THROUGH, 0.0))
    evs.sort(key=lambda e: (e[0], e[1]))
    return [QueueEvent(*e) for e in evs]


@dataclass
class _Resting:
    schedule: list[tuple[int, float]]  # (time, raw fill) from queue_fills
    ahead: float
    qty: Decimal  # what was left of the order when it joined
    delivered: Decimal = field(default=Decimal(0))


class ReplayQueue:
    """The queue model of a book replay, on the venue's queue seam (on_rest, on_leave, band, next_time,
    fill_due): each resting limit's fills scheduled from the recording when it rests."""

    name = "replay"
    series = "mark"  # no price band: recorded trades and quotes, not a price series, fill a replayed queue

    def __init__(self, book: RecordedBook, tape: TradeTape, lot_size: Decimal) -> None:
        self.book = book
        self.tape = tape
        self.lot = lot_size
        self._orders: dict[int, _Resting] = {}

    def on_rest(self, order: VenueOrder, t: int) -> None:
        w = self.book.window
        buy = order.side is Side.BUY
        ticks = int(round(float(order.price) / w.tick_size))  # type: ignore[arg-type]
        ahead = self.book.state(t).qty_at(buy, ticks)
        schedule = queue_fills(ahead, float(order.remaining), level_events(w, self.tape, buy, ticks, t))
        self._orders[id(order)] = _Resting(schedule, ahead, order.remaining)

    def on_leave(self, order: VenueOrder, t: int) -> None:
        self._orders.pop(id(order), None)

    def band(self, order: VenueOrder, t: int) -> tuple[float, float]:
        return -math.inf, math.inf  # recorded trades and quotes, not the mark, fill a replayed queue

    def next_time(self, t: int) -> int | None:
        nxt = None
        for r in self._orders.values():
            for when, _ in r.schedule:
                if when > t:
                    nxt = when if nxt is None else min(nxt, when)
                    break
        return nxt

    def fill_due(self, order: VenueOrder, t: int) -> Decimal:
        r = self._orders.get(id(order))
        if r is None:
            return Decimal(0)
        raw = sum(q for when, q in r.schedule if when <= t)
        target = r.qty if raw >= float(r.qty) - 1e-9 else Decimal(repr(raw + 1e-12)) // self.lot * self.lot
        due = min(target - r.delivered, order.remaining)
        if due <= 0:
            return Decimal(0)
        r.delivered += due
        return due
