"""Binance USD-M's error codes for what a venue refuses, each with its name and message.

A `Rejected` carries one of these (``code``, ``code_name``) beside its `RejectReason`: the reason
is what the bot decides by, the code is what a live venue says (what a reader compares with
Binance's documentation, and what ``summary.json`` counts rejections by). Messages are Binance's,
``{}`` placeholders filled with the figures of the case.
"""
from __future__ import annotations

from dataclasses import dataclass

from sim.core.types import RejectReason


@dataclass(frozen=True, slots=True)
class VenueCode:
    code: int
    name: str
    message: str
    reason: RejectReason

    def text(self, *args: object) -> str:
        return self.message.format(*args) if args else self.message


_R = RejectReason
BAD_SYMBOL = VenueCode(-1121, "BAD_SYMBOL", "Invalid symbol.", _R.INVALID)
MANDATORY_PARAM = VenueCode(-1102, "MANDATORY_PARAM_EMPTY_OR_MALFORMED",
                            "Mandatory parameter '{}' was not sent, was empty/null, or malformed.", _R.INVALID)
PARAM_NOT_REQUIRED = VenueCode(-1106, "PARAM_NOT_REQUIRED", "Parameter '{}' sent when not required.", _R.INVALID)
BAD_PRECISION = VenueCode(-1111, "BAD_PRECISION", "Precision is over the maximum defined for this asset.", _R.INVALID)
INVALID_ORDER_TYPE = VenueCode(-1116, "INVALID_ORDER_TYPE", "Invalid orderType.", _R.INVALID)
CANCEL_REJECTED = VenueCode(-2011, "CANCEL_REJECTED", "Unknown order sent.", _R.UNKNOWN_ORDER)
NO_SUCH_ORDER = VenueCode(-2013, "NO_SUCH_ORDER", "Order does not exist.", _R.UNKNOWN_ORDER)
MARGIN_NOT_SUFFICIENT = VenueCode(-2019, "MARGIN_NOT_SUFFICIEN", "Margin is insufficient.", _R.INSUFFICIENT_MARGIN)
WOULD_TRIGGER = VenueCode(-2021, "ORDER_WOULD_IMMEDIATELY_TRIGGER", "Order would immediately trigger.",
                          _R.WOULD_TRIGGER_IMMEDIATELY)
REDUCE_ONLY_REJECT = VenueCode(-2022, "REDUCE_ONLY_REJECT", "ReduceOnly Order is rejected.",
                               _R.REDUCE_ONLY_WOULD_INCREASE)
MAX_LEVERAGE_RATIO = VenueCode(-2027, "MAX_LEVERAGE_RATIO",
                               "Exceeded the maximum allowable position at current leverage.", _R.LEVERAGE_TOO_HIGH)
MIN_LEVERAGE_RATIO = VenueCode(-2028, "MIN_LEVERAGE_RATIO",
                               "Leverage is smaller than permitted: insufficient margin balance.",
                               _R.INSUFFICIENT_MARGIN)
QTY_LESS_THAN_ZERO = VenueCode(-4003, "QTY_LESS_THAN_ZERO", "Quantity less than or equal to zero.", _R.INVALID)
QTY_LESS_THAN_MIN_QTY = VenueCode(-4004, "QTY_LESS_THAN_MIN_QTY", "Quantity less than min quantity.",
                                  _R.BELOW_MIN_QTY)
QTY_GREATER_THAN_MAX_QTY = VenueCode(-4005, "QTY_GREATER_THAN_MAX_QTY", "Quantity greater than max quantity.",
                                     _R.ABOVE_MAX_QTY)
PRICE_NOT_BY_TICK = VenueCode(-4014, "PRICE_NOT_INCREASED_BY_TICK_SIZE", "Price not increased by tick size.",
                              _R.INVALID)
INVALID_CLIENT_ID = VenueCode(-4015, "INVALID_CL_ORD_ID_LEN", "Client order id is not valid.", _R.INVALID)
PRICE_ABOVE_MULTIPLIER_UP = VenueCode(-4016, "PRICE_HIGHTER_THAN_MULTIPLIER_UP",
                                      "Price is higher than mark price multiplier cap.", _R.PRICE_OUT_OF_BAND)
