"""The account as the checker recomputes it: its own arithmetic over the venue's fills.

The venue keeps its position and wallet in `PositionBook`, whose totals are updated together with
the balances they explain, so comparing the wallet with those totals proves nothing (invariant 1
was true by construction). This ledger starts again from what the venue *reported*: each fill
(side, quantity, price, fee), each funding rate and each transfer, and does the arithmetic of a
one-way linear perpetual itself (average entry on increases, PnL realized on the closed part).
Its history of (time, position, entry) also tells what the venue's position was at any instant,
so a position report the bot read can be checked against the truth.
"""
from __future__ import annotations

import bisect
from decimal import Decimal

from sim.core.messages import FillReport

ZERO = Decimal(0)


class Ledger:
    """Position, entry, realized PnL and fees, fill by fill."""

    def __init__(self) -> None:
        self.qty = ZERO
        self.entry = 0.0
        self.realized = 0.0
        self.fees = 0.0
        self._ts: list[int] = []
        self._history: list[tuple[Decimal, float]] = []  # (position, entry) after each fill

    def add(self, fill: FillReport) -> None:
        signed = fill.qty * fill.side.sign
        price = float(fill.price)
        before = self.qty
        after = before + signed
        if before == 0 or (before > 0) == (signed > 0):  # opening or adding: the entry averages
            self.entry = (float(abs(before)) * self.entry + float(abs(signed)) * price) / float(abs(after))
        else:  # closing some or all, and perhaps opening the other side at the fill's price
            closed = min(abs(before), abs(signed))
            self.realized += float(closed) * (price - self.entry) * (1.0 if before > 0 else -1.0)
            if after == 0:
                self.entry = 0.0
            elif (after > 0) != (before > 0):
                self.entry = price
        self.qty = after
        self.fees += fill.fee
        self._ts.append(fill.ts)
        self._history.append((after, self.entry))

    def at(self, t: int, inclusive: bool = True) -> tuple[Decimal, float]:
        """(position, entry) after every fill up to ``t`` (``inclusive=False``: before ``t``)."""
        i = (bisect.bisect_right if inclusive else bisect.bisect_left)(self._ts, t)
        return self._history[i - 1] if i else (ZERO, 0.0)

    def positions_at(self, t: int) -> set[Decimal]:
        """Every position held during instant ``t``: before its fills, and after each of them (a read
        answered at ``t`` may have been answered between any two of them)."""
        i = bisect.bisect_left(self._ts, t)
        j = bisect.bisect_right(self._ts, t)
        held = {self._history[i - 1][0] if i else ZERO}
        held.update(q for q, _ in self._history[i:j])
        return held
