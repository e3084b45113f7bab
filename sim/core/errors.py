"""Errors a venue can answer with, grouped by what the caller should do next.

::

    ExchangeError
     ├── Rejected(reason)      the venue refused: re-size, reconcile or skip, by reason
     ├── TransientError        try again later
     │    ├── RateLimited      ... after ``retry_after_ms``
     │    └── Unavailable      ... after reconciling (outage, maintenance)
     └── RequestTimeout        the outcome is unknown: query by client id before any retry

Each carries ``ts``, the time at which the bot learnt of it, since the bot has no clock.
"""
from __future__ import annotations

from sim.core.types import RejectReason


class ExchangeError(Exception):
    def __init__(self, message: str, ts: int = 0) -> None:
        super().__init__(message)
        self.ts = ts


class Rejected(ExchangeError):
    """The venue refused. ``reason`` is what the bot decides by; ``code`` / ``code_name`` are the
    venue's own (Binance's, e.g. -4164 MIN_NOTIONAL; see `sim.core.venue_codes`), None when the
    refusal did not come from a venue that gives one."""

    def __init__(self, reason: RejectReason, message: str = "", ts: int = 0, code: int | None = None,
                 code_name: str = "") -> None:
        tag = f"{reason.value}" + (f" {code} {code_name}" if code is not None else "")
        super().__init__(f"rejected ({tag}){': ' + message if message else ''}", ts)
        self.reason = reason
        self.code = code
        self.code_name = code_name


class TransientError(ExchangeError):
    pass


class RateLimited(TransientError):
    def __init__(self, retry_after_ms: int, ts: int = 0) -> None:
        super().__init__(f"rate limited, retry after {retry_after_ms} ms", ts)
        self.retry_after_ms = retry_after_ms


class Unavailable(TransientError):
    pass


class RequestTimeout(ExchangeError):
    """No answer in time. The request may or may not have reached the venue."""


class StrategyError(Exception):
    """A user strategy raised: wraps the original so the run can say where it stopped."""
