"""Acting on a target: size it, check it against fresh margin, route it, follow fill reality.

Policies (from the scenario's ``[bot.execution]``):

- ``flip``: ``single`` (one order of close + open size) or ``close_then_open`` (a reduce-only
  close, then the open only once the close filled whole);
- ``partial_fill``: what to do when the venue fills less than asked (an IOC remainder):
  ``cancel`` (accept the partial position), ``chase`` (follow with IOC limits no worse than
  ``chase_limit_bps`` from the decision mid, up to ``chase_attempts``), ``complete`` (pursue
  the rest in the next cycles until ``deadline``) or ``unwind`` (go flat next cycle).

Refusals are handled by kind in `refusals.send` (rate limited -> wait the retry-after and resend;
unavailable -> back off, then reconcile; any other reject or an unresolved timeout -> reconcile
before anything else acts). On top of that, an entry refused for margin is re-sized from a fresh
account and the same intent retried once, if the reconcile found the position as decided.
"""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sim.bot.engine import Decision, decide
from sim.bot.refusals import send, withdraw
from sim.bot.sizing import cap_exposure, size_target
from sim.bot.state import OrderState, PendingTarget
from sim.bot.strategy.base import Target
from sim.core.errors import ExchangeError
from sim.core.ids import parse_client_id
from sim.core.messages import AccountReport, FetchAccount, FetchPositions, FetchTicker, PositionsReport, Ticker
from sim.core.types import Action, OrderRole, OrderStatus, OrderType, PositionSide, RejectReason, Side, TimeInForce

if TYPE_CHECKING:
    from sim.bot.cycle import Bot

Io = Generator[Any, Any, Any]
ZERO = Decimal(0)


class FlipMode(StrEnum):
    SINGLE = "single"
    CLOSE_THEN_OPEN = "close_then_open"


class PartialFillPolicy(StrEnum):
    CANCEL = "cancel"
    CHASE = "chase"
    COMPLETE = "complete"
    UNWIND = "unwind"


@dataclass(frozen=True, slots=True)
class ExecutionPolicy:
    flip: FlipMode = FlipMode.SINGLE
    partial_fill: PartialFillPolicy = PartialFillPolicy.COMPLETE
    chase_limit_bps: float = 10.0
    chase_attempts: int = 3
    deadline_ms: int = 300_000
    rate_limit_attempts: int = 5  # sends of one intent while the venue answers "rate limited"
    unavailable_wait_ms: int = 5_000  # back-off after "unavailable", before reconciling


def target_of(signed: Decimal, reason: str) -> Target:
    side = PositionSide.LONG if signed > 0 else PositionSide.SHORT if signed < 0 else PositionSide.FLAT
    return Target(side, abs(signed), reason)


