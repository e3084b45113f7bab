"""Errors as Binance USD-M answers them: an HTTP status, a code and a message (or no code).

Every refusal the server makes is one of these, raised anywhere in a handler and turned into a
response at the edge, so a client sees Binance's shapes and never a traceback.
"""
from __future__ import annotations

from sim.core.types import RejectReason

UNKNOWN_STATUS_MSG = "Unknown error, please check your request or try again later."
UNAVAILABLE_MSG = "Service Unavailable."


class BinanceError(Exception):
    """``{"code": code, "msg": msg}`` with ``status``; ``code=None`` gives Binance's code-less 503 body."""

    def __init__(self, status: int, code: int | None, msg: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.status = status
        self.code = code
        self.msg = msg
        self.headers = headers or {}

    def body(self, path: str, server_ms: int) -> dict:
        if self.code is None:  # what Binance's gateway sends for a 503: no code, a timestamp and the path
            return {"timestamp": server_ms, "path": path, "msg": self.msg}
        return {"code": self.code, "msg": self.msg}


def bad(code: int, msg: str, status: int = 400) -> BinanceError:
    return BinanceError(status, code, msg)


def mandatory(name: str) -> BinanceError:
    return bad(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def illegal(name: str, value: str) -> BinanceError:
    return bad(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{value}'.")


def invalid_value(name: str, why: str = "") -> BinanceError:
    return bad(-1130, f"Data sent for parameter '{name}' is not valid." + (f" {why}" if why else ""))


def unknown_status() -> BinanceError:
    """The gateway heard nothing back in time: the request may or may not have been executed."""
    return BinanceError(503, None, UNKNOWN_STATUS_MSG)


def unavailable() -> BinanceError:
    return BinanceError(503, None, UNAVAILABLE_MSG)


# the venue's reasons to refuse an order, as Binance codes them
REJECT_CODES: dict[RejectReason, tuple[int, str]] = {
    RejectReason.INSUFFICIENT_MARGIN: (-2019, "Margin is insufficient."),
    RejectReason.REDUCE_ONLY_WOULD_INCREASE: (-2022, "ReduceOnly Order is rejected."),
    RejectReason.BELOW_MIN_QTY: (-4003, "Quantity less than or equal to zero."),
    RejectReason.BELOW_MIN_NOTIONAL: (-4164, "Order's notional must be no smaller than {min} (unless you choose "
                                             "reduce only)."),
    RejectReason.PRICE_OUT_OF_BAND: (-4131, "The counterparty's best price does not meet the PERCENT_PRICE filter "
                                            "limit."),
    RejectReason.WOULD_TRIGGER_IMMEDIATELY: (-2021, "Order would immediately trigger."),
    RejectReason.POST_ONLY_WOULD_TAKE: (-5022, "Due to the order could not be executed as maker, the Post Only order "
                                               "will be rejected."),
    RejectReason.LEVERAGE_TOO_HIGH: (-2027, "Exceeded the maximum allowable position at current leverage."),
    RejectReason.DUPLICATE_CLIENT_ID: (-4116, "ClientOrderId is duplicated."),
    RejectReason.UNKNOWN_ORDER: (-2011, "Unknown order sent."),
    RejectReason.INVALID: (-1130, "Data sent for parameter is not valid."),
}


def rejected(reason: RejectReason, detail: str, min_notional: object = "") -> BinanceError:
    code, msg = REJECT_CODES[reason]
    msg = msg.format(min=min_notional)
    return bad(code, f"{msg} ({detail})" if detail and reason is RejectReason.INVALID else msg)
