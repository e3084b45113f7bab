"""The live error table, row by row, through ccxt's own error handling.

Each case is what a venue answers (HTTP status and body, Binance's shapes) or what the network
does; ccxt's ``binanceusdm`` turns it into its exception exactly as it would at run time (its
``handle_errors`` / ``handle_http_status_code`` on a local URL, where ccxt does not apply
Binance's futures code table), and `translate` must give the bot's error the table promises.
"""
from __future__ import annotations

import json

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from sim.core import venue_codes
from sim.core.errors import RateLimited, Rejected, RequestTimeout, Unavailable
from sim.core.types import RejectReason as R
from sim.live.errors import TABLE, LiveConfigError, To, row_for, scrub, translate

URL = "http://127.0.0.1:8080/fapi/v1/order"


def raised(status: int, body: str) -> BaseException:
    """The exception ccxt's binanceusdm raises for this answer from a local URL."""
    ex = ccxt_async.binanceusdm()
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        parsed = None
    try:
        ex.handle_errors(status, "x", URL, "POST", {}, body, parsed, {}, "")
        ex.handle_http_status_code(status, "x", URL, "POST", body)
    except Exception as exc:  # noqa: BLE001 - what we are testing
        return exc
    raise AssertionError(f"ccxt raised nothing for {status} {body}")


def binance(code: int, msg: str = "x", status: int = 400) -> BaseException:
    return raised(status, json.dumps({"code": code, "msg": msg}))


# every refusal the simulated venue answers with, and the reason it means there (sim.core.venue_codes),
# plus the ones Binance documents that the venue does not produce
REJECT_CODES = {v.code: v.reason for v in venue_codes.ALL if v.code != -1121}
REJECT_CODES.update({-1013: R.INVALID, -2018: R.INSUFFICIENT_MARGIN, -4028: R.LEVERAGE_TOO_HIGH, -1021: R.INVALID,
                     -5028: R.INVALID})
# code -> (error for an act, error for a read)
OTHER_CODES = {
    -1000: (RequestTimeout, RequestTimeout), -1001: (Unavailable, Unavailable), -1006: (RequestTimeout, RequestTimeout),
    -1007: (RequestTimeout, RequestTimeout), -1008: (Unavailable, Unavailable),
}


@pytest.mark.parametrize("code,reason", sorted(REJECT_CODES.items()))
def test_binance_reject_codes(code: int, reason: R) -> None:
    """The reason the bot gets is the one the simulated venue means by the same code."""
    for acts in (True, False):
        err = translate(binance(code), acts=acts, ts=5, what="SubmitOrder")
        assert isinstance(err, Rejected) and err.reason is reason and err.ts == 5


@pytest.mark.parametrize("code,kinds", sorted(OTHER_CODES.items()))
def test_binance_unknown_and_failed_codes(code: int, kinds: tuple[type, type]) -> None:
    status = 408 if code == -1007 else 400
    assert type(translate(binance(code, status=status), acts=True, ts=1, what="x")) is kinds[0]
    assert type(translate(binance(code, status=status), acts=False, ts=1, what="x")) is kinds[1]


@pytest.mark.parametrize("code,status", [(-1003, 429), (-1003, 418), (-1015, 429), (-1015, 400)])
def test_rate_limits_back_off(code: int, status: int) -> None:
    err = translate(binance(code, status=status), acts=True, ts=1, what="SubmitOrder", retry_after_ms=3000)
    assert isinstance(err, RateLimited) and err.retry_after_ms == 3000
    err = translate(binance(code, status=status), acts=False, ts=1, what="FetchPositions")
    assert isinstance(err, RateLimited) and err.retry_after_ms > 0


@pytest.mark.parametrize("code", [-1022, -2014, -2015, -1121])
def test_configuration_codes_stop_the_run(code: int) -> None:
    with pytest.raises(LiveConfigError):
        translate(binance(code), acts=True, ts=1, what="SubmitOrder")


def test_503_unknown_status_is_a_timeout_for_orders_and_reads() -> None:
    body = json.dumps({"timestamp": 1, "path": "/fapi/v1/order",
                       "msg": "Unknown error, please check your request or try again later."})
    exc = raised(503, body)
    assert isinstance(exc, ccxt.ExchangeNotAvailable)
    assert isinstance(translate(exc, acts=True, ts=1, what="SubmitOrder"), RequestTimeout)
    assert isinstance(translate(exc, acts=False, ts=1, what="FetchOrder"), RequestTimeout)


def test_503_service_unavailable_failed_for_certain() -> None:
    for msg in ("Service Unavailable.", "Internal error; unable to process your request. Please try again."):
        exc = raised(503, json.dumps({"msg": msg}))
        assert isinstance(translate(exc, acts=True, ts=1, what="SubmitOrder"), Unavailable)


def test_an_html_5xx_on_an_order_is_status_unknown_and_on_a_read_unavailable() -> None:
    for status in (502, 503, 504):
        exc = raised(status, "<html><body>The request could not be satisfied</body></html>")
        assert isinstance(translate(exc, acts=True, ts=1, what="SubmitOrder"), RequestTimeout)
        read = translate(exc, acts=False, ts=1, what="FetchPositions")
        assert isinstance(read, RequestTimeout if isinstance(exc, ccxt.RequestTimeout) else Unavailable)


