"""Margin rules of the venue: tiered maintenance margin, liquidation price, funding.

A tier table maps position notional to a maintenance-margin rate and a maximum leverage, as
perpetual venues publish them; a single flat rate is the one-tier case.
"""
from __future__ import annotations

from dataclasses import dataclass


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
