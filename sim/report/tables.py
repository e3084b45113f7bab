"""A run's summary and tables as pandas objects: what every figure is drawn from."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

TABLES = ("orders", "fills", "drift_episodes", "timeline", "events")


@dataclass
class RunTables:
    """A run's summary and tables (each indexed by its UTC time column).

    ``ideal_timeline`` is the ideal (test-mode) twin's timeline, or None when the run had no twin
    (``--no-ideal-twin``); a missing table of the run itself is an empty DataFrame.
    """

    path: Path
    summary: dict
    orders: pd.DataFrame
    fills: pd.DataFrame
    drift_episodes: pd.DataFrame
    timeline: pd.DataFrame
    events: pd.DataFrame
    ideal_timeline: pd.DataFrame | None = None
