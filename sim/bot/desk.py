"""The desk: what acting on the venue needs at hand, handed down (never a reference back up to the bot).

Acting (`sim.bot.acting`), refusal handling (`sim.bot.refusals`) and protection work on a `Desk`:
the configuration, the record, the session (every request goes through it) and the reconciler
(to learn the truth after a surprise). The bot composes one; nothing here knows the bot.
"""
from __future__ import annotations

from dataclasses import dataclass

from sim.bot.policies import BotConfig
from sim.bot.reconciling import Reconciler
from sim.bot.record import PlatformRecord
from sim.bot.session import Session


@dataclass(frozen=True, slots=True)
class Desk:
    config: BotConfig
    record: PlatformRecord
    session: Session
    reconciler: Reconciler


__all__ = ["Desk"]
