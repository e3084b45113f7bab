"""The venue's order checks: every reason it refuses an order, each with Binance's code.

Each check answers ``(code, detail)``: the `VenueCode` refused with (None: accept) and the figures
of the case, for the bot's log. The order of the checks is Binance's as far as it is observable:
parameters and ids, then the symbol's filters, then the trigger, then position and margin.
"""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from sim.core import venue_codes as vc
from sim.core.instrument import Instrument
from sim.core.messages import AccountReport, SubmitOrder
from sim.core.types import OrderType, RejectReason, Side, TimeInForce
from sim.world.accounting import PositionBook
from sim.world.liquidity import Book
from sim.world.margin import MarginTable, open_order_margin
from sim.world.market import PricePath
from sim.world.order_registry import Registry, valid_client_id
from sim.world.venue_orders import TRIGGER_TYPES, VenueOrder, trigger_fires_on_rise
from sim.world.venue_rules import VenueRules

Check = tuple["vc.VenueCode | None", str]
OK: Check = (None, "")


class VenueView(Protocol):
    """What the checks read of the venue."""

    instrument: Instrument
    rules: VenueRules
    path: PricePath
    liquidity: Book
    book: PositionBook
    leverage: int
    margin: MarginTable
    registry: Registry[VenueOrder]
    resting: list[VenueOrder]

    def account_report(self) -> AccountReport: ...


def forced_reject(windows: Sequence[tuple[int, int, RejectReason]], now: int) -> Check:
    """A `reject_orders` window in force refuses the bot's orders with its reason (None: none in force)."""
    for start, end, reason in windows:
        if start <= now < end:
            return vc.FOR_REASON[reason], "refused during a reject_orders window"
    return OK


def check_qty(inst: Instrument, qty: Decimal | None, market: bool) -> Check:
    """LOT_SIZE / MARKET_LOT_SIZE: positive, no finer than the step, within [min_qty, max]."""
    if qty is None:
        return vc.MANDATORY_PARAM, vc.MANDATORY_PARAM.text("quantity")
    if qty <= 0:
        return vc.QTY_LESS_THAN_ZERO, f"quantity {qty}"
    if qty.normalize().as_tuple().exponent < inst.lot_size.normalize().as_tuple().exponent:  # type: ignore[operator]
        return vc.BAD_PRECISION, f"quantity {qty} has more decimals than the step {inst.lot_size}"
    if qty % inst.lot_size:
        return vc.QTY_NOT_BY_STEP, f"quantity {qty} is not a multiple of {inst.lot_size}"
    if qty < inst.min_qty:
        return vc.QTY_LESS_THAN_MIN_QTY, f"quantity {qty} < min {inst.min_qty}"
    cap = inst.market_max_qty if market else inst.max_qty
    if qty > cap:
        return vc.QTY_GREATER_THAN_MAX_QTY, f"quantity {qty} > max {cap}{' (MARKET_LOT_SIZE)' if market else ''}"
    return OK


def check_price(inst: Instrument, price: Decimal, what: str) -> Check:
    """PRICE_FILTER: a positive multiple of the tick."""
    if price <= 0:
        return vc.MANDATORY_PARAM, vc.MANDATORY_PARAM.text(what)
    if price % inst.tick_size:
        return vc.PRICE_NOT_BY_TICK, f"{what} {price} is not a multiple of {inst.tick_size}"
    return OK


