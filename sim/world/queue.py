"""How a resting limit order fills: the queue model the matching engine asks.

The venue owns orders and bookkeeping (fees, positions, statuses); a `QueueModel` owns *when* and
*how much* of a resting limit fills as a maker. The venue tells the model when an order starts
resting (placed, or requeued by an amend: it goes to the back) and when it leaves; it watches the
mark-price band the model names for each order (a crossing is a venue event), wakes at the time
the model asks for (`next_time`: aggressive volume reaching an order, say), and at every event asks
each resting limit's model how much it fills now (`fill_due`).

Models:
- `TouchQueue` ("touch", the behaviour before queue positions): fills when the mark trades to the
  limit, in chunks: the k-th level the mark trades through fills ``fill_fraction * level0_qty *
  (2k + 1)`` (the volume of that level, shared with the queue).
- `sim.world.queue_position.PositionQueue` ("position"): a place in the queue behind the displayed
  size, advanced by aggressive volume at the order's price and by cancels ahead.

A replay of the recorded book plugs in its own model through the same protocol.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Protocol

from sim.core.instrument import Instrument
from sim.core.types import Side
from sim.world.liquidity import Book
from sim.world.market import PricePath
from sim.world.venue_orders import VenueOrder

QUEUE_MODELS = ("position", "touch")


class QueueModel(Protocol):
    """What the matching engine asks about resting limit orders (LIMIT only; triggers are the venue's).

    Times are venue milliseconds; the venue calls in time order and never with a time before the
    last one it passed. A model may name the price series its bands watch in a ``series``
    attribute (``"mark"``, the default, ``"mid"`` or ``"last"``).
    """

    def on_rest(self, order: VenueOrder, t: int) -> None:
        """``order`` starts resting at ``t``, or was amended and goes to the back of the queue."""
        ...

    def on_leave(self, order: VenueOrder, t: int) -> None:
        """``order`` no longer rests (filled, cancelled, expired); forget it."""
        ...

    def band(self, order: VenueOrder, t: int) -> tuple[float, float]:
        """The mark-price band ``(lo, hi)`` whose first exit (mark <= lo or mark >= hi) is an event
        for ``order`` (``-inf`` / ``inf``: none on that side)."""
        ...

    def next_time(self, t: int) -> int | None:
        """The earliest time after ``t`` at which the model needs the venue awake (None: no such time)."""
        ...

    def fill_due(self, order: VenueOrder, t: int) -> Decimal:
        """Base quantity ``order`` fills as a maker at ``t`` (0: none now), at most its remainder,
        in lots. Called at every venue event for every resting limit, in the order they rest."""
        ...


def limit_level(o: VenueOrder, level_step_bps: float) -> float:
    """The price a resting limit must trade to before its next touch fill (one level deeper per fill)."""
    step = level_step_bps * 1e-4 * o.trade_throughs
    p = float(o.price)  # type: ignore[arg-type]
    return p * (1 - step) if o.side is Side.BUY else p * (1 + step)


class TouchQueue:
    """Fill on touch: the mark trading to the limit fills one level's share, one level deeper per fill.

    No queue and no adverse selection: the model before queue positions, kept by name (``"touch"``)
    for scenarios that script fills by price alone.
    """

    name = "touch"
    series = "mark"

    def __init__(self, path: PricePath, liquidity: Book, instrument: Instrument,
                 fill_fraction: float) -> None:
        self.path = path
        self.liquidity = liquidity
        self.instrument = instrument
        self.fill_fraction = fill_fraction

    def on_rest(self, order: VenueOrder, t: int) -> None:
        order.trade_throughs = 0

    def on_leave(self, order: VenueOrder, t: int) -> None:
        pass

    def _level(self, o: VenueOrder, t: int) -> float:
        return limit_level(o, self.liquidity.at(t).level_step_bps)

    def band(self, order: VenueOrder, t: int) -> tuple[float, float]:
        level = self._level(order, t)
        return (level, math.inf) if order.side is Side.BUY else (-math.inf, level)

    def next_time(self, t: int) -> int | None:
        return None

    def fill_due(self, order: VenueOrder, t: int) -> Decimal:
        mark, level = self.path.mark_at(t), self._level(order, t)
        if (order.side is Side.BUY and mark > level) or (order.side is Side.SELL and mark < level):
            return Decimal(0)
        chunk = self.fill_fraction * self.liquidity.at(t).level0_qty * (2 * order.trade_throughs + 1)
        order.trade_throughs += 1
        inst = self.instrument
        return min(order.remaining, max(inst.qty_down(chunk), inst.lot_size))
