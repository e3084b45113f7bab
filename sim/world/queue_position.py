"""Queue position: a resting limit fills from the market orders that reach it, behind the queue ahead.

An order joins the back of its level: the queue ahead is the displayed size of that level of the
ladder (`DepthProfile`) when it rests (none if it improves on the touch, a new level of its own).
Ahead of it, the queue shrinks by cancels (each unit ahead cancels at ``cancel_rate`` a second: a
level refilled behind it at the rate it is cancelled loses size in front of the order in
proportion to the share in front, the linear case of hftbacktest's probabilistic queue models)
and by the aggressive volume at its price; once nothing is ahead, that volume fills the order.
The level traded through (the best price moved past the order's price) fills the rest at once:
an order cannot be jumped.

Synthetic markets (`PoissonFlow`): the mid path says when the market is at the order's level (the
touch: the best bid, for a buy, at the order's price) and when it moves through; market orders
arrive while it is at the touch. A path that crosses the level between two samples had it as the
touch for a fitted sub-step span (`PoissonFlow.through_span`), whose flow is drawn too. Adverse
selection follows from the path, not from a rule: every trade-through fill is followed by the
price beyond the order, and volume fills come from touches that last, most of which end through.

Trades replays (`RecordedFlow`): the replayed trades at the order's price on the side that hits it
are the aggressive volume; a trade beyond its price is the trade-through.

Every touch of a synthetic market is logged (`Touch`), the sample `sim.market.passive_fill`'s
statistic is computed from on simulated output.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from sim.core.instrument import Instrument
from sim.core.types import Side
from sim.world.liquidity import Book, DepthProfile
from sim.world.market import PricePath
from sim.world.trade_flow import PoissonFlow, RecordedFlow
from sim.world.venue_orders import VenueOrder


@dataclass(frozen=True, slots=True)
class Touch:
    """One arrival of the market at a resting order's level, when it ended (through or away).

    displayed: the touch level's displayed size when the market arrived (what a back-of-queue
    order would wait behind, cancels aside); ahead: what was ahead of the order then; volume: the
    aggressive volume at the level during the touch; arrived: the market came to the level (False:
    the order joined the touch itself).
    """

    t_ms: int
    buy: bool
    displayed: float
    ahead: float
    volume: float
    through: bool
    arrived: bool
    end_ms: int


@dataclass(slots=True)
class _Place:
    order: VenueOrder
    buy: bool
    price: float
    ahead: float  # base units ahead of the order at ``t_ahead``
    t_ahead: int
    base: Decimal  # filled before it joined (again)
    got: float = 0.0  # aggressive volume that reached the order since
    touching: bool = False
    inside: bool = False  # it improved on the touch when it rested: a level of its own
    through: bool = False
    # the current touch (synthetic): arrivals, the volume that reached the order after each, its log fields
    times: np.ndarray | None = None
    reached: np.ndarray | None = None
    sizes: np.ndarray | None = None
    next_reach: int | None = None  # time of the next arrival that reaches the order
    cursor: int = 0  # replay: the next trade to look at
    next_trade: int | None = None  # replay: index of the next trade that reaches the order's price


def level_size(profile: DepthProfile, mid: float, price: float, buy: bool) -> float:
    """Displayed size of the ladder level at ``price`` (level k holds the k-th step of level0 * k**exponent)."""
    dist_bps = ((mid - price) if buy else (price - mid)) / mid * 1e4 - 0.5 * profile.spread_bps
    s = profile.level_step_bps
    k = max(0, int(round(dist_bps / s))) if s > 0 else 0
    e = profile.depth_exponent
    return profile.level0_qty * ((k + 1) ** e - k**e)


class PositionQueue:
    """Queue positions of the resting limits of one venue (``"position"``): see the module docstring."""

    name = "position"
    series = "mid"  # the book sits around the mid; bands watch it

    def __init__(self, path: PricePath, liquidity: Book, instrument: Instrument,
                 flow: PoissonFlow | RecordedFlow, cancel_rate: float) -> None:
        self.path = path
        self.liquidity = liquidity
        self.instrument = instrument
        self.flow = flow
        self.kappa = cancel_rate / 1000.0  # per ms
        self.tick = float(instrument.tick_size)
        self.places: dict[str, _Place] = {}
        self.touches: list[Touch] = []
        self.fill_log: list[tuple[int, bool, bool, float]] = []  # (time, buy, by trade-through, price) of its fills
        self.recorded = isinstance(flow, RecordedFlow)

    # -- the protocol -------------------------------------------------------------------------
    def on_rest(self, order: VenueOrder, t: int) -> None:
        price, buy = float(order.price), order.side is Side.BUY  # type: ignore[arg-type]
        profile = self.liquidity.at(t)
        mid = self.path.mid_at(t)
        bid, ask = self.liquidity.touch(t, mid)
        best = bid if buy else ask
        improves = price > best + self.tick / 2 if buy else price < best - self.tick / 2
        ahead = 0.0 if improves else level_size(profile, mid, price, buy)
        pl = _Place(order, buy, price, ahead, t, order.filled_qty, inside=improves)
        self.places[order.venue_id] = pl
        if self.recorded:
            pl.cursor = self.flow.index_after(t)  # type: ignore[union-attr]
            pl.next_trade = self.flow.next_reaching(pl.cursor, buy, price)  # type: ignore[union-attr]
        elif improves or self._at_touch(pl, mid, profile):
            self._start_touch(pl, t, mid, profile, arrived=False)

    def on_leave(self, order: VenueOrder, t: int) -> None:
        self.places.pop(order.venue_id, None)

    def band(self, order: VenueOrder, t: int) -> tuple[float, float]:
        pl = self.places.get(order.venue_id)
        if pl is None or self.recorded:
            return -math.inf, math.inf
        touch, through = self._thresholds(pl, self.liquidity.at(t))
        if pl.buy:
            return (through, touch * (1 + 1e-12)) if pl.touching else (touch, math.inf)
        return (touch * (1 - 1e-12), through) if pl.touching else (-math.inf, touch)

    def next_time(self, t: int) -> int | None:
        best = None
        for pl in self.places.values():
            if self.recorded:
                nt = None if pl.next_trade is None else int(self.flow.times[pl.next_trade])  # type: ignore[union-attr]
            else:
                nt = pl.next_reach
            if nt is not None and nt > t and (best is None or nt < best):
                best = nt
        return best

    def fill_due(self, order: VenueOrder, t: int) -> Decimal:
        pl = self.places.get(order.venue_id)
        if pl is None:
            return Decimal(0)
        if self.recorded:
            self._replayed(pl, t)
        else:
            self._synthetic(pl, t)
        if pl.through:
            due = order.remaining
        else:
            entitled = min(float(pl.base) + pl.got, float(order.qty))
            due = min(self.instrument.qty_down(max(entitled - float(order.filled_qty), 0.0)), order.remaining)
        if due > 0:
            self.fill_log.append((t, pl.buy, pl.through, pl.price))
        return due

    # -- synthetic markets ----------------------------------------------------------------------
    def _thresholds(self, pl: _Place, profile: DepthProfile) -> tuple[float, float]:
        """Mid prices at which the order is at the touch, and at which its level is traded through."""
        hf, half_tick = 0.5 * profile.spread_bps * 1e-4, self.tick / 2
        if pl.buy:  # the best bid is mid * (1 - hf)
            touch = (pl.price + half_tick) / (1 - hf)
            through = (pl.price + half_tick) / (1 + hf) if pl.inside else (pl.price - half_tick) / (1 - hf)
            return touch, through
        touch = (pl.price - half_tick) / (1 + hf)
        through = (pl.price - half_tick) / (1 - hf) if pl.inside else (pl.price + half_tick) / (1 + hf)
        return touch, through

    def _at_touch(self, pl: _Place, mid: float, profile: DepthProfile) -> bool:
        touch, _ = self._thresholds(pl, profile)
        return mid <= touch if pl.buy else mid >= touch

    def _is_through(self, pl: _Place, mid: float, profile: DepthProfile) -> bool:
        _, through = self._thresholds(pl, profile)
        return mid <= through if pl.buy else mid >= through

    def _decay(self, pl: _Place, t: int) -> None:
        if t > pl.t_ahead:
            pl.ahead *= math.exp(-self.kappa * (t - pl.t_ahead))
            pl.t_ahead = t

    def _start_touch(self, pl: _Place, t: int, mid: float, profile: DepthProfile, arrived: bool) -> None:
        """The market is at the order's level from ``t``: draw the market orders until the path leaves it."""
        self._decay(pl, t)
        pl.touching = True
        touch, through = self._thresholds(pl, profile)
        lo, hi = (through, touch * (1 + 1e-12)) if pl.buy else (touch * (1 - 1e-12), through)
        i = self.path.first_exit(self.path.index_at(t) + 1, lo, hi, "mid")
        end = self.path.end_ms + self.path.tick_ms if i is None else self.path.time_of(i)
        last = self.path.mid_at(end)
        ended_through = i is not None and (last <= through if pl.buy else last >= through)
        self._draw(pl, t, end, ended_through)
        # the path knows how the touch ends: logged now, whole, even if the order fills or leaves before
        volume = float(pl.sizes.sum())  # type: ignore[union-attr]
        self.touches.append(Touch(t, pl.buy, profile.level0_qty, pl.ahead, volume, ended_through, arrived, end))

    def _draw(self, pl: _Place, t0: int, t1: int, through: bool) -> None:
        """Market orders in [t0, t1) of a touch that ends ``through`` (or away): how much of each reaches
        the order (after the queue ahead and its cancels)."""
        times, sizes = self.flow.trades(t0, t1, through)  # type: ignore[union-attr]
        reached = np.empty(len(times))
        ahead, last, got = pl.ahead, pl.t_ahead, pl.got
        for j in range(len(times)):
            tj = int(times[j])
            ahead *= math.exp(-self.kappa * (tj - last)) if tj > last else 1.0
            last = max(last, tj)
            take = min(ahead, float(sizes[j]))
            ahead -= take
            got += float(sizes[j]) - take
            reached[j] = got
        pl.times, pl.sizes, pl.reached = times, sizes, reached
        first = int(np.searchsorted(reached, pl.got, side="right")) if len(reached) else 0
        pl.next_reach = int(times[first]) if first < len(times) else None

    def _consume(self, pl: _Place, t: int) -> None:
        """Apply the drawn market orders up to ``t``."""
        if pl.times is None or not len(pl.times):
            return
        k = int(np.searchsorted(pl.times, t, side="right"))
        if k == 0:
            return
        pl.got = float(pl.reached[k - 1])  # type: ignore[index]
        ahead, last = pl.ahead, pl.t_ahead
        for j in range(k):  # the queue ahead, replayed (it is only read when the touch ends)
            tj = int(pl.times[j])
            ahead *= math.exp(-self.kappa * (tj - last)) if tj > last else 1.0
            last = max(last, tj)
            ahead -= min(ahead, float(pl.sizes[j]))  # type: ignore[index]
        pl.ahead, pl.t_ahead = ahead, last
        pl.times, pl.sizes, pl.reached = pl.times[k:], pl.sizes[k:], pl.reached[k:]  # type: ignore[index]
        nxt = int(np.searchsorted(pl.reached, pl.got, side="right")) if len(pl.reached) else 0
        pl.next_reach = int(pl.times[nxt]) if nxt < len(pl.times) else None

    def _end_touch(self, pl: _Place, through: bool) -> None:
        pl.touching, pl.times, pl.sizes, pl.reached, pl.next_reach = False, None, None, None, None
        pl.inside = False  # once the market has moved on, the order's level is an ordinary one
        pl.through = through

    def _synthetic(self, pl: _Place, t: int) -> None:
        if pl.through:
            return
        profile = self.liquidity.at(t)
        mid = self.path.mid_at(t)
        if not pl.touching:
            if not self._at_touch(pl, mid, profile):
                self._decay(pl, t)
                return
            if self._is_through(pl, mid, profile):  # crossed within one step: the level was the touch briefly
                start = max(t - self.flow.through_span(self.path.tick_ms), pl.t_ahead)  # type: ignore[union-attr]
                self._decay(pl, start)
                _, sizes = self.flow.trades(start, t, True)  # type: ignore[union-attr]
                self.touches.append(Touch(start, pl.buy, profile.level0_qty, pl.ahead, float(sizes.sum()), True,
                                          True, t))
                self._end_touch(pl, True)
                return
            self._start_touch(pl, t, mid, profile, arrived=True)
            return
        self._consume(pl, t)
        if self._is_through(pl, mid, profile):
            self._end_touch(pl, True)
        elif not self._at_touch(pl, mid, profile):
            self._end_touch(pl, False)

    # -- trades replays ---------------------------------------------------------------------------
    def _replayed(self, pl: _Place, t: int) -> None:
        """Apply the replayed trades that reach the order's price up to ``t``."""
        flow: RecordedFlow = self.flow  # type: ignore[assignment]
        eps = 1e-9 * pl.price
        while not pl.through and pl.next_trade is not None and flow.times[pl.next_trade] <= t:
            j = pl.next_trade
            px, size, tj = float(flow.prices[j]), float(flow.sizes[j]), int(flow.times[j])
            if (pl.buy and px < pl.price - eps) or (not pl.buy and px > pl.price + eps):
                pl.through = True  # a trade beyond the order's price: its level was consumed
                break
            self._decay(pl, tj)
            take = min(pl.ahead, size)
            pl.ahead -= take
            pl.got += size - take
            pl.cursor = j + 1
            pl.next_trade = flow.next_reaching(pl.cursor, pl.buy, pl.price)
        if not pl.through:
            self._decay(pl, t)
