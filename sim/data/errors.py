"""The error a bad market-data file gives: what is wrong, where, and what to do about it."""
from __future__ import annotations


class MarketDataError(ValueError):
    """A data file that cannot be replayed as it stands (missing, corrupt, unsorted, ...)."""