QTY_NOT_BY_STEP = VenueCode(-4023, "QTY_NOT_INCREASED_BY_STEP_SIZE", "Qty not increased by step size.", _R.INVALID)
PRICE_BELOW_MULTIPLIER_DOWN = VenueCode(-4024, "PRICE_LOWER_THAN_MULTIPLIER_DOWN",
                                        "Price is lower than mark price multiplier floor.", _R.PRICE_OUT_OF_BAND)
DUPLICATED_CLIENT_ID = VenueCode(-4116, "DUPLICATED_CLIENT_ORDER_ID", "clientOrderId is duplicated.",
                                 _R.DUPLICATE_CLIENT_ID)
REDUCE_ONLY_MARGIN_CHECK = VenueCode(-4118, "REDUCE_ONLY_MARGIN_CHECK_FAILED",
                                     "ReduceOnly Order Failed. Please check your existing position and open orders",
                                     _R.REDUCE_ONLY_WOULD_INCREASE)
STOP_ORDER_SWITCH_ALGO = VenueCode(-4120, "STOP_ORDER_SWITCH_ALGO",
                                   "Order type not supported for this endpoint. Please use the Algo Order API "
                                   "endpoints instead.", _R.INVALID)
MARKET_ORDER_REJECT = VenueCode(-4131, "MARKET_ORDER_REJECT",
                                "The counterparty's best price does not meet the PERCENT_PRICE filter limit.",
                                _R.PRICE_OUT_OF_BAND)
QTY_WITH_CLOSE_POSITION = VenueCode(-4137, "QUANTITY_EXISTS_WITH_CLOSE_POSITION",
                                    "Quantity must be zero with closePosition equals true", _R.INVALID)
MIN_NOTIONAL = VenueCode(-4164, "MIN_NOTIONAL",
                         "Order's notional must be no smaller than {} (unless you choose reduce only).",
                         _R.BELOW_MIN_NOTIONAL)
FOK_ORDER_REJECT = VenueCode(-5021, "FOK_ORDER_REJECT",
                             "Due to the order could not be filled immediately, the FOK order has been rejected. "
                             "The order will not be recorded in the order history", _R.WOULD_NOT_FILL)
GTX_ORDER_REJECT = VenueCode(-5022, "GTX_ORDER_REJECT",
                             "Due to the order could not be executed as maker, the Post Only order will be rejected. "
                             "The order will not be recorded in the order history", _R.POST_ONLY_WOULD_TAKE)
NEW_ORDER_REJECTED = VenueCode(-2010, "NEW_ORDER_REJECTED", "NEW_ORDER_REJECTED", _R.INVALID)

ALL = tuple(v for v in globals().values() if isinstance(v, VenueCode))
BY_CODE = {v.code: v for v in ALL}
# the code a refusal for a bare reason carries (a scenario's `reject_orders` window names only the reason)
FOR_REASON = {_R.INSUFFICIENT_MARGIN: MARGIN_NOT_SUFFICIENT, _R.REDUCE_ONLY_WOULD_INCREASE: REDUCE_ONLY_REJECT,
              _R.BELOW_MIN_QTY: QTY_LESS_THAN_MIN_QTY, _R.BELOW_MIN_NOTIONAL: MIN_NOTIONAL,
              _R.PRICE_OUT_OF_BAND: MARKET_ORDER_REJECT, _R.WOULD_TRIGGER_IMMEDIATELY: WOULD_TRIGGER,
              _R.POST_ONLY_WOULD_TAKE: GTX_ORDER_REJECT, _R.LEVERAGE_TOO_HIGH: MAX_LEVERAGE_RATIO,
              _R.DUPLICATE_CLIENT_ID: DUPLICATED_CLIENT_ID, _R.UNKNOWN_ORDER: NO_SUCH_ORDER,
              _R.ABOVE_MAX_QTY: QTY_GREATER_THAN_MAX_QTY, _R.WOULD_NOT_FILL: FOK_ORDER_REJECT,
              _R.INVALID: NEW_ORDER_REJECTED}
