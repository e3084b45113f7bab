"""The order lifecycle as a state machine: which transitions are legal.

``new -> sent -> acknowledged -> partially_filled -> filled | cancelled | rejected | expired``,
plus ``unknown`` (a timeout: the venue may or may not have the order) which only the venue's
answer resolves. A final state never changes. The record refuses an illegal transition: it
would mean the bot misread the venue, and silently writing it would hide the bug.
"""
from __future__ import annotations

from sim.core.types import OrderStatus as S

_VENUE_STATES = frozenset({S.ACKNOWLEDGED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED})

ALLOWED: dict[S, frozenset[S]] = {
    S.NEW: frozenset({S.SENT, S.REJECTED}),
    S.SENT: _VENUE_STATES | {S.UNKNOWN},
    S.UNKNOWN: _VENUE_STATES | {S.UNKNOWN},
    S.ACKNOWLEDGED: frozenset({S.ACKNOWLEDGED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.UNKNOWN}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.UNKNOWN}),
    S.FILLED: frozenset({S.FILLED}),
    S.CANCELLED: frozenset({S.CANCELLED}),
    S.REJECTED: frozenset({S.REJECTED}),
    S.EXPIRED: frozenset({S.EXPIRED}),
}


class IllegalTransition(RuntimeError):
    """An order was asked to move between states the lifecycle does not connect."""


def check_transition(client_id: str, before: S, after: S) -> None:
    if after not in ALLOWED[before]:
        raise IllegalTransition(f"order {client_id}: {before.value} -> {after.value} is not a lifecycle transition")
