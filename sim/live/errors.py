"""ccxt's exceptions and Binance's error codes, translated to the bot's error tree at the edge.

One table, walked top to bottom, first match wins: the Binance code in the answer's body, then a
code-less body's message (a 503 says in words whether the request failed or its outcome is
unknown), then ccxt's exception class, most specific first. Each row says what the bot must
believe for a request that *acts* (submit, cancel, amend) and for a *read*: for an act, silence
means the order may exist (`RequestTimeout`: resolve by lookup, never by resend); for a read, it
only means "ask again" or "the venue is away".

Why codes first: ccxt maps Binance's futures codes to its own classes only on Binance's own hosts
(``https://fapi.binance.com/...``); against any other URL (``aethersim serve``, a proxy) -2019,
-2021, -2022, -4116, -4131 and -4164 all arrive as a bare ``ExchangeError`` (research note §B3).

Configuration problems (bad keys, wrong symbol) are not venue answers the bot can act on: they
raise `LiveConfigError`, which stops the run with a message that names what to change. No message
produced here ever carries a key, a secret or a request signature (`scrub`).
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from enum import StrEnum

import ccxt

from sim.core import venue_codes
from sim.core.errors import ExchangeError, RateLimited, Rejected, RequestTimeout, Unavailable
from sim.core.types import RejectReason as R

DEFAULT_RETRY_AFTER_MS = 1_000  # ccxt does not surface Retry-After on its exceptions


class LiveConfigError(RuntimeError):
    """The venue refused who we are or what we asked for in a way only the user can fix."""


class To(StrEnum):
    """What kind of error the bot gets (the reason, for a reject, is the row's)."""

    REJECTED = "rejected"
    TIMEOUT = "timeout"  # outcome unknown
    UNAVAILABLE = "unavailable"  # the request failed; back off, then reconcile
    RATE_LIMITED = "rate_limited"
    CONFIG = "config"  # stop: the user must change something


@dataclass(frozen=True, slots=True)
class Row:
    """One translation: ``match`` is a Binance code (int), a message fragment (str, for code-less
    bodies) or a ccxt exception class; ``act`` / ``read`` what a request that acts / reads gets."""

    match: int | str | type[BaseException]
    act: To
    read: To
    reason: R = R.INVALID  # for To.REJECTED
    why: str = ""


def _rej(match: int | str | type[BaseException], reason: R, why: str = "") -> Row:
    return Row(match, To.REJECTED, To.REJECTED, reason, why)


def _same(match: int | str | type[BaseException], to: To, why: str = "") -> Row:
    return Row(match, to, to, R.INVALID, why)


TABLE: tuple[Row, ...] = (
    # ---- Binance codes (the body's "code"), as USD-M documents them
    _same(-1000, To.TIMEOUT, "an unknown error: the request may have executed"),
    _same(-1001, To.UNAVAILABLE, "internal error, unable to process: failed, try again"),
    _same(-1003, To.RATE_LIMITED, "too many requests (429 / 418)"),
    _same(-1006, To.TIMEOUT, "unexpected response from the message bus: execution status unknown"),
    _same(-1007, To.TIMEOUT, "timeout waiting for the backend: execution status unknown"),
    _same(-1008, To.UNAVAILABLE, "server overloaded: request throttled, not executed"),
    _same(-1015, To.RATE_LIMITED, "too many new orders"),
    _same(-1022, To.CONFIG, "the signature is not valid: check the API secret"),
    _same(-2014, To.CONFIG, "the API key's format is invalid"),
    _same(-2015, To.CONFIG, "invalid API key, IP or permissions"),
    _same(-1121, To.CONFIG, "invalid symbol: the scenario's [market] symbol is not listed by the venue"),
    # the refusals the venue models, with the reasons it gives them (one source: sim.core.venue_codes)
    *(_rej(v.code, v.reason, v.name) for v in venue_codes.ALL if v.code != -1121),
    # refusals Binance documents that the simulated venue does not produce
    _rej(-1013, R.INVALID, "filter failure"),
    _rej(-2018, R.INSUFFICIENT_MARGIN, "balance is insufficient"),
    _rej(-4028, R.LEVERAGE_TOO_HIGH, "leverage not valid"),
    _rej(-1021, R.INVALID, "timestamp outside the receive window: refused, not executed"),
    _rej(-5028, R.INVALID, "timestamp outside the matching engine's receive window"),
    # ---- a body with no code: a 503's words say which of Binance's three cases it is
    _same("Unknown error, please check your request", To.TIMEOUT, "503 unknown status: may have executed"),
    _same("Service Unavailable", To.UNAVAILABLE, "503 service unavailable: failed"),
    _same("Internal error; unable to process your request", To.UNAVAILABLE, "503 internal error: failed"),
    # ---- ccxt's classes, most specific first (its hierarchy: base/errors.py)
    _same(ccxt.RateLimitExceeded, To.RATE_LIMITED),
    _same(ccxt.DDoSProtection, To.RATE_LIMITED, "418 / 429"),
    _same(ccxt.RequestTimeout, To.TIMEOUT, "no answer in time"),
    _rej(ccxt.InvalidNonce, R.INVALID, "clock skew: refused, not executed"),
    Row(ccxt.ExchangeNotAvailable, To.TIMEOUT, To.UNAVAILABLE, why="5xx or HTML page: an order may have executed"),
    Row(ccxt.NetworkError, To.TIMEOUT, To.UNAVAILABLE, why="the connection failed mid-request"),
    _same(ccxt.AuthenticationError, To.CONFIG, "the venue refused the API key (also: no permission, suspended)"),
    _same(ccxt.BadSymbol, To.CONFIG, "symbol not listed"),
    _rej(ccxt.OrderNotFound, R.UNKNOWN_ORDER),
    _rej(ccxt.InsufficientFunds, R.INSUFFICIENT_MARGIN),
    _rej(ccxt.OrderImmediatelyFillable, R.WOULD_TRIGGER_IMMEDIATELY),
    _rej(ccxt.DuplicateOrderId, R.DUPLICATE_CLIENT_ID),
    _rej(ccxt.InvalidOrder, R.INVALID),
    _rej(ccxt.BadRequest, R.INVALID),
    _rej(ccxt.ExchangeError, R.INVALID, "the venue refused, in words we do not classify"),
    Row(ccxt.OperationFailed, To.TIMEOUT, To.UNAVAILABLE, why="failed without saying whether it executed"),
    # ---- below ccxt: the socket or the event loop gave up
    Row(asyncio.TimeoutError, To.TIMEOUT, To.TIMEOUT, why="no answer in time"),
    Row(OSError, To.TIMEOUT, To.UNAVAILABLE, why="the connection failed"),
)

_CODE = re.compile(r'"code"\s*:\s*"?(-?\d+)')
_SIGNATURE = re.compile(r"(signature=)[0-9A-Za-z%+/=_-]+")


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """The message without request signatures and without any of ``secrets`` (keys, secrets)."""
    text = _SIGNATURE.sub(r"\1<hidden>", text)
    for s in secrets:
        if len(s) >= 4:  # a shorter "secret" cannot be told from ordinary text
            text = text.replace(s, "<hidden>")
    return text


def binance_code(exc: BaseException) -> int | None:
    """The Binance error code in an exception's message (ccxt puts the body there), if any."""
    m = _CODE.search(str(exc))
    return int(m.group(1)) if m else None


def row_for(exc: BaseException) -> Row | None:
    """The first row of `TABLE` that matches ``exc``."""
    code = binance_code(exc)
    text = str(exc)
    for row in TABLE:
        m = row.match
        if isinstance(m, int):
            if code == m:
                return row
        elif isinstance(m, str):
            if code is None and m in text:
                return row
        elif isinstance(exc, m):
            return row
    return None


def translate(exc: BaseException, *, acts: bool, ts: int, what: str, retry_after_ms: int | None = None,
              secrets: tuple[str, ...] = ()) -> ExchangeError:
    """The bot's error for ``exc`` raised by a request (``what`` names it) that acts or reads.

    Raises `LiveConfigError` for a configuration problem, and re-raises ``exc`` itself when no row
    matches (a bug of ours or of ccxt's: never guessed into a venue answer).
    """
    row = row_for(exc)
    if row is None:
        raise exc
    to = row.act if acts else row.read
    detail = scrub(f"{what}: {type(exc).__name__}: {exc}", secrets)
    if to is To.CONFIG:
        raise LiveConfigError(f"the venue refused the request ({row.why or type(exc).__name__}): {detail}") from None
    if to is To.REJECTED:
        return Rejected(row.reason, detail, ts)
    if to is To.RATE_LIMITED:
        return RateLimited(retry_after_ms if retry_after_ms else DEFAULT_RETRY_AFTER_MS, ts)
    if to is To.UNAVAILABLE:
        return Unavailable(detail, ts)
    return RequestTimeout(detail, ts)


__all__ = ["TABLE", "LiveConfigError", "Row", "To", "binance_code", "row_for", "scrub", "translate"]
