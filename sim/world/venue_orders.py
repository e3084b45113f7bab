"""Orders as the venue holds them, and what the venue tells the world about them."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from sim.core.messages import AlgoOrderReport, FillReport, OrderReport, SubmitOrder
from sim.core.types import ClientOrderId, OrderStatus, OrderType, RejectReason, Side, TimeInForce, VenueOrderId

PRICE_Q = Decimal("0.00000001")
TRIGGER_TYPES = (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)


@lru_cache(maxsize=256)
def quote_price(x: float) -> Decimal:
    """A float price as the venue reports it (8 decimals). Cached: an entry or average price is
    reported on every read until the next fill moves it."""
    return Decimal(repr(x)).quantize(PRICE_Q)


@dataclass(slots=True)
class VenueOrder:
    """An order as the venue holds it (mutable, world-internal)."""

    client_id: ClientOrderId
    venue_id: VenueOrderId
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    reduce_only: bool
    status: OrderStatus
    ts_created: int
    ts_updated: int
    arrival_mid: float
    trigger_by: str = "mark"
    time_in_force: TimeInForce = TimeInForce.GTC
    source: str = "bot"
    filled_qty: Decimal = Decimal(0)
    notional: float = 0.0
    fees: float = 0.0
    first_fill_ms: int | None = None
    last_fill_ms: int | None = None
    trade_throughs: int = 0  # resting limit: how many levels the price has traded through it
    half_spread_bps: float | None = None  # at the moment it took liquidity: the spread part of its cost
    client_algo_id: ClientOrderId | None = None  # the child of a triggered algo order: that order

    @property
    def key(self) -> str:
        return self.client_id

    @property
    def id(self) -> str:
        return self.venue_id

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def dropped_unfilled(self) -> bool:
        """Cancelled or expired with nothing filled (Binance forgets these after 3 days)."""
        return self.filled_qty == 0 and self.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)

    @property
    def avg_price(self) -> float | None:
        return self.notional / float(self.filled_qty) if self.filled_qty else None

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_trigger(self) -> bool:
        return self.type in TRIGGER_TYPES

    def report(self, ts: int) -> OrderReport:
        # positional: built for every resting order on every open-orders read
        avg = self.avg_price
        return OrderReport(self.symbol, self.client_id, self.venue_id, self.side, self.type, self.qty, self.price,
                           self.trigger_price, self.reduce_only, self.status, self.filled_qty,
                           None if avg is None else quote_price(avg), ts, self.ts_updated, self.client_algo_id,
                           self.time_in_force)

    @property
    def fires_on_rise(self) -> bool:
        """A trigger order that fires when the price rises to its trigger."""
        return (self.type is OrderType.TAKE_PROFIT_MARKET) == (self.side is Side.SELL)


def trigger_fires_on_rise(order_type: OrderType, side: Side) -> bool:
    return (order_type is OrderType.TAKE_PROFIT_MARKET) == (side is Side.SELL)


class VenueObserver(Protocol):
    """What the world wants to hear from the venue (ground truth, the event log, pushed updates)."""

    def on_order(self, ts: int, order: VenueOrder, what: str, detail: str = "") -> None: ...
    # ``request`` is a SubmitOrder or a SubmitAlgoOrder; ``detail`` begins with the venue's code and
    # code name ("-4164 MIN_NOTIONAL: ..."), what a summary counts rejections by
    def on_reject(self, ts: int, request: SubmitOrder, reason: RejectReason, detail: str) -> None: ...
    def on_fill(self, fill: FillReport, order: VenueOrder | None) -> None: ...
    def on_position(self, ts: int, qty: Decimal) -> None: ...
    def on_algo(self, ts: int, report: AlgoOrderReport, what: str) -> None: ...
