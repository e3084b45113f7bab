"""Strategies: market view in, target out. See `base.Strategy` for the protocol."""
from sim.bot.strategy.base import Strategy, Target, resolve_strategy

__all__ = ["Strategy", "Target", "resolve_strategy"]
