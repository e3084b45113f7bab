"""The venue's id spaces: orders (or algo orders) by client id and by venue id, with Binance's rules.

A client id is unique among *open* orders only: once an order is closed its id may be used again
(the newest order with it answers a lookup). Ids match ``^[.A-Z:/a-z0-9_-]{1,36}$``. Retention: an
order cancelled or expired with no fills is not found 3 days after it was created, any order 90
days after (Binance USD-M's query-order rules), so "unknown order" is not proof of "never arrived".
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
DAY_MS = 86_400_000
UNFILLED_RETENTION_MS = 3 * DAY_MS
RETENTION_MS = 90 * DAY_MS


class Held(Protocol):
    """What the registry needs of an order: its ids, whether it is open, and what retention reads."""

    @property
    def key(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def is_open(self) -> bool: ...
    @property
    def dropped_unfilled(self) -> bool: ...
    ts_created: int


T = TypeVar("T", bound=Held)


def valid_client_id(cid: str) -> bool:
    return bool(CLIENT_ID.match(cid))


def retained(order: Held, now: int) -> bool:
    """Still found by a lookup at ``now``."""
    age = now - order.ts_created
    return age <= RETENTION_MS and not (order.dropped_unfilled and age > UNFILLED_RETENTION_MS)


class Registry(Generic[T]):
    """Orders of one id space, newest per client id; lookups apply retention."""

    def __init__(self) -> None:
        self.by_client: dict[str, T] = {}
        self.by_id: dict[str, T] = {}

    def add(self, order: T) -> None:
        self.by_client[order.key] = order
        self.by_id[order.id] = order

    def open_with(self, cid: str) -> bool:
        """An open order already has this client id (a new one with it is a duplicate)."""
        o = self.by_client.get(cid)
        return o is not None and o.is_open

    def find(self, now: int, cid: str | None = None, venue_id: str | None = None) -> T | None:
        o = self.by_id.get(venue_id) if venue_id is not None else self.by_client.get(cid or "")
        return o if o is not None and retained(o, now) else None

    def __iter__(self) -> Iterator[T]:
        return iter(self.by_id.values())


ZERO = Decimal(0)
