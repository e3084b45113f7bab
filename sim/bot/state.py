"""The bot's in-memory view of its platform record: positions and orders as it believes them."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sim.core.types import ClientOrderId, OrderRole, OrderStatus, OrderType, Side

ZERO = Decimal(0)


@dataclass(slots=True)
class OrderState:
    """One order as the platform record holds it (mutable: it moves through its lifecycle)."""

    client_id: ClientOrderId
    intent: int
    role: OrderRole
    side: Side
    type: OrderType
    qty: Decimal
    reduce_only: bool
    trigger_price: Decimal | None
    status: OrderStatus
    created_ms: int
    updated_ms: int
    decision_id: int | None = None
    decision_price: float | None = None
    filled_qty: Decimal = ZERO
    avg_price: Decimal | None = None
    booked_qty: Decimal = ZERO  # sum of fills recorded with trade ids
    reject_reason: str | None = None
    retry_after_ms: int | None = None  # working view only: a rate limit's wait
    timed_out: bool = False  # working view only: its submit went unanswered (time passed meanwhile)


@dataclass(slots=True)
class PositionState:
    qty: Decimal = ZERO
    entry: Decimal = ZERO
    updated_ms: int = 0

    def apply_fill(self, signed_qty: Decimal, price: Decimal) -> None:
        """Move the record's position by one fill (average entry on increases, as the venue does)."""
        q = self.qty
        new = q + signed_qty
        if new == 0:
            self.entry = ZERO
        elif q == 0 or (q > 0) == (signed_qty > 0):
            self.entry = (abs(q) * self.entry + abs(signed_qty) * price) / abs(new)
        elif (new > 0) != (q > 0):
            self.entry = price
        self.qty = new


@dataclass(frozen=True, slots=True)
class PendingTarget:
    """A target the bot's own execution fell short of, kept for the next cycles as the policy says."""

    qty: Decimal
    deadline_ms: int
    reason: str


@dataclass(slots=True)
class RecordState:
    """Everything the bot believes; rebuilt from SQLite on restart."""

    position: PositionState = field(default_factory=PositionState)
    orders: dict[ClientOrderId, OrderState] = field(default_factory=dict)
    seen_trades: set[str] = field(default_factory=set)
    fills_since_ms: int = 0
    next_intent: int = 1
    target_qty: Decimal | None = None
    equity: float | None = None
    pending: PendingTarget | None = None
    open_episodes: list[int] = field(default_factory=list)  # drift episodes detected but not yet resolved

    def open_orders(self) -> list[OrderState]:
        """Orders not yet final (including NEW, SENT and UNKNOWN ones)."""
        return [o for o in self.orders.values() if not o.status.is_final]

    def working(self) -> list[OrderState]:
        """Our entries and exits not yet final: sent, of unknown status, or acknowledged and not done
        filling. Their fills may still move the position, so nothing is sized on it meanwhile."""
        return [o for o in self.orders.values()
                if o.role in (OrderRole.ENTRY, OrderRole.EXIT) and not o.status.is_final]

    def open_protective(self) -> list[OrderState]:
        return [o for o in self.orders.values()
                if o.role in (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS) and not o.status.is_final]
