"""Load a run directory into pandas: what notebooks and the report start from."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

TABLES = ("orders", "fills", "drift_episodes", "timeline", "events")


@dataclass
class RunTables:
    """A run's summary and tables (each indexed by its UTC time column)."""

    path: Path
    summary: dict
    orders: pd.DataFrame
    fills: pd.DataFrame
    drift_episodes: pd.DataFrame
    timeline: pd.DataFrame
    events: pd.DataFrame


def load_run(run_dir: str | Path, index_by_time: bool = True) -> RunTables:
    p = Path(run_dir)
    if not (p / "summary.json").is_file():
        raise FileNotFoundError(f"{p} is not a run directory (no summary.json)")
    summary = json.loads((p / "summary.json").read_text())
    frames = {}
    for name in TABLES:
        f = p / f"{name}.parquet"
        df = pd.read_parquet(f) if f.is_file() else pd.DataFrame()
        if index_by_time and "time" in df.columns:
            df = df.set_index("time")
        frames[name] = df
    return RunTables(p, summary, **frames)
