"""The bot's clock: the time its driver last handed it a reply.

The bot never reads a clock of its own. A driver sets ``now`` when it delivers each reply: the
SimPy driver from simulated time, a live driver from the local clock at receipt (``ts_recv``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ReplyClock:
    now: int = 0
