"""The platform record: the bot's memory across restarts (SQLite)."""
from sim.bot.record.store import PlatformRecord

__all__ = ["PlatformRecord"]
