"""Invariants 3 and 4 at the moment a protective order reaches the venue, on either route.

Split from `sim.world.watch` (which follows the bot's reads and reconciles and lends its last
position read): when one of our TP/SL is accepted, as a legacy trigger order or as an algo
order, the checker asks

- **was it sized on what the bot could know** (invariant 4 at acceptance; issue 15 bug 3): the
  bot's last fresh position read plus its own entry and exit fills since, or the venue's position
  when it sent the order if its read had gone stale (see `sim.world.watch`). An order larger than
  that, sent on a flat position, or on the side that would add to it, breaks the invariant; a
  ``closePosition`` algo order has no size: only the side and flatness count;
- **is it a second live exposure** (invariant 3): another live TP/SL of ours for the same role
  at that instant (`sim.world.protective`: a resting trigger order, a waiting algo order, or a
  triggered one whose child still works), whatever its intent; and, on the algo route, another
  algo order of the same intent live or filled (the legacy route's count is the world's).

For a legacy order the position is taken as the bot sends it (the venue has caught up then); for
an algo order the send time is noted and the position at that instant is read back from the
checker's own ledger when the venue accepts it.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sim.core.ids import ParsedClientId, parse_client_id
from sim.core.messages import AlgoOrderReport, SubmitAlgoOrder, SubmitOrder
from sim.core.types import FillKind
from sim.world.protective import PROTECTIVE, fits, live_protection

MAX_PROBLEMS = 20  # kept per kind; the count says how many there were
Read = tuple[int, Decimal] | None  # (venue fills when the bot received its last position read, the position)


class Problems:
    """Problems of one kind: the first few in full, and how many in all."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.count = 0

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(text)

    def listed(self) -> list[str]:
        more = self.count - len(self.items)
        return self.items + ([f"... and {more} more"] if more > 0 else [])


def _protective(cid: str | None) -> ParsedClientId | None:
    p = parse_client_id(cid)
    return p if p is not None and p.role in PROTECTIVE else None


class Acceptance:
    """The checks at acceptance; the problems go to the watch's lists."""

    def __init__(self, truth: Any, protection: Problems, duplicates: Problems) -> None:
        self.truth = truth
        self.protection = protection
        self.duplicates = duplicates
        self._basis: dict[str, Decimal] = {}  # legacy client id -> the position the bot could know
        self._sent: dict[str, tuple[int, Read]] = {}  # client algo id -> (sent at, the bot's read then)
        self._algo_intents: dict[tuple, list[str]] = {}  # intent -> its algo orders' client algo ids

    # ----------------------------------------------------------------------- the bot sends
    def before_submit(self, request: SubmitOrder, read: Read) -> None:
        """A legacy protective order leaves the bot: the position it could know, as of now."""
        parsed = _protective(request.client_id)
        ex = self.truth.exchange
        if parsed is None or ex is None:
            return
        if read is None:
            self._basis[request.client_id] = ex.book.qty  # stale or no read: the position as it is now
            return
        self._basis[request.client_id] = self._known(read, parsed, ex.fills, None)

    def sent_algo(self, now: int, request: SubmitAlgoOrder, read: Read) -> None:
        """An algo protective order leaves the bot: remember when, and what it had read."""
        if _protective(request.client_algo_id) is not None:
            self._sent[request.client_algo_id] = (now, read)

    @staticmethod
    def _known(read: tuple[int, Decimal], parsed: ParsedClientId, fills: list, until: int | None) -> Decimal:
        """The read position plus the bot's own entries and exits since (up to ``until``)."""
        seen, qty = read
        for f in fills[seen:]:
            if until is not None and f.ts > until:
                break
            mine = parse_client_id(f.client_id) if f.kind is FillKind.TRADE else None
            if mine is not None and mine.bot_id == parsed.bot_id and mine.role not in PROTECTIVE:
                qty += f.qty * f.side.sign
        return qty

    # -------------------------------------------------------------------- the venue accepts
    def accepted(self, ts: int, order: Any, parsed: ParsedClientId) -> None:
        """A legacy protective order of ours reached the venue."""
        basis = self._basis.pop(order.client_id, None)
        self._judge(ts, order.client_id, order.side, order.remaining, basis)
        self._second(ts, order.client_id, parsed)

    def algo_accepted(self, ts: int, report: AlgoOrderReport) -> None:
        """An algo order reached the venue's algo service: the same checks, for its quantity (or
        close-position), as of when the bot sent it."""
        parsed = _protective(report.client_algo_id)
        ex = self.truth.exchange
        if parsed is None or ex is None:
            return
        sent = self._sent.pop(report.client_algo_id, None)
        basis = None
        if sent is not None:
            at, read = sent
            basis = self.truth.ledger.at(at)[0] if read is None else self._known(read, parsed, ex.fills, at)
        size = None if report.close_position else report.qty
        self._judge(ts, report.client_algo_id, report.side, size, basis, "algo ")
        self._second(ts, report.client_algo_id, parsed)
        siblings = self._algo_intents.setdefault(parsed.intent_key, [])
        service = ex.algo
        for cid in siblings:
            other = service.registry.by_client.get(cid)
            child = other.child if other is not None else None
            if other is not None and (other.is_open or (child is not None and child.filled_qty > 0)):
                self.duplicates.add(f"t={ts}: algo {report.client_algo_id} accepted while {cid} of the same "
                                    f"intent is {'live' if other.is_open else 'filled'}")
        siblings.append(report.client_algo_id)

    def _judge(self, ts: int, cid: str, side: Any, size: Decimal | None, basis: Decimal | None, kind: str = "") -> None:
        if basis is None or fits(side, size, basis):
            return
        ex = self.truth.exchange
        what = "closePosition" if size is None else str(size)
        self.protection.add(f"t={ts}: {kind}protective {cid} ({side.value} {what}) sent when the bot could know a "
                            f"position of {basis} (venue now {ex.book.qty if ex else '?'})")

    def _second(self, ts: int, cid: str, parsed: ParsedClientId) -> None:
        """Another live TP/SL of ours for the same role beside the one just accepted (either route)."""
        ex = self.truth.exchange
        if ex is None:
            return
        for other in _others(live_protection(ex), cid):
            if other.parsed.role is parsed.role and other.parsed.bot_id == parsed.bot_id:
                self.duplicates.add(f"t={ts}: {cid} live beside {other.describe()}, two live "
                                    f"{parsed.role.value} orders")


def _others(live: Iterable[Any], cid: str) -> Iterable[Any]:
    return (lp for lp in live if lp.client_id != cid)
