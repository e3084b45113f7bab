"""Binance's request-weight and order-count limits, as advertised in exchangeInfo and enforced.

Per IP, the used weight of the current minute (``X-MBX-USED-WEIGHT-1M``); per account, orders
in the last 10 s and minute (``X-MBX-ORDER-COUNT-10S`` / ``-1M``). Over a limit: 429 -1003 (or
-1015 for orders) with ``Retry-After``. A client that keeps sending while told to wait is banned
with 418 for ``ban_s`` (Binance starts bans at 2 minutes). Counted on the wall clock, like the
client's own pacing, whatever the simulation's speed.
"""
from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

from sim.serve.errors import BinanceError


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    weight_per_minute: int = 2400
    orders_per_10s: int = 300
    orders_per_minute: int = 1200
    ignored_429s_before_ban: int = 3  # requests sent during a Retry-After before the 418
    ban_s: int = 120

    def rate_limits(self) -> list[dict]:
        """The ``rateLimits`` of exchangeInfo: exactly what is enforced."""
        return [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": self.weight_per_minute},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": self.orders_per_minute},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": self.orders_per_10s},
        ]


@dataclass
class _Ip:
    minute: int = -1
    weight: int = 0
    wait_until: float = 0.0
    ignored: int = 0
    banned_until: float = 0.0


@dataclass
class Limiter:
    config: LimitsConfig = field(default_factory=LimitsConfig)
    ips: dict[str, _Ip] = field(default_factory=dict)
    orders: deque = field(default_factory=deque)  # wall times of order requests in the last minute
    orders_10s: deque = field(default_factory=deque)  # ... and in the last 10 s
    refused_429: int = 0
    refused_418: int = 0

    def admit(self, ip: str, weight: int, is_order: bool, now: float | None = None) -> dict[str, str]:
        """Count one request; the headers to send, or raise 429 / 418 as Binance would."""
        now = time.time() if now is None else now
        c = self.config
        s = self.ips.setdefault(ip, _Ip())
        if now < s.banned_until:
            self.refused_418 += 1
            raise self._ban_error(s, now)
        if now < s.wait_until:  # sent while told to wait
            s.ignored += 1
            if s.ignored >= c.ignored_429s_before_ban:
                s.banned_until = now + c.ban_s
                self.refused_418 += 1
                raise self._ban_error(s, now)
        minute = int(now // 60)
        if minute != s.minute:
            s.minute, s.weight = minute, 0
        if s.weight + weight > c.weight_per_minute:
            retry = max(1, math.ceil((minute + 1) * 60 - now))
            s.wait_until = now + retry
            self.refused_429 += 1
            raise BinanceError(429, -1003, f"Too many requests; current limit of IP({ip}) is {c.weight_per_minute} "
                               "requests per minute. Please use the websocket for live updates to avoid polling "
                               "the API.", {"Retry-After": str(retry), "X-MBX-USED-WEIGHT-1M": str(s.weight)})
        s.weight += weight
        s.ignored = 0
        headers = {"X-MBX-USED-WEIGHT-1M": str(s.weight)}
        if is_order:
            o, o10 = self.orders, self.orders_10s
            while o and o[0] <= now - 60:
                o.popleft()
            while o10 and o10[0] <= now - 10:
                o10.popleft()
            in_10s = len(o10)
            if in_10s + 1 > c.orders_per_10s or len(o) + 1 > c.orders_per_minute:
                self.refused_429 += 1
                raise BinanceError(429, -1015, f"Too many new orders; current limit is {c.orders_per_10s} orders "
                                   "per TEN_SECONDS.", {"X-MBX-USED-WEIGHT-1M": str(s.weight)})
            o.append(now)
            o10.append(now)
            headers["X-MBX-ORDER-COUNT-10S"] = str(in_10s + 1)
            headers["X-MBX-ORDER-COUNT-1M"] = str(len(o))
        return headers

    def _ban_error(self, s: _Ip, now: float) -> BinanceError:
        until_ms = int(s.banned_until * 1000)
        retry = max(1, math.ceil(s.banned_until - now))
        return BinanceError(418, -1003, f"Way too many requests; IP banned until {until_ms}. Please use the websocket "
                            "for live updates to avoid bans.", {"Retry-After": str(retry)})