@pytest.mark.parametrize("exc,act,read", [
    (ccxt.RequestTimeout("t"), RequestTimeout, RequestTimeout),
    (ccxt.NetworkError("connection reset"), RequestTimeout, Unavailable),
    (ccxt.ExchangeNotAvailable("down"), RequestTimeout, Unavailable),
    (ccxt.OperationFailed("?"), RequestTimeout, Unavailable),
    (ccxt.DDoSProtection("slow down"), RateLimited, RateLimited),
    (ccxt.RateLimitExceeded("slow down"), RateLimited, RateLimited),
    (TimeoutError(), RequestTimeout, RequestTimeout),
    (ConnectionResetError(), RequestTimeout, Unavailable),
])
def test_ccxt_classes_without_a_code(exc: BaseException, act: type, read: type) -> None:
    assert type(translate(exc, acts=True, ts=1, what="x")) is act
    assert type(translate(exc, acts=False, ts=1, what="x")) is read


@pytest.mark.parametrize("exc,reason", [
    (ccxt.InsufficientFunds("m"), R.INSUFFICIENT_MARGIN), (ccxt.OrderNotFound("m"), R.UNKNOWN_ORDER),
    (ccxt.OrderImmediatelyFillable("m"), R.WOULD_TRIGGER_IMMEDIATELY),
    (ccxt.DuplicateOrderId("m"), R.DUPLICATE_CLIENT_ID), (ccxt.InvalidOrder("m"), R.INVALID),
    (ccxt.BadRequest("m"), R.INVALID), (ccxt.ExchangeError("m"), R.INVALID),
    (ccxt.InvalidNonce("m"), R.INVALID),
])
def test_ccxt_reject_classes(exc: BaseException, reason: R) -> None:
    err = translate(exc, acts=True, ts=1, what="SubmitOrder")
    assert isinstance(err, Rejected) and err.reason is reason


@pytest.mark.parametrize("exc", [ccxt.AuthenticationError("k"), ccxt.PermissionDenied("k"),
                                 ccxt.AccountSuspended("k"), ccxt.BadSymbol("k")])
def test_ccxt_configuration_classes(exc: BaseException) -> None:
    with pytest.raises(LiveConfigError):
        translate(exc, acts=False, ts=1, what="x")


def test_every_row_is_reachable_and_walked() -> None:
    """Each row of the table is the first match for some input the tests above use (no dead rows)."""
    inputs: list[BaseException] = [binance(c) for c in REJECT_CODES] + [binance(c) for c in OTHER_CODES]
    inputs += [binance(c, status=429) for c in (-1003, -1015)] + [binance(c) for c in (-1022, -2014, -2015, -1121)]
    inputs += [raised(503, json.dumps({"msg": m})) for m in (
        "Unknown error, please check your request or try again later.", "Service Unavailable.",
        "Internal error; unable to process your request. Please try again.")]
    inputs += [ccxt.RateLimitExceeded(""), ccxt.DDoSProtection(""), ccxt.RequestTimeout(""), ccxt.InvalidNonce(""),
               ccxt.ExchangeNotAvailable(""), ccxt.NetworkError(""), ccxt.AuthenticationError(""),
               ccxt.PermissionDenied(""), ccxt.AccountSuspended(""), ccxt.BadSymbol(""), ccxt.OrderNotFound(""),
               ccxt.InsufficientFunds(""), ccxt.OrderImmediatelyFillable(""), ccxt.DuplicateOrderId(""),
               ccxt.InvalidOrder(""), ccxt.BadRequest(""), ccxt.ExchangeError(""), ccxt.OperationFailed(""),
               TimeoutError(), OSError()]
    hit = {id(row_for(e)) for e in inputs}
    missing = [row.match for row in TABLE if id(row) not in hit]
    assert not missing, f"rows no test reaches: {missing}"


def test_unmatched_errors_are_not_guessed() -> None:
    with pytest.raises(ZeroDivisionError):
        translate(ZeroDivisionError(), acts=True, ts=1, what="x")


def test_messages_never_carry_keys_or_signatures() -> None:
    exc = ccxt.ExchangeNotAvailable("binanceusdm GET http://127.0.0.1/fapi/v3/positionRisk?timestamp=1&"
                                    "signature=abcdef0123 503 KEY123 SECRET456")
    err = translate(exc, acts=False, ts=1, what="FetchPositions", secrets=("KEY123", "SECRET456"))
    text = str(err)
    assert "abcdef0123" not in text and "KEY123" not in text and "SECRET456" not in text
    with pytest.raises(LiveConfigError) as info:
        translate(ccxt.AuthenticationError("bad key KEY123"), acts=True, ts=1, what="x", secrets=("KEY123",))
    assert "KEY123" not in str(info.value)
    assert scrub("signature=ff&x=1") == "signature=<hidden>&x=1"


def test_table_kinds_are_consistent() -> None:
    for row in TABLE:
        if row.act is To.REJECTED or row.read is To.REJECTED:
            assert row.act is row.read is To.REJECTED  # a refusal is a refusal, whatever was asked
