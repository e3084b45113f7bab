"""Binance's request signing, checked as the venue checks it.

``signature = hex(HMAC_SHA256(secret, totalParams))`` where totalParams is the query string
followed by the body, *as received* (the ``signature`` parameter itself removed): re-encoding the
parameters would accept requests Binance refuses and refuse ones it accepts. The key travels in
``X-MBX-APIKEY``; ``timestamp`` must satisfy ``timestamp < serverTime + 1000`` and
``serverTime - timestamp <= recvWindow`` (default 5000, at most 60000), on the wall clock.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sim.serve.errors import BinanceError, bad, mandatory

MAX_RECV_WINDOW = 60_000


@dataclass(frozen=True, slots=True)
class ApiKey:
    key: str
    secret: str

    @staticmethod
    def generate() -> ApiKey:
        return ApiKey(secrets.token_hex(32), secrets.token_hex(32))


def _strip_signature(raw: str) -> tuple[str, str | None]:
    """``raw`` without its ``signature=`` parameter (bytes otherwise untouched), and the signature."""
    if "signature=" not in raw:
        return raw, None
    kept, sig = [], None
    for part in raw.split("&"):
        if part.startswith("signature="):
            sig = part[len("signature="):]
        else:
            kept.append(part)
    return "&".join(kept), sig


def check_key(key: ApiKey, header: str | None) -> None:
    if not header or not hmac.compare_digest(header.encode(), key.key.encode()):
        raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")


def verify(key: ApiKey, header: str | None, query: str, body: str, timestamp: str | None,
           recv_window: str | None, server_ms: int) -> None:
    """Raise the `BinanceError` Binance would answer a badly signed or stale request with."""
    check_key(key, header)
    q, sig_q = _strip_signature(query)
    b, sig_b = _strip_signature(body)
    sig = sig_q or sig_b
    if not timestamp:
        raise mandatory("timestamp")
    if not sig:
        raise mandatory("signature")
    try:
        ts = int(timestamp)
    except ValueError:
        raise bad(-1100, "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.") \
            from None
    window = 5000
    if recv_window:
        try:
            window = int(float(recv_window))
        except ValueError:
            raise bad(-1100, "Illegal characters found in parameter 'recvWindow'.") from None
        if not 0 < window <= MAX_RECV_WINDOW:
            raise bad(-1131, "recvWindow must be less than 60000")
    if ts >= server_ms + 1000:
        raise bad(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if server_ms - ts > window:
        raise bad(-1021, "Timestamp for this request is outside of the recvWindow.")
    expected = hmac.new(key.secret.encode(), (q + b).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sig.lower()):
        raise bad(-1022, "Signature for this request is not valid.")
