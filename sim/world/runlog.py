"""The world's event log, kept columnar: one list per column, one DataFrame at the end.

Per-event objects would dominate a long run's memory and time; appending to lists does not.
"""
from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

EVENT_COLUMNS = ("ts", "kind", "source", "client_id", "side", "qty", "price", "detail")
TIMELINE_COLUMNS = ("ts", "mid", "record_qty", "exchange_qty", "equity", "record_equity")


class Columns:
    """Append-only columns with a fixed schema."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.cols: dict[str, list] = {n: [] for n in names}

    def append(self, *values: object) -> None:
        for col, value in zip(self.cols.values(), values, strict=True):
            col.append(value)

    def __len__(self) -> int:
        return len(next(iter(self.cols.values())))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.cols, columns=list(self.names))


class NumericColumns:
    """Append-only numeric columns in typed arrays: 8 bytes a value, no Python object per value.

    The timeline gains a row every cycle, so over a simulated year it is the run's largest log;
    typed arrays keep it compact (``None`` is stored as NaN).
    """

    def __init__(self, names: tuple[str, ...], int_columns: tuple[str, ...] = ("ts",)) -> None:
        self.names = names
        self.cols = {n: array("q" if n in int_columns else "d") for n in names}
        self._appends = [c.append for c in self.cols.values()]
        self._nan = float("nan")

    def append(self, *values: float | int | None) -> None:
        nan = self._nan
        for add, value in zip(self._appends, values, strict=True):
            add(nan if value is None else value)

    def __len__(self) -> int:
        return len(next(iter(self.cols.values())))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({n: np.frombuffer(c, dtype=np.int64 if c.typecode == "q" else np.float64).copy()
                             for n, c in self.cols.items()}, columns=list(self.names))


class RunLog:
    """Everything the world observed, in time order."""

    def __init__(self) -> None:
        self.events = Columns(EVENT_COLUMNS)
        self.timeline = NumericColumns(TIMELINE_COLUMNS)

    def event(self, ts: int, kind: str, source: str, client_id: str | None = None, side: str | None = None,
              qty: float | None = None, price: float | None = None, detail: str = "") -> None:
        self.events.append(ts, kind, source, client_id, side, qty, price, detail)
