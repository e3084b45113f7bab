"""What counts as a live protective order, on either route: the checker's own definitions.

Invariants 3 and 4 ask which of our TP/SL are live and how much each could still trade. A venue
takes them two ways, and the checker reads both from the venue's own state (never from the bot's
mapping of one onto the other, `sim.bot.algo`):

- **legacy route**: a resting trigger order (``TAKE_PROFIT_MARKET`` / ``STOP_MARKET``); live while
  it rests, for its remaining quantity (its quantity less its fills);
- **algo route** (Binance's algo service): an algo order is live while it waits for its trigger
  (NEW) or is triggering, for its quantity; a ``closePosition`` order has no quantity: it closes
  whatever the position is when it fires (it always fits a position on the other side, and is an
  orphan on a flat one). Once triggered, the exposure is its *child* market order's (the venue's
  ids, ``algo-<algo id>``): live while the child works, for the child's remaining quantity. The
  child's fills are the algo order's fills, and the child trades reduce-only when its algo order
  is reduce-only or ``closePosition``, whatever flag the child itself carries.

Which order is ours, and its role, comes from our client id (or client algo id) alone.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sim.core.ids import ParsedClientId, parse_client_id
from sim.core.types import AlgoStatus, OrderRole, Side

PROTECTIVE = (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS)
_WAITING = (AlgoStatus.NEW, AlgoStatus.TRIGGERING)


@dataclass(frozen=True, slots=True)
class LiveProtection:
    """One live TP/SL of ours at the venue, as the checker counts it."""

    client_id: str  # our client id (legacy) or client algo id (algo)
    parsed: ParsedClientId
    side: Side
    remaining: Decimal | None  # what it can still trade; None: closes whatever the position is
    route: str  # "legacy" or "algo"

    def describe(self) -> str:
        size = "closePosition" if self.remaining is None else str(self.remaining)
        return f"{self.client_id} ({self.route} {self.side.value} {size})"


def fits(side: Side, remaining: Decimal | None, position: Decimal) -> bool:
    """Does a reduce-only protective order of ``remaining`` (None: close-position) on ``side`` fit the position?"""
    return position != 0 and (side is Side.SELL) == (position > 0) and (remaining is None or remaining <= abs(position))


def _protective(cid: str | None) -> ParsedClientId | None:
    p = parse_client_id(cid) if cid else None
    return p if p is not None and p.role in PROTECTIVE else None


def algo_exposure(algo: Any, children: dict[str, Any]) -> Decimal | None | bool:
    """What a (venue-held) algo order can still trade: its quantity (None: close-position) while it
    waits, its working child's remaining once triggered; False when it is not live."""
    if algo.status in _WAITING:
        return None if algo.close_position else algo.qty
    child = children.get(algo.client_algo_id) or algo.child
    if algo.status is AlgoStatus.TRIGGERED and child is not None and child.status.is_open:
        return child.remaining
    return False


def live_protection(venue: Any) -> Iterator[LiveProtection]:
    """Every live TP/SL of any bot at the venue: legacy trigger orders, then algo orders (waiting,
    or triggered with their child still working)."""
    children: dict[str, Any] = {}
    opened = getattr(venue, "open_orders", None)  # resting orders, and those acknowledged but not yet matched
    for o in (opened() if opened is not None else venue.resting):
        if getattr(o, "client_algo_id", None) is not None:
            children[o.client_algo_id] = o
        elif (p := _protective(o.client_id)) is not None:
            yield LiveProtection(o.client_id, p, o.side, o.remaining, "legacy")
    service = getattr(venue, "algo", None)
    if service is None:
        return
    triggered = (service.registry.by_client.get(cid) for cid in children)
    seen: set[str] = set()
    for a in [*service.armed, *(a for a in triggered if a is not None)]:
        p = _protective(a.client_algo_id)
        if p is None or a.client_algo_id in seen:
            continue
        seen.add(a.client_algo_id)
        exposure = algo_exposure(a, children)
        if exposure is not False:
            yield LiveProtection(a.client_algo_id, p, a.side, exposure, "algo")  # type: ignore[arg-type]


def live_protective(venue: Any, client_id: str) -> LiveProtection | None:
    """One of our TP/SL by its client id (or client algo id), if it is live."""
    return next((lp for lp in live_protection(venue) if lp.client_id == client_id), None)


def parent_of(venue: Any, order: Any) -> Any:
    """The algo order whose child ``order`` is (None: an ordinary order)."""
    cid = getattr(order, "client_algo_id", None)
    algo = getattr(venue, "algo", None)
    if cid is None or algo is None:
        return None
    parent = algo.registry.by_client.get(cid)
    return parent if parent is not None and parent.child is order else None


def trades_reduce_only(venue: Any, order: Any) -> bool:
    """Must this order only reduce the position? Its own flag, or its algo order's (reduce-only or
    close-position) when it is a triggered algo order's child."""
    parent = parent_of(venue, order)
    if parent is not None:
        return bool(parent.reduce_only or parent.close_position or order.reduce_only)
    return bool(order.reduce_only)


def owner_of_fill(venue: Any, client_id: str | None) -> str | None:
    """Whose fill is it: our client id, or for a child's fill its algo order's client algo id."""
    if not client_id:
        return None
    order = venue.orders.get(client_id)
    parent = parent_of(venue, order) if order is not None else None
    return parent.client_algo_id if parent is not None else client_id