def pursue(bot: Bot, target: Target) -> Io:
    """Size the target on fresh numbers, decide against the live position, and trade toward it.

    The position is fetched again with the ticker and the account, right before deciding: one that
    moved since the cycle's reconcile (an operator, a TP/SL) is reconciled first, and nothing is sent.
    """
    cfg, rec, inst = bot.config, bot.record, bot.config.instrument
    try:
        ticker: Ticker = yield from bot.call(FetchTicker(inst.symbol))
        account: AccountReport = yield from bot.call(FetchAccount())
        live: PositionsReport = yield from bot.call(FetchPositions(inst.symbol))
    except ExchangeError:
        return
    if live.qty(inst.symbol) != rec.state.position.qty:  # it moved since the reconcile: learn how first
        yield from bot.recheck()
        rec.set_pending(PendingTarget(target.signed_qty, bot.clock.now + cfg.execution.deadline_ms,
                                      f"{target.reason}: deferred, the position moved before deciding"))
        return
    rec.set_equity(account.equity)
    mid = ticker.mid
    sized, size_note = size_target(target, cfg.sizing, inst, equity=account.equity, mid=mid,
                                   stop_loss_pct=cfg.protective.stop_loss_pct if cfg.protective.enabled else None)
    capped, cap_note = cap_exposure(sized.signed_qty, max_position=cfg.max_position, max_leverage=cfg.max_leverage,
                                    equity=account.equity, mid=mid, instrument=inst)
    if target.side is not PositionSide.FLAT and capped == 0:  # nothing tradable: hold what we have
        rec.add_decision(bot.clock.now, Action.HOLD.value, None, ZERO, rec.state.position.qty, None, mid,
                         "; ".join(filter(None, [target.reason, size_note, cap_note])))
        return
    decision = decide(target_of(capped, target.reason), rec.state.position.qty, inst, mid)
    if decision.action is Action.HOLD:
        rec.set_pending(None)
        return
    qty, margin_note = affordable(bot, decision, account, mid)
    notes = "; ".join(filter(None, [decision.reason, size_note, cap_note, margin_note]))
    action = decision.action if qty > 0 else Action.HOLD  # nothing fundable: say so, send nothing
    decision_id = rec.add_decision(bot.clock.now, action.value, decision.side.value if decision.side else None,
                                   qty, decision.position_before, decision.target_qty, mid, notes)
    rec.set_target(decision.target_qty)
    if qty <= 0:
        return
    # until it is reached, the target is work in progress: a crash mid-way leaves it in the record
    rec.set_pending(PendingTarget(decision.target_qty, bot.clock.now + bot.config.execution.deadline_ms,
                                  f"{decision.action.value} toward {decision.target_qty} in progress"))
    for order in list(rec.state.open_protective()):  # protection of the old exposure goes first
        if order.status.is_open:
            gone = yield from withdraw(bot, order, f"{decision.action.value}: replace protection")
            if not gone or bot.halted:  # it may still be live, or the picture was wrong: not now
                return
    yield from execute(bot, decision, qty, decision_id)
    if not bot.halted:  # a refusal's reconcile found the picture wrong: decide afresh next cycle
        yield from follow_partial(bot, decision, decision_id)


def execute(bot: Bot, decision: Decision, qty: Decimal, decision_id: int) -> Io:
    """Route a decision: one order, or for a flip in close-then-open mode, two legs."""
    assert decision.side is not None
    reduce_only = decision.action in (Action.CLOSE, Action.REDUCE)
    if decision.action is Action.FLIP and bot.config.execution.flip is FlipMode.CLOSE_THEN_OPEN:
        close_qty = abs(decision.position_before)
        close = yield from place(bot, OrderRole.EXIT, decision.side, close_qty, True, decision, decision_id)
        if close is None or close.filled_qty < close_qty or bot.record.state.position.qty != 0 or bot.halted:
            return  # the close leg fell short: known state; the partial-fill policy takes over
        yield from place(bot, OrderRole.ENTRY, decision.side, qty - close_qty, False, decision, decision_id)
        return
    role = OrderRole.EXIT if reduce_only else OrderRole.ENTRY
    yield from place(bot, role, decision.side, qty, reduce_only, decision, decision_id)


def place(bot: Bot, role: OrderRole, side: Side, qty: Decimal, reduce_only: bool, decision: Decision,
          decision_id: int, order_type: OrderType = OrderType.MARKET, price: Decimal | None = None,
          tif: TimeInForce = TimeInForce.GTC) -> Generator[Any, Any, OrderState | None]:
    """Submit one order; refusals are handled by kind (`refusals.send`), and an entry refused for
    margin is re-sized on a fresh account and the same intent retried once."""
    rec, inst = bot.record, bot.config.instrument
    intent = rec.allocate_intent()
    common = dict(reduce_only=reduce_only, decision_id=decision_id, decision_price=decision.mid, intent=intent,
                  order_type=order_type, price=price, time_in_force=tif)
    order: OrderState = yield from send(bot, role, side, qty, **common)
    if order.reject_reason != RejectReason.INSUFFICIENT_MARGIN.value or reduce_only or bot.halted:
        return order
    try:  # the reconcile found the position as decided: re-size on fresh margin
        account: AccountReport = yield from bot.call(FetchAccount())
    except ExchangeError:
        return order
    retry_qty, _ = affordable(bot, decision, account, decision.mid or 0.0, qty)
    if retry_qty <= 0 or not inst.is_tradable(retry_qty, Decimal(repr(decision.mid or 0.0))):
        return order  # fresh numbers fund nothing: skip, the record says why
    attempt = (parse_client_id(order.client_id).attempt + 1) if parse_client_id(order.client_id) else 1
    retried: OrderState = yield from send(bot, role, side, retry_qty, attempt=attempt, **common)
    return retried


