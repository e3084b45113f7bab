"""The bot's configuration: plain values the scenario (or a live deployment) sets, read by every room.

Policies are data, never code paths: the execution and protection modules read them; nothing here
acts. From the scenario's ``[bot]``, ``[bot.protective]`` and ``[bot.execution]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sim.bot.algo import ConditionalRoute
from sim.bot.sizing import SizingPolicy
from sim.core.instrument import Instrument
from sim.core.types import TriggerBy


@dataclass(frozen=True, slots=True)
class ProtectivePolicy:
    """Native TP/SL posture: distances are fractions of the entry price."""

    enabled: bool = True
    take_profit_pct: float | None = 0.01
    stop_loss_pct: float | None = 0.005
    trigger_by: TriggerBy = TriggerBy.MARK
    route: ConditionalRoute = ConditionalRoute.LEGACY  # how the venue takes them (algo: Binance since 2025-12)


class FlipMode(StrEnum):
    SINGLE = "single"
    CLOSE_THEN_OPEN = "close_then_open"


class PartialFillPolicy(StrEnum):
    CANCEL = "cancel"
    CHASE = "chase"
    COMPLETE = "complete"
    UNWIND = "unwind"


@dataclass(frozen=True, slots=True)
class ExecutionPolicy:
    flip: FlipMode = FlipMode.SINGLE
    partial_fill: PartialFillPolicy = PartialFillPolicy.COMPLETE
    chase_limit_bps: float = 10.0
    chase_attempts: int = 3
    deadline_ms: int = 300_000
    rate_limit_attempts: int = 5  # sends of one intent while the venue answers "rate limited"
    unavailable_wait_ms: int = 5_000  # back-off after "unavailable", before reconciling
    # an order that takes liquidity answered "acknowledged, nothing filled yet" may still fill: ask the
    # venue about it this many times, waiting ack_wait_ms (doubling) between asks, before going on
    ack_polls: int = 4
    ack_wait_ms: int = 200


@dataclass(frozen=True, slots=True)
class BotConfig:
    bot_id: str
    instrument: Instrument
    cycle_ms: int
    start_ms: int
    protective: ProtectivePolicy = ProtectivePolicy()
    entry_tolerance_bps: float = 1.0
    max_position: Decimal | None = None  # absolute base quantity the bot may hold
    max_leverage: float | None = None  # position notional / equity the bot may hold
    sizing: SizingPolicy = SizingPolicy()
    execution: ExecutionPolicy = ExecutionPolicy()
    # the window the venue still accepts a request in after it was sent (Binance's recvWindow): until it
    # has passed, "unknown order" does not prove the order never arrived
    recv_window_ms: int = 5_000


__all__ = ["BotConfig", "ConditionalRoute", "ExecutionPolicy", "FlipMode", "PartialFillPolicy", "ProtectivePolicy"]
