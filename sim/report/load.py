"""Load a run directory into pandas: what notebooks and the report start from."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.report.notebook import RunPlots, summary_card
from sim.report.tables import TABLES, RunTables


class Run(RunTables):
    """A loaded run: its tables, its figures (``run.plot.price()``) and, in Jupyter, a summary card."""

    @property
    def plot(self) -> RunPlots:
        """The report's figures as Plotly objects: ``run.plot.position()``, ``.price()``, ``.equity()``, ..."""
        return RunPlots(self)

    def _repr_html_(self) -> str:
        """Jupyter shows a run as a summary card (headline figures, failed checks, where the report is)."""
        return summary_card(self.summary, self.path)


def _read(f: Path, index_by_time: bool) -> pd.DataFrame:
    df = pd.read_parquet(f) if f.is_file() else pd.DataFrame()
    if index_by_time and "time" in df.columns:
        df = df.set_index("time")
    return df


def load_run(run_dir: str | Path, index_by_time: bool = True) -> Run:
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
    return Run(p, summary, **frames, ideal_timeline=_read(ideal, index_by_time) if ideal.is_file() else None)


__all__ = ["Run", "RunTables", "load_run"]
