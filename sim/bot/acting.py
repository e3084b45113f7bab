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

from decimal import Decimal

from sim.bot.desk import Desk
from sim.bot.engine import Decision, decide
from sim.bot.policies import FlipMode, PartialFillPolicy
from sim.bot.refusals import Sent, send, withdraw
from sim.bot.session import Io
from sim.bot.sizing import cap_exposure, size_target
from sim.bot.state import PendingTarget
from sim.bot.strategy.base import Target
from sim.core.errors import ExchangeError
from sim.core.ids import parse_client_id
from sim.core.messages import AccountReport, FetchAccount, FetchPositions, FetchTicker, PositionsReport, Ticker
from sim.core.types import Action, OrderRole, OrderType, PositionSide, RejectReason, Side, TimeInForce

ZERO = Decimal(0)


def target_of(signed: Decimal, reason: str) -> Target:
    side = PositionSide.LONG if signed > 0 else PositionSide.SHORT if signed < 0 else PositionSide.FLAT
    return Target(side, abs(signed), reason)


def pursue(desk: Desk, target: Target) -> Io[None]:
    """Size the target on fresh numbers, decide against the live position, and trade toward it.

    The position is fetched again with the ticker and the account, right before deciding: one that
    moved since the cycle's reconcile (an operator, a TP/SL) is reconciled first, and nothing is sent.
    """
    cfg, rec, inst = desk.config, desk.record, desk.config.instrument
    try:
        ticker: Ticker = yield from desk.session.call(FetchTicker(inst.symbol))
        account: AccountReport = yield from desk.session.call(FetchAccount())
        live: PositionsReport = yield from desk.session.call(FetchPositions(inst.symbol))
    except ExchangeError:
        return
    if live.qty(inst.symbol) != rec.state.position.qty:  # it moved since the reconcile: learn how first
        yield from desk.reconciler.recheck()
        rec.set_pending(PendingTarget(target.signed_qty, desk.session.now + cfg.execution.deadline_ms,
                                      f"{target.reason}: deferred, the position moved before deciding"))
        return
    rec.set_equity(account.equity)
    mid = ticker.mid
    sized, size_note = size_target(target, cfg.sizing, inst, equity=account.equity, mid=mid,
                                   stop_loss_pct=cfg.protective.stop_loss_pct if cfg.protective.enabled else None)
    capped, cap_note = cap_exposure(sized.signed_qty, max_position=cfg.max_position, max_leverage=cfg.max_leverage,
                                    equity=account.equity, mid=mid, instrument=inst)
    if target.side is not PositionSide.FLAT and capped == 0:  # nothing tradable: hold what we have
        rec.add_decision(desk.session.now, Action.HOLD.value, None, ZERO, rec.state.position.qty, None, mid,
                         "; ".join(filter(None, [target.reason, size_note, cap_note])))
        return
    decision = decide(target_of(capped, target.reason), rec.state.position.qty, inst, mid)
    if decision.action is Action.HOLD:
        rec.set_pending(None)
        return
    qty, margin_note = affordable(desk, decision, account, mid)
    notes = "; ".join(filter(None, [decision.reason, size_note, cap_note, margin_note]))
    action = decision.action if qty > 0 else Action.HOLD  # nothing fundable: say so, send nothing
    decision_id = rec.add_decision(desk.session.now, action.value, decision.side.value if decision.side else None,
                                   qty, decision.position_before, decision.target_qty, mid, notes)
    rec.set_target(decision.target_qty)
    if qty <= 0:
        return
    # until it is reached, the target is work in progress: a crash mid-way leaves it in the record
    rec.set_pending(PendingTarget(decision.target_qty, desk.session.now + desk.config.execution.deadline_ms,
                                  f"{decision.action.value} toward {decision.target_qty} in progress"))
    for order in list(rec.state.open_protective()):  # protection of the old exposure goes first
        if order.status.is_open:
            gone = yield from withdraw(desk, order, f"{decision.action.value}: replace protection")
            if not gone:  # it may still be live, or the picture was wrong: not now
                return
    ok = yield from execute(desk, decision, qty, decision_id)
    if ok:  # else a refusal's reconcile found the picture wrong: decide afresh next cycle
        assert decision.side is not None
        funded = decision.position_before + decision.side.sign * qty  # where the orders sent can take it
        yield from follow_partial(desk, decision, decision_id, funded)


def execute(desk: Desk, decision: Decision, qty: Decimal, decision_id: int) -> Io[bool]:
    """Route a decision: one order, or for a flip in close-then-open mode, two legs. False when a
    refusal's reconcile found the picture wrong (no more trading this cycle)."""
    assert decision.side is not None
    reduce_only = decision.action in (Action.CLOSE, Action.REDUCE)
    if decision.action is Action.FLIP and desk.config.execution.flip is FlipMode.CLOSE_THEN_OPEN:
        close_qty = abs(decision.position_before)
        close = yield from place(desk, OrderRole.EXIT, decision.side, close_qty, True, decision, decision_id)
        if not close.ok:
            return False
        if close.order.filled_qty < close_qty or desk.record.state.position.qty != 0:
            return True  # the close leg fell short: known state; the partial-fill policy takes over
        opened = yield from place(desk, OrderRole.ENTRY, decision.side, qty - close_qty, False, decision, decision_id)
        return opened.ok
    role = OrderRole.EXIT if reduce_only else OrderRole.ENTRY
    placed = yield from place(desk, role, decision.side, qty, reduce_only, decision, decision_id)
    return placed.ok


