"""The engine: target + live position -> decision. Pure: no I/O, no clock, no state.

The position given must be the *live* one (after reconcile), never the record's memory of what
the last order should have done: that is how a bot avoids acting on a position a native TP/SL
or an operator has already changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sim.bot.strategy.base import Target
from sim.core.instrument import Instrument
from sim.core.types import Action, Side

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do, why, and the prices seen when deciding.

    qty: base quantity to trade (for FLIP: close the old side plus open the new one).
    target_qty: the signed position this decision aims at.
    """

    action: Action
    side: Side | None
    qty: Decimal
    target_qty: Decimal
    position_before: Decimal
    reason: str
    mid: float | None = None


def decide(target: Target | None, position: Decimal, instrument: Instrument, mid: float | None = None) -> Decision:
    """Turn a target and the live signed position into OPEN/CLOSE/FLIP/INCREASE/REDUCE/HOLD."""
    if target is None:
        return Decision(Action.HOLD, None, ZERO, position, position, "no new target", mid)
    size = instrument.qty_down(target.qty)
    want = -size if target.signed_qty < 0 else (size if target.signed_qty > 0 else ZERO)
    why = target.reason or f"target {target.side.value} {target.qty}"
    if want == position:
        return Decision(Action.HOLD, None, ZERO, want, position, f"{why}: already there", mid)
    delta = want - position
    side = Side.BUY if delta > 0 else Side.SELL
    if want == 0:
        return Decision(Action.CLOSE, side, abs(position), want, position, why, mid)
    if position == 0:
        return Decision(Action.OPEN, side, abs(want), want, position, why, mid)
    if (want > 0) != (position > 0):
        return Decision(Action.FLIP, side, abs(delta), want, position, why, mid)
    action = Action.INCREASE if abs(want) > abs(position) else Action.REDUCE
    return Decision(action, side, abs(delta), want, position, why, mid)
