"""Sizing: how big a target is, from the strategy's posture and fresh account numbers. Pure.

A strategy says which side it wants; the sizing mode says how much:

- ``strategy``: the quantity the strategy stated (base units);
- ``fixed_qty``: ``value`` base units;
- ``fixed_notional``: ``value`` quote currency of notional at the mid;
- ``equity_fraction``: notional of ``value`` x equity (above 1 uses leverage);
- ``risk``: lose ``value`` x equity if the stop-loss (``stop_loss_pct`` away) is hit.

The result is rounded down to the lot; below the venue's minimum quantity or notional it is
zero, with the reason, so the bot skips rather than sends an order the venue would refuse.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sim.bot.strategy.base import Target
from sim.core.instrument import Instrument
from sim.core.types import PositionSide


class SizingMode(StrEnum):
    STRATEGY = "strategy"
    FIXED_QTY = "fixed_qty"
    FIXED_NOTIONAL = "fixed_notional"
    EQUITY_FRACTION = "equity_fraction"
    RISK = "risk"


@dataclass(frozen=True, slots=True)
class SizingPolicy:
    mode: SizingMode = SizingMode.STRATEGY
    value: float | None = None

    def __post_init__(self) -> None:
        if self.mode is not SizingMode.STRATEGY and (self.value is None or self.value <= 0):
            raise ValueError(f"sizing mode {self.mode.value} needs a positive value")


def size_target(target: Target, policy: SizingPolicy, instrument: Instrument, *, equity: float, mid: float,
                stop_loss_pct: float | None) -> tuple[Target, str]:
    """The target with its quantity set by the sizing policy; the string says what was done."""
    if target.side is PositionSide.FLAT or policy.mode is SizingMode.STRATEGY:
        qty = float(target.qty)
    elif policy.mode is SizingMode.FIXED_QTY:
        qty = float(policy.value)  # type: ignore[arg-type]
    elif policy.mode is SizingMode.FIXED_NOTIONAL:
        qty = float(policy.value) / mid  # type: ignore[arg-type]
    elif policy.mode is SizingMode.EQUITY_FRACTION:
        qty = float(policy.value) * max(equity, 0.0) / mid  # type: ignore[arg-type]
    else:
        if not stop_loss_pct:
            return Target(target.side, Decimal(0), target.reason), "risk sizing needs a stop-loss distance: skipped"
        qty = float(policy.value) * max(equity, 0.0) / (mid * stop_loss_pct)  # type: ignore[arg-type]
    size = instrument.qty_down(qty)
    note = "" if policy.mode is SizingMode.STRATEGY else f"sized {policy.mode.value} -> {size}"
    if target.side is not PositionSide.FLAT and not instrument.is_tradable(size, Decimal(repr(mid))):
        why = f"size {size} below the venue minimum (qty {instrument.min_qty}, notional {instrument.min_notional})"
        return Target(target.side, Decimal(0), target.reason), why + ": skipped"
    return Target(target.side, size, target.reason), note


def cap_exposure(target_qty: Decimal, *, max_position: Decimal | None, max_leverage: float | None, equity: float,
                 mid: float, instrument: Instrument) -> tuple[Decimal, str]:
    """The signed target cut to the bot's limits (absolute size, and notional / equity)."""
    limit = abs(target_qty)
    why = []
    if max_position is not None and limit > max_position:
        limit, _ = max_position, why.append(f"capped at max_position {max_position}")
    if max_leverage is not None:
        by_lev = instrument.qty_down(max(equity, 0.0) * max_leverage / mid)
        if limit > by_lev:
            limit, _ = by_lev, why.append(f"capped at {max_leverage}x equity ({by_lev})")
    return (limit if target_qty >= 0 else -limit), "; ".join(why)
