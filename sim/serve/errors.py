"""Errors as Binance USD-M answers them: an HTTP status, a code and a message (or no code).

Every refusal the server makes is one of these, raised anywhere in a handler and turned into a
response at the edge, so a client sees Binance's shapes and never a traceback.
"""
from __future__ import annotations

from sim.core import venue_codes as vc
from sim.core.errors import Rejected

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


def rejected(exc: Rejected, min_notional: object = "") -> BinanceError:
    """A venue refusal as Binance answers it: the venue's own code when it gives one (it does for every
    order check), else the code Binance uses for the reason."""
    code = vc.BY_CODE.get(exc.code) if exc.code is not None else None  # type: ignore[arg-type]
    if code is None:
        code = vc.FOR_REASON.get(exc.reason, vc.NEW_ORDER_REJECTED)
    msg = code.text(min_notional) if "{}" in code.message else code.message
    return bad(code.code, msg)
