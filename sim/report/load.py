"""Load a run directory into pandas: what notebooks and the report start from."""
from __future__ import annotations

import json
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


def _read(f: Path, index_by_time: bool) -> pd.DataFrame:
    df = pd.read_parquet(f) if f.is_file() else pd.DataFrame()
    if index_by_time and "time" in df.columns:
        df = df.set_index("time")
    return df


def load_run(run_dir: str | Path, index_by_time: bool = True) -> RunTables:
    """Read a run directory: ``summary.json``, the tables and, when present, ``ideal_timeline.parquet``.

    With ``index_by_time`` every table is indexed by its ``time`` column (a UTC DatetimeIndex);
    ``*_ms`` columns keep the exact integer milliseconds.
    """
    p = Path(run_dir)
    if not (p / "summary.json").is_file():
        raise FileNotFoundError(f"{p} is not a run directory (no summary.json)")
    summary = json.loads((p / "summary.json").read_text())
    frames = {name: _read(p / f"{name}.parquet", index_by_time) for name in TABLES}
    ideal = p / "ideal_timeline.parquet"
    return RunTables(p, summary, **frames, ideal_timeline=_read(ideal, index_by_time) if ideal.is_file() else None)