def place(desk: Desk, role: OrderRole, side: Side, qty: Decimal, reduce_only: bool, decision: Decision,
          decision_id: int, order_type: OrderType = OrderType.MARKET, price: Decimal | None = None,
          tif: TimeInForce = TimeInForce.GTC) -> Io[Sent]:
    """Submit one order; refusals are handled by kind (`refusals.send`), and an entry refused for
    margin is re-sized on a fresh account and the same intent retried once."""
    rec, inst = desk.record, desk.config.instrument
    intent = rec.allocate_intent()
    common = dict(reduce_only=reduce_only, decision_id=decision_id, decision_price=decision.mid, intent=intent,
                  order_type=order_type, price=price, time_in_force=tif)
    sent: Sent = yield from send(desk, role, side, qty, **common)
    order = sent.order
    if order.reject_reason != RejectReason.INSUFFICIENT_MARGIN.value or reduce_only or not sent.ok:
        return sent
    try:  # the reconcile found the position as decided: re-size on fresh margin
        account: AccountReport = yield from desk.session.call(FetchAccount())
    except ExchangeError:
        return sent
    retry_qty, _ = affordable(desk, decision, account, decision.mid or 0.0, qty)
    if retry_qty <= 0 or not inst.is_tradable(retry_qty, Decimal(repr(decision.mid or 0.0))):
        return sent  # fresh numbers fund nothing: skip, the record says why
    attempt = (parse_client_id(order.client_id).attempt + 1) if parse_client_id(order.client_id) else 1
    return (yield from send(desk, role, side, retry_qty, attempt=attempt, **common))


def follow_partial(desk: Desk, decision: Decision, decision_id: int, funded: Decimal | None = None) -> Io[None]:
    """The venue filled less than the decision asked: apply the partial-fill policy.

    ``funded`` is where the decision's orders can take the position once sized to the margin there
    was (the decision's target when nothing was cut): a chase, which trades under the same decision,
    goes no further than that (more would trade what the margin check refused).
    """
    rec, pol, inst = desk.record, desk.config.execution, desk.config.instrument
    live = rec.state.position.qty
    if live == decision.target_qty or rec.state.working():  # reached, or an order of ours may still fill:
        rec.set_pending(None)  # never chase, complete or resend while one may
        return
    if pol.partial_fill is PartialFillPolicy.CHASE and decision.mid:
        goal = decision.target_qty if funded is None else funded
        for _ in range(pol.chase_attempts):
            gap = goal - rec.state.position.qty
            if gap == 0:
                break
            side = Side.BUY if gap > 0 else Side.SELL
            limit = inst.price(decision.mid * (1 + side.sign * pol.chase_limit_bps * 1e-4))
            reduce_only = abs(goal) < abs(rec.state.position.qty) and (goal >= 0) == (rec.state.position.qty >= 0)
            chased = yield from place(desk, OrderRole.EXIT if reduce_only else OrderRole.ENTRY, side, abs(gap),
                                      reduce_only, decision, decision_id, OrderType.LIMIT, limit, TimeInForce.IOC)
            if chased.order.filled_qty == 0 or not chased.ok:
                break
        rec.set_pending(None)
    elif pol.partial_fill is PartialFillPolicy.COMPLETE:
        rec.set_pending(PendingTarget(decision.target_qty, desk.session.now + pol.deadline_ms,
                                      f"complete {decision.action.value} toward {decision.target_qty}"))
    elif pol.partial_fill is PartialFillPolicy.UNWIND:
        rec.set_pending(PendingTarget(ZERO, desk.session.now + pol.deadline_ms,
                                      f"unwind partial {decision.action.value}"))
    else:
        rec.set_pending(None)


def pending_target(desk: Desk) -> Target | None:
    """The target left over from a partial fill, while it is still wanted."""
    rec = desk.record
    pending = rec.state.pending
    if pending is None:
        return None
    if rec.state.position.qty == pending.qty:
        rec.set_pending(None)
        return None
    if desk.session.now > pending.deadline_ms:
        rec.add_decision(desk.session.now, Action.HOLD.value, None, ZERO, rec.state.position.qty, pending.qty, None,
                         f"{pending.reason}: deadline passed, keeping {rec.state.position.qty}")
        rec.set_pending(None)
        return None
    return target_of(pending.qty, pending.reason)


def affordable(desk: Desk, decision: Decision, account: AccountReport, mid: float,
               qty: Decimal | None = None) -> tuple[Decimal, str]:
    """Size the order down to what fresh margin can fund; never send what the numbers cannot fund."""
    inst = desk.config.instrument
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


__all__ = ["affordable", "execute", "follow_partial",
           "pending_target", "place", "pursue", "target_of"]
