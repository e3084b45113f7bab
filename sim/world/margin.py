"""Margin rules of the venue: tiered maintenance margin, liquidation price, funding.

A tier table maps position notional to a maintenance-margin rate and a maximum leverage, as
perpetual venues publish them; a single flat rate is the one-tier case.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class MarginTier:
    """Up to ``notional_cap`` (quote), maintenance margin is ``mmr`` of notional; leverage at most ``max_leverage``."""

    notional_cap: float
    mmr: float
    max_leverage: int


@dataclass(frozen=True, slots=True)
class MarginTable:
    tiers: tuple[MarginTier, ...]

    def __post_init__(self) -> None:
        if not self.tiers:
            raise ValueError("a margin table needs at least one tier")
        caps = [t.notional_cap for t in self.tiers]
        if caps != sorted(caps):
            raise ValueError("margin tiers must be in increasing notional_cap order")

    @classmethod
    def flat(cls, mmr: float, max_leverage: int) -> MarginTable:
        return cls((MarginTier(float("inf"), mmr, max_leverage),))

    def tier(self, notional: float) -> MarginTier:
        for t in self.tiers:
            if notional <= t.notional_cap:
                return t
        return self.tiers[-1]

    def maintenance(self, notional: float) -> float:
        return abs(notional) * self.tier(abs(notional)).mmr


def liquidation_price(qty: float, entry: float, wallet: float, mmr: float) -> float | None:
    """Mark price at which equity equals maintenance margin, for a one-way position (None when flat).

    ``wallet + q (p - e) = |q| p mmr``  so  ``p = (q e - wallet) / (q - |q| mmr)``.
    """
    if qty == 0:
        return None
    p = (qty * entry - wallet) / (qty - abs(qty) * mmr)
    return max(p, 0.0)


def funding_payment(qty: float, mark: float, rate: float) -> float:
    """What the account receives at a funding time (longs pay shorts when the rate is positive)."""
    return -qty * mark * rate


def open_order_margin(qty: Decimal, mark: float, resting: Iterable[Any], leverage: int) -> float:
    """Initial margin that resting limit orders reserve beyond the position's own.

    The account is margined for the worse of its two directions: every buy filling (position plus
    the buys' notional) or every sell filling (position minus the sells'), so orders that would
    only close the position reserve nothing. Reduce-only and trigger orders reserve nothing.
    """
    buys = sells = 0.0
    for o in resting:
        if o.reduce_only or o.price is None or o.is_trigger:
            continue
        notional = float(o.remaining) * float(o.price)
        if o.side.sign > 0:
            buys += notional
        else:
            sells += notional
    if not buys and not sells:
        return 0.0
    pos = float(qty) * mark
    return max(0.0, max(abs(pos + buys), abs(pos - sells)) - abs(pos)) / leverage
