"""Request parameters as Binance reads them: query string and form body, for every method.

Clients differ (ccxt puts POST parameters in the body, the official SDK everything in the query,
python-binance sends DELETE parameters in the body); where a name is in both, the query wins.
Typed getters refuse with Binance's codes (-1102 missing, -1100 illegal characters, -1130
invalid value), naming the parameter.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from sim.serve.errors import bad, illegal, invalid_value, mandatory

_DECIMAL = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_INT = re.compile(r"^-?[0-9]{1,20}$")
_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")


class Params:
    """Read-only view of one request's parameters (query wins over body)."""

    def __init__(self, query: str, body: str) -> None:
        merged: dict[str, str] = {}
        for part in (body, query):  # query last: it wins
            for k, v in parse_qsl(part, keep_blank_values=True):
                merged[k] = v
        self.values = merged

    def __contains__(self, name: str) -> bool:
        return bool(self.values.get(name, ""))

    def str(self, name: str, required: bool = False, default: str | None = None) -> str | None:
        v = self.values.get(name, "")
        if v == "":
            if required:
                raise mandatory(name)
            return default
        return v

    def decimal(self, name: str, required: bool = False) -> Decimal | None:
        v = self.str(name, required)
        if v is None:
            return None
        if not _DECIMAL.match(v):
            raise illegal(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
        try:
            return Decimal(v)
        except InvalidOperation:
            raise illegal(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$") from None

    def int(self, name: str, required: bool = False, default: int | None = None, lo: int | None = None,
            hi: int | None = None) -> int | None:
        v = self.str(name, required)
        if v is None:
            return default
        if not _INT.match(v):
            raise illegal(name, "^-?[0-9]{1,20}$")
        n = int(v)
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise invalid_value(name, f"It must be between {lo} and {hi}.")
        return n

    def bool(self, name: str, default: bool = False) -> bool:
        v = self.str(name)
        if v is None:
            return default
        if v.lower() not in ("true", "false"):
            raise invalid_value(name, "Use 'true' or 'false'.")
        return v.lower() == "true"

    def choice(self, name: str, options: tuple[str, ...], required: bool = False, default: str | None = None,
               code: int = -1130) -> str | None:
        v = self.str(name, required, default)
        if v is not None and v not in options:
            if code == -1130:
                raise invalid_value(name, f"Expected one of {', '.join(options)}.")
            raise bad(code, _CHOICE_MSG.get(code, f"Invalid {name}."))
        return v

    def client_id(self, name: str) -> str | None:
        v = self.str(name)
        if v is not None and not _CLIENT_ID.match(v):
            raise bad(-4015, "Client order id is not valid.")
        return v


_CHOICE_MSG = {-1116: "Invalid orderType.", -1117: "Invalid side.", -1115: "Invalid timeInForce.",
               -1120: "Invalid interval."}
