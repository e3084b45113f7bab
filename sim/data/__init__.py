"""Market data from files: the formats the crypto ecosystem uses, validated, never silently repaired."""
from sim.data.errors import MarketDataError
from sim.data.formats import load_bars, load_trades

__all__ = ["MarketDataError", "load_bars", "load_trades"]
