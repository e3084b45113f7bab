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


def open_order_margin(qty: Decimal, resting: Iterable[Any], leverage: int) -> float:
    """Initial margin resting limit orders reserve: what they would open beyond the position.

    Orders against the position need none up to its size (they would close it); the rest, and
    every order on the position's side, reserve notional / leverage at their limit price.
    Reduce-only orders and trigger orders reserve nothing.
    """
    buy_qty = sell_qty = 0.0
    buy_notional = sell_notional = 0.0
    for o in resting:
        if o.reduce_only or o.price is None or o.is_trigger:
            continue
        rem = float(o.remaining)
        if o.side.sign > 0:
            buy_qty += rem
            buy_notional += rem * float(o.price)
        else:
            sell_qty += rem
            sell_notional += rem * float(o.price)
    if not buy_qty and not sell_qty:
        return 0.0
    pos = float(qty)
    margin = 0.0
    if buy_qty:
        margin += buy_notional * max(0.0, buy_qty - max(-pos, 0.0)) / buy_qty
    if sell_qty:
        margin += sell_notional * max(0.0, sell_qty - max(pos, 0.0)) / sell_qty
    return margin / leverage
