"""The venue's order checks: every reason it refuses an order, each with its reject code."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sim.core.messages import SubmitOrder
from sim.core.types import OrderType, RejectReason, Side, TimeInForce
from sim.world.market import PricePath
from sim.world.venue_orders import trigger_fires_on_rise

if TYPE_CHECKING:
    from sim.world.exchange import SimExchange


def forced_reject(windows: list[tuple[int, int, RejectReason]], now: int) -> tuple[RejectReason | None, str]:
    """A `reject_orders` window in force refuses the bot's orders with its reason (None: none in force)."""
    for start, end, reason in windows:
        if start <= now < end:
            return reason, "refused during a reject_orders window"
    return None, ""


def check_order(ex: SimExchange, req: SubmitOrder, now: int) -> tuple[RejectReason | None, str]:
    """The venue's reason to refuse an order (None: accept), with a message for the bot's log."""
    inst = ex.instrument
    if req.client_id in ex.orders:
        return RejectReason.DUPLICATE_CLIENT_ID, f"client id {req.client_id} already used"
    if req.qty <= 0 or req.qty % inst.lot_size:
        return RejectReason.INVALID, f"quantity {req.qty} is not a positive multiple of {inst.lot_size}"
    if req.qty < inst.min_qty:
        return RejectReason.BELOW_MIN_QTY, f"quantity {req.qty} < min {inst.min_qty}"
    mid = ex.path.mid_at(now)
    price = mid
    if req.type is OrderType.LIMIT:
        if req.price is None or req.price <= 0:
            return RejectReason.INVALID, "a limit order needs a positive price"
        price = float(req.price)
        if abs(price / mid - 1.0) > ex.rules.price_band_pct:
            return RejectReason.PRICE_OUT_OF_BAND, (f"limit {price} is more than {ex.rules.price_band_pct:.1%}"
                                                    f" from mark {mid:.2f}")
        bid, ask = ex.liquidity.at(now).touch(mid)
        eps = 1e-9 * mid  # a price at the touch, whatever the float rounding of the touch itself
        if req.time_in_force is TimeInForce.POST_ONLY and \
                (price >= ask - eps if req.side is Side.BUY else price <= bid + eps):
            return RejectReason.POST_ONLY_WOULD_TAKE, f"post-only {req.side.value} at {price} would take"
    if req.type in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET):
        if req.trigger_price is None:
            return RejectReason.INVALID, "a trigger order needs trigger_price"
        reason = trigger_would_fire(ex.path, req.type, req.side, float(req.trigger_price), req.trigger_by.value, now)
        if reason:
            return RejectReason.WOULD_TRIGGER_IMMEDIATELY, reason
    if not req.reduce_only and float(req.qty) * price < float(inst.min_notional):
        return RejectReason.BELOW_MIN_NOTIONAL, f"notional {float(req.qty) * price:.2f} < {inst.min_notional}"
    pos = ex.book.qty
    if req.reduce_only and (pos == 0 or (pos > 0) == (req.side is Side.BUY)):
        return RejectReason.REDUCE_ONLY_WOULD_INCREASE, f"reduce-only {req.side.value} against position {pos}"
    if not req.reduce_only and req.type in (OrderType.MARKET, OrderType.LIMIT):
        signed = req.qty * req.side.sign
        opening = abs(pos + signed) - abs(pos) if (pos + signed) * pos >= 0 else abs(pos + signed)
        if opening > 0:
            notional = abs(float(pos + signed)) * price
            cap = ex.margin.tier(notional).max_leverage
            if ex.leverage > cap:  # the position would enter a bracket that allows less than the account's leverage
                return RejectReason.LEVERAGE_TOO_HIGH, (f"a position of {notional:.2f} notional allows at most "
                                                        f"{cap}x; the account is at {ex.leverage}x")
            available = ex.account_report().available_margin
            need = float(opening) * price / ex.leverage + float(req.qty) * price * ex.rules.taker_fee
            if need > available:
                return RejectReason.INSUFFICIENT_MARGIN, f"needs {need:.2f} margin, {available:.2f} available"
    return None, ""


def trigger_would_fire(path: PricePath, otype: OrderType, side: Side, trig: float, series: str, now: int) -> str:
    """Why a trigger order would fire the moment it is placed ('' when it would not)."""
    price = path.price_at(series, now)
    rise = trigger_fires_on_rise(otype, side)
    if (rise and price >= trig) or (not rise and price <= trig):
        return f"trigger {trig} would fire at once ({series} {price:.2f})"
    return ""
