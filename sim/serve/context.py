"""What every handler needs: the world, its clock, the link to the venue, the audit, the keys."""
from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field

from sim.serve.audit import Audit
from sim.serve.clock import SimClock
from sim.serve.errors import bad
from sim.serve.limits import Limiter
from sim.serve.link import VenueLink
from sim.serve.params import Params
from sim.serve.signing import ApiKey
from sim.serve.world import ServeWorld

LISTEN_KEY_TTL_S = 3600.0


@dataclass
class ListenKeys:
    """The account's user-data stream key: one at a time, valid 60 minutes (wall clock), as on Binance."""

    key: str | None = None
    expires: float = 0.0
    expired: list[str] = field(default_factory=list)  # keys whose expiry the streams must announce

    def create(self) -> str:
        if self.key is None or time.time() >= self.expires:
            self.key = secrets.token_urlsafe(48)[:64]
        self.expires = time.time() + LISTEN_KEY_TTL_S
        return self.key

    def keepalive(self, key: str | None) -> str:
        if self.key is None or (key is not None and key != self.key) or time.time() >= self.expires:
            raise bad(-1125, "This listenKey does not exist.")
        self.expires = time.time() + LISTEN_KEY_TTL_S
        return self.key

    def close(self) -> None:
        self.key = None

    def valid(self, key: str) -> bool:
        return key == self.key and time.time() < self.expires

    def expire_now(self) -> str | None:
        """End the key (its expiry, or the operator's): the streams push ``listenKeyExpired``."""
        key, self.key = self.key, None
        if key is not None:
            self.expired.append(key)
        return key

    def tick(self) -> None:
        if self.key is not None and time.time() >= self.expires:
            self.expire_now()


@dataclass
class Ctx:
    world: ServeWorld
    clock: SimClock
    link: VenueLink
    audit: Audit
    limiter: Limiter
    api_key: ApiKey
    operator_token: str
    listen_keys: ListenKeys = field(default_factory=ListenKeys)
    _auto: itertools.count = field(default_factory=lambda: itertools.count(1))

    def wall(self, sim_ms: float) -> int:
        return self.clock.wall_ms(sim_ms)

    def symbol(self, p: Params, required: bool = True) -> str | None:
        s = p.str("symbol", required)
        if s is not None and s.upper() != self.world.symbol:
            raise bad(-1121, "Invalid symbol.")
        return None if s is None else s.upper()

    def auto_client_id(self) -> str:
        """The id Binance makes up when the client sends none."""
        return f"autogen-{next(self._auto)}-{secrets.token_hex(4)}"
