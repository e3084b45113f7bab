"""Enums and id types that name domain values.

Distinct id types (client, venue, trade) keep a venue's id from being used where ours is meant.
"""
from __future__ import annotations

from enum import StrEnum
from typing import NewType

ClientOrderId = NewType("ClientOrderId", str)
VenueOrderId = NewType("VenueOrderId", str)
TradeId = NewType("TradeId", str)
AlgoOrderId = NewType("AlgoOrderId", str)  # the venue's id of a conditional (algo) order


class Side(StrEnum):
    """Order side."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class PositionSide(StrEnum):
    """Side of a (one-way) position or of a strategy's target."""

    FLAT = "flat"
    LONG = "long"
    SHORT = "short"

    @staticmethod
    def of(qty: object) -> PositionSide:
        """The side of a signed quantity."""
        if qty > 0:  # type: ignore[operator]
            return PositionSide.LONG
        if qty < 0:  # type: ignore[operator]
            return PositionSide.SHORT
        return PositionSide.FLAT


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"  # stop-loss: market order once the trigger is crossed
    TAKE_PROFIT_MARKET = "take_profit_market"  # take-profit: market order once the trigger is crossed


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    POST_ONLY = "post_only"  # Binance GTX: refused (-5022) if it would take
    FOK = "fok"  # fill whole at once or be refused (-5021)


class TriggerBy(StrEnum):
    """Which price a native TP/SL watches."""

    MARK = "mark"
    LAST = "last"


class OrderStatus(StrEnum):
    """Lifecycle of an order as the platform sees it.

    NEW and SENT exist only in the platform record (the venue never saw a NEW order); UNKNOWN
    means a request timed out and the venue's answer must be fetched before anything else.
    """

    NEW = "new"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def is_open(self) -> bool:
        return self in _OPEN

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_OPEN = frozenset({OrderStatus.ACKNOWLEDGED, OrderStatus.PARTIALLY_FILLED})
_FINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


class AlgoStatus(StrEnum):
    """Lifecycle of a conditional order in the venue's algo service (Binance USD-M since 2025-12).

    NEW: waiting for its trigger. TRIGGERING: the condition was met and a market order is being
    sent to the matching engine. TRIGGERED: that (child) order exists, named by ``actual_order_id``.
    FINISHED: the child order was filled or ended. CANCELLED / EXPIRED / REJECTED: ended without,
    or with a refused, child order.
    """

    NEW = "new"
    CANCELLED = "cancelled"
    TRIGGERING = "triggering"
    TRIGGERED = "triggered"
    FINISHED = "finished"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        """Still listed among the open algo orders (it can still trigger, or is triggering)."""
        return self in _ALGO_OPEN


_ALGO_OPEN = frozenset({AlgoStatus.NEW, AlgoStatus.TRIGGERING})


class RejectReason(StrEnum):
    """Why the venue refused a request: the bot's next action depends on it."""

    INSUFFICIENT_MARGIN = "insufficient_margin"
    REDUCE_ONLY_WOULD_INCREASE = "reduce_only_would_increase"
    BELOW_MIN_QTY = "below_min_qty"
    BELOW_MIN_NOTIONAL = "below_min_notional"
    PRICE_OUT_OF_BAND = "price_out_of_band"
    WOULD_TRIGGER_IMMEDIATELY = "would_trigger_immediately"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    LEVERAGE_TOO_HIGH = "leverage_too_high"
    DUPLICATE_CLIENT_ID = "duplicate_client_id"
    UNKNOWN_ORDER = "unknown_order"
    ABOVE_MAX_QTY = "above_max_qty"
    WOULD_NOT_FILL = "would_not_fill"  # a fill-or-kill order the book could not fill whole
    INVALID = "invalid"


class FillKind(StrEnum):
    """What produced a fill, as the venue reports it."""

    TRADE = "trade"  # an order of the account traded
    LIQUIDATION = "liquidation"  # the venue closed the position


class Action(StrEnum):
    """What the engine decided to do with the position."""

    OPEN = "open"
    CLOSE = "close"
    FLIP = "flip"
    INCREASE = "increase"
    REDUCE = "reduce"
    HOLD = "hold"


class OrderRole(StrEnum):
    """Why the bot placed an order; encoded in its client id so the venue's reports attribute it."""

    ENTRY = "en"
    EXIT = "ex"
    TAKE_PROFIT = "tp"
    STOP_LOSS = "sl"


class DriftCause(StrEnum):
    """Why the record and the venue disagreed, as far as the evidence shows."""

    TAKE_PROFIT_FILL = "take_profit_fill"
    STOP_LOSS_FILL = "stop_loss_fill"
    LIQUIDATION = "liquidation"
    EXTERNAL_CHANGE = "external_change"
    PARTIAL_FILL = "partial_fill"
    MISSED_FILL = "missed_fill"
    ORDER_VANISHED = "order_vanished"
    UNKNOWN_ORDER = "unknown_order"
    PROTECTIVE_MISMATCH = "protective_mismatch"
    RESTART = "restart"
    UNEXPLAINED = "unexplained"
