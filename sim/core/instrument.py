"""The traded instrument and the quantize helpers every order passes through.

Quantities and prices are `Decimal` at the port so that sums of fills are exact (invariant 1:
the position equals the signed sum of fills, with no float residue).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal


@dataclass(frozen=True, slots=True)
class Instrument:
    """A linear perpetual contract quoted in the settlement currency.

    Parameters
    ----------
    symbol: venue symbol, e.g. ``BTCUSDT``.
    tick_size: price increment (quote currency).
    lot_size: quantity increment (base currency).
    min_qty: smallest order quantity (base currency).
    min_notional: smallest order notional (quote currency; reduce-only orders are exempt).
    max_qty: largest limit order (LOT_SIZE maxQty); market_max_qty: largest market order
    (MARKET_LOT_SIZE maxQty). Defaults are BTCUSDT's on Binance USD-M.
    """

    symbol: str
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal
    min_notional: Decimal
    max_qty: Decimal = Decimal("1000")
    market_max_qty: Decimal = Decimal("120")

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or value <= 0:
                raise ValueError(f"Instrument.{name} must be a positive Decimal, got {value!r}")
        if self.min_qty < 0 or self.min_notional < 0:
            raise ValueError("Instrument.min_qty and min_notional must not be negative")

    def qty_down(self, qty: Decimal | float) -> Decimal:
        """Round a quantity down to the lot size (never buy more than was funded)."""
        q = Decimal(str(qty)) if not isinstance(qty, Decimal) else qty
        return (q / self.lot_size).to_integral_value(rounding=ROUND_DOWN) * self.lot_size

    def price(self, price: Decimal | float) -> Decimal:
        """Round a price to the nearest tick."""
        p = Decimal(repr(float(price))) if not isinstance(price, Decimal) else price
        return (p / self.tick_size).to_integral_value(rounding=ROUND_HALF_EVEN) * self.tick_size

    def is_tradable(self, qty: Decimal, price: Decimal) -> bool:
        """True when an order of this size clears the venue's minimum quantity and notional."""
        return qty >= self.min_qty and qty > 0 and qty * price >= self.min_notional