def follow_partial(bot: Bot, decision: Decision, decision_id: int) -> Io:
    """The venue filled less than the decision asked: apply the partial-fill policy."""
    rec, pol, inst = bot.record, bot.config.execution, bot.config.instrument
    live = rec.state.position.qty
    if live == decision.target_qty or any(o.status is OrderStatus.UNKNOWN for o in rec.state.orders.values()):
        rec.set_pending(None)
        return
    if pol.partial_fill is PartialFillPolicy.CHASE and decision.mid:
        for _ in range(pol.chase_attempts):
            gap = decision.target_qty - rec.state.position.qty
            if gap == 0:
                break
            side = Side.BUY if gap > 0 else Side.SELL
            limit = inst.price(decision.mid * (1 + side.sign * pol.chase_limit_bps * 1e-4))
            reduce_only = abs(decision.target_qty) < abs(rec.state.position.qty) and \
                (decision.target_qty >= 0) == (rec.state.position.qty >= 0)
            order = yield from place(bot, OrderRole.EXIT if reduce_only else OrderRole.ENTRY, side, abs(gap),
                                     reduce_only, decision, decision_id, OrderType.LIMIT, limit, TimeInForce.IOC)
            if order is None or order.filled_qty == 0 or bot.halted:
                break
        rec.set_pending(None)
    elif pol.partial_fill is PartialFillPolicy.COMPLETE:
        rec.set_pending(PendingTarget(decision.target_qty, bot.clock.now + pol.deadline_ms,
                                      f"complete {decision.action.value} toward {decision.target_qty}"))
    elif pol.partial_fill is PartialFillPolicy.UNWIND:
        rec.set_pending(PendingTarget(ZERO, bot.clock.now + pol.deadline_ms,
                                      f"unwind partial {decision.action.value}"))
    else:
        rec.set_pending(None)


def pending_target(bot: Bot) -> Target | None:
    """The target left over from a partial fill, while it is still wanted."""
    rec = bot.record
    pending = rec.state.pending
    if pending is None:
        return None
    if rec.state.position.qty == pending.qty:
        rec.set_pending(None)
        return None
    if bot.clock.now > pending.deadline_ms:
        rec.add_decision(bot.clock.now, Action.HOLD.value, None, ZERO, rec.state.position.qty, pending.qty, None,
                         f"{pending.reason}: deadline passed, keeping {rec.state.position.qty}")
        rec.set_pending(None)
        return None
    return target_of(pending.qty, pending.reason)


def affordable(bot: Bot, decision: Decision, account: AccountReport, mid: float,
               qty: Decimal | None = None) -> tuple[Decimal, str]:
    """Size the order down to what fresh margin can fund; never send what the numbers cannot fund."""
    inst = bot.config.instrument
    qty = decision.qty if qty is None else qty
    if decision.action in (Action.CLOSE, Action.REDUCE):
        return qty, ""
    pos = decision.position_before
    closing = min(abs(pos), qty) if decision.action is Action.FLIP else ZERO
    opening = qty - closing
    per_unit = mid / account.leverage * (1 + 2 * 0.001)  # margin, plus a buffer for fees and slippage
    funded = inst.qty_down(max(account.available_margin, 0.0) / per_unit) if per_unit > 0 else ZERO
    note = ""
    if opening > funded:
        note = f"sized down from {qty} to fit available margin {account.available_margin:.2f}"
        opening = funded
    if opening > 0 and not inst.is_tradable(opening, Decimal(repr(mid))):
        note = (note + "; " if note else "") + "opening part below the venue's minimum: skipped"
        opening = ZERO
    return closing + opening, note
