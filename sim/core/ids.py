"""Client order ids that carry their intent.

``{bot}-{intent}-{role}-{attempt}``: one *intent* (a decision leg, or a protective order for one
exposure) may take several *attempts* (after a reject or a timeout that proved the order never
arrived). The venue sees only the string; the reconciler reads the role back to attribute a fill
(the closing fill came from our take-profit), and the world counts duplicates per intent.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sim.core.types import ClientOrderId, OrderRole

_ROLES = {r.value: r for r in OrderRole}


@dataclass(frozen=True, slots=True)
class ParsedClientId:
    bot_id: str
    intent: int
    role: OrderRole
    attempt: int

    @property
    def intent_key(self) -> tuple[str, int, OrderRole]:
        return (self.bot_id, self.intent, self.role)


def make_client_id(bot_id: str, intent: int, role: OrderRole, attempt: int = 0) -> ClientOrderId:
    if "-" in bot_id or not bot_id:
        raise ValueError(f"bot id must be non-empty and contain no '-', got {bot_id!r}")
    return ClientOrderId(f"{bot_id}-{intent}-{role.value}-{attempt}")


@lru_cache(maxsize=4096)
def parse_client_id(cid: str | None) -> ParsedClientId | None:
    """The parts of one of our client ids, or None for anyone else's (cached: ids recur every cycle)."""
    if not cid:
        return None
    parts = cid.split("-")
    if len(parts) != 4 or parts[2] not in _ROLES or not parts[1].isdigit() or not parts[3].isdigit():
        return None
    return ParsedClientId(parts[0], int(parts[1]), _ROLES[parts[2]], int(parts[3]))
