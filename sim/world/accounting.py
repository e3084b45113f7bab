"""Position and wallet arithmetic of a one-way linear perpetual.

Quantities are exact `Decimal` (the position is the signed sum of fills, invariant 1); money is
float in the settlement currency.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(slots=True)
class PositionBook:
    """The venue's position for one symbol and the wallet it settles into."""

    qty: Decimal = ZERO
    entry: float = 0.0
    wallet: float = 0.0
    realized_pnl: float = 0.0
    fees: float = 0.0
    funding: float = 0.0
    transfers: float = 0.0

    def apply_fill(self, signed_qty: Decimal, price: float, fee: float) -> float:
        """Book a fill; returns the PnL it realized.

        A fill on the position's side (or from flat) moves the average entry; an opposite fill
        realizes PnL on the part it closes and opens the rest, if any, at the fill price.
        """
        realized = 0.0
        if signed_qty == 0:
            raise ValueError("a fill needs a non-zero quantity")
        q = self.qty
        if q == 0 or (q > 0) == (signed_qty > 0):
            new = q + signed_qty
            self.entry = (abs(float(q)) * self.entry + abs(float(signed_qty)) * price) / abs(float(new))
            self.qty = new
        else:
            closing = min(abs(q), abs(signed_qty))
            direction = 1.0 if q > 0 else -1.0
            realized = float(closing) * (price - self.entry) * direction
            new = q + signed_qty
            if new == 0:
                self.entry = 0.0
            elif (new > 0) != (q > 0):
                self.entry = price
            self.qty = new
        self.realized_pnl += realized
        self.fees += fee
        self.wallet += realized - fee
        return realized

    def unrealized(self, mark: float) -> float:
        return float(self.qty) * (mark - self.entry) if self.qty else 0.0

    def initial_margin(self, mark: float, leverage: int) -> float:
        return abs(float(self.qty)) * mark / leverage

    def maintenance_margin(self, mark: float, rate: float) -> float:
        return abs(float(self.qty)) * mark * rate