def check_order(ex: VenueView, req: SubmitOrder, now: int, source: str = "bot") -> Check:
    """The venue's reason to refuse an order (None: accept), with a message for the bot's log."""
    inst = ex.instrument
    if req.type in TRIGGER_TYPES and ex.rules.conditional_orders == "algo" and source != "algo":
        return vc.STOP_ORDER_SWITCH_ALGO, f"{req.type.value} goes through the algo order API"
    if not valid_client_id(req.client_id):
        return vc.INVALID_CLIENT_ID, f"client id {req.client_id!r} must match ^[.A-Z:/a-z0-9_-]{{1,36}}$"
    if ex.registry.open_with(req.client_id):
        return vc.DUPLICATED_CLIENT_ID, f"client id {req.client_id} is used by an open order"
    code, detail = check_qty(inst, req.qty, req.type is not OrderType.LIMIT)
    if code is not None:
        return code, detail
    mid = ex.path.mid_at(now)
    price = mid
    bid, ask = ex.liquidity.touch(now, mid)
    band = ex.rules.price_band_pct
    if req.type is OrderType.LIMIT:
        if req.price is None:
            return vc.MANDATORY_PARAM, vc.MANDATORY_PARAM.text("price")
        code, detail = check_price(inst, req.price, "price")
        if code is not None:
            return code, detail
        price = float(req.price)
        if req.side is Side.BUY and price > mid * (1 + band):  # PERCENT_PRICE: one bound per side
            return vc.PRICE_ABOVE_MULTIPLIER_UP, f"buy limit {price} > mark {mid:.2f} x {1 + band:g}"
        if req.side is Side.SELL and price < mid * (1 - band):
            return vc.PRICE_BELOW_MULTIPLIER_DOWN, f"sell limit {price} < mark {mid:.2f} x {1 - band:g}"
        eps = 1e-9 * mid  # a price at the touch, whatever the float rounding of the touch itself
        if req.time_in_force is TimeInForce.POST_ONLY and \
                (price >= ask - eps if req.side is Side.BUY else price <= bid + eps):
            return vc.GTX_ORDER_REJECT, f"post-only {req.side.value} at {price} would take"
    elif req.type is OrderType.MARKET:
        best = ask if req.side is Side.BUY else bid
        if (req.side is Side.BUY and best > mid * (1 + band)) or (req.side is Side.SELL and best < mid * (1 - band)):
            return vc.MARKET_ORDER_REJECT, f"best price {best:.2f} outside mark {mid:.2f} +- {band:g}"
    if req.type in TRIGGER_TYPES:
        if req.trigger_price is None:
            return vc.MANDATORY_PARAM, vc.MANDATORY_PARAM.text("stopPrice")
        code, detail = check_price(inst, req.trigger_price, "stopPrice")
        if code is not None:
            return code, detail
        reason = trigger_would_fire(ex.path, req.type, req.side, float(req.trigger_price), req.trigger_by.value, now)
        if reason:
            return vc.WOULD_TRIGGER, reason
    if not req.reduce_only and float(req.qty) * price < float(inst.min_notional):
        return vc.MIN_NOTIONAL, (vc.MIN_NOTIONAL.text(inst.min_notional) +
                                 f" (notional {float(req.qty) * price:.2f})")
    pos = ex.book.qty
    if req.reduce_only:
        if pos == 0 or (pos > 0) == (req.side is Side.BUY):
            return vc.REDUCE_ONLY_REJECT, f"reduce-only {req.side.value} against position {pos}"
        if req.type is OrderType.LIMIT:
            booked = sum((o.remaining for o in ex.resting if o.reduce_only and o.type is OrderType.LIMIT
                          and o.side is req.side), Decimal(0))
            if booked >= abs(pos):
                return vc.REDUCE_ONLY_MARGIN_CHECK, (f"open reduce-only orders already cover the position {pos} "
                                                     f"({booked})")
    if req.type is OrderType.LIMIT and req.time_in_force is TimeInForce.FOK and ex.rules.order_response == "result":
        # (under "ack" the order is acknowledged first and expires at its match if it cannot fill whole)
        can = ex.liquidity.reach(now, req.side is Side.BUY, mid, price)
        if inst.qty_down(can) < req.qty:
            return vc.FOK_ORDER_REJECT, f"only {can:.3f} of {req.qty} fillable within {price}"
    if not req.reduce_only and req.type in (OrderType.MARKET, OrderType.LIMIT):
        signed = req.qty * req.side.sign
        opening = abs(pos + signed) - abs(pos) if (pos + signed) * pos >= 0 else abs(pos + signed)
        if opening > 0:
            notional = abs(float(pos + signed)) * price
            cap = ex.margin.tier(notional).max_leverage
            if ex.leverage > cap:  # the position would enter a bracket that allows less than the account's leverage
                return vc.MAX_LEVERAGE_RATIO, (f"a position of {notional:.2f} notional allows at most "
                                               f"{cap}x; the account is at {ex.leverage}x")
            # open orders reserve margin, netted against the position as it would be after this order
            account = ex.account_report()
            reserved = open_order_margin(pos + signed, mid, ex.resting, ex.leverage)
            available = account.equity - ex.book.initial_margin(mid, ex.leverage) - reserved
            need = float(opening) * price / ex.leverage + float(req.qty) * price * ex.rules.taker_fee
            if need > available:
                return vc.MARGIN_NOT_SUFFICIENT, f"needs {need:.2f} margin, {available:.2f} available"
    return OK


def trigger_would_fire(path: PricePath, otype: OrderType, side: Side, trig: float, series: str, now: int) -> str:
    """Why a trigger order would fire the moment it is placed ('' when it would not)."""
    price = path.price_at(series, now)
    rise = trigger_fires_on_rise(otype, side)
    if (rise and price >= trig) or (not rise and price <= trig):
        return f"trigger {trig} would fire at once ({series} {price:.2f})"
    return ""
