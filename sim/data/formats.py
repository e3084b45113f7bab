"""Readers for candle and trade files in the formats users already have.

Candles (OHLCV): ``kline_csv`` (exchange public data dumps: open time, open, high, low, close,
volume, close time, ...), ``ccxt_csv`` (``fetch_ohlcv`` rows saved as CSV), ``freqtrade_json``
(freqtrade's ``[[ms, o, h, l, c, v], ...]``), ``freqtrade_feather``, and generic ``csv`` /
``parquet`` with a column mapping. Trades: ``aggtrades_csv`` (exchange aggregated-trade dumps),
``freqtrade_trades_json``, and generic ``csv`` / ``parquet`` with a mapping.

Every reader returns a DataFrame with integer ``time_ms`` and float prices, in file order; the
checks (sorted, duplicates, gaps, impossible prices) live in `sim.data.checks`. A file that does
not have the shape its format promises is a `MarketDataError` naming the file, the format and
what was expected, never a reader library's bare exception.
"""
from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.errors import MarketDataError

BAR_FORMATS = ("kline_csv", "ccxt_csv", "freqtrade_json", "freqtrade_feather", "csv", "parquet")
TRADE_FORMATS = ("aggtrades_csv", "freqtrade_trades_json", "csv", "parquet")
BAR_COLUMNS = ("time", "open", "high", "low", "close")
TRADE_COLUMNS = ("time", "price")
_UNIT_MS = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}
_MAX_MS = 9.2e15  # about year 2262, where datetime64[ns] ends
EXPECTED = {
    "kline_csv": "exchange kline rows: open time, open, high, low, close, volume, close time, ...",
    "ccxt_csv": "fetch_ohlcv rows: time, open, high, low, close[, volume]",
    "freqtrade_json": "a JSON list of [time ms, open, high, low, close, volume] rows",
    "freqtrade_feather": "freqtrade's table with date, open, high, low, close, volume",
    "aggtrades_csv": "aggregated-trade rows: id, price, quantity, first id, last id, time, is_buyer_maker",
    "freqtrade_trades_json": "a JSON list of [time ms, id, type, side, price, amount, cost] rows",
    "csv": "a table with the mapped columns",
    "parquet": "a table with the mapped columns",
}
# what a reader library raises on a file of the wrong shape (pyarrow's errors subclass these)
_READER_ERRORS = (ValueError, KeyError, TypeError, IndexError, AttributeError, OverflowError, NotImplementedError)


def to_ms(values: pd.Series, unit: str) -> tuple[np.ndarray, str]:
    """Timestamps (numbers or date strings) to integer ms since the epoch; ``auto`` reads the magnitude."""
    if not pd.api.types.is_numeric_dtype(values):
        try:
            t = pd.Series(pd.to_datetime(values, utc=True))
        except (ValueError, TypeError) as exc:
            raise MarketDataError(f"timestamps are neither numbers nor dates: {exc}") from None
        _no_missing_times(t.isna().to_numpy())
        return t.dt.as_unit("ms").astype("int64").to_numpy(), "datetime"
    v = values.to_numpy(dtype=np.float64)
    _no_missing_times(~np.isfinite(v))
    if unit == "auto":
        m = np.nanmedian(np.abs(v)) if len(v) else 0
        unit = "ns" if m > 1e17 else "us" if m > 1e14 else "ms" if m > 1e11 else "s"
    scaled = v * _UNIT_MS[unit]
    wild = np.abs(scaled) > _MAX_MS
    if wild.any():
        i = int(np.argmax(wild))
        raise MarketDataError(f"timestamp {v[i]:g} in row {i + 1} is out of range (read as {unit} since 1970)")
    return np.rint(scaled).astype(np.int64), unit


def _no_missing_times(missing: np.ndarray) -> None:
    if missing.any():
        raise MarketDataError(f"missing timestamp in row {int(np.argmax(missing)) + 1}")


def _read_table(path: Path, header: bool | None = None) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix == ".feather":
            return pd.read_feather(path)
        if header is None:  # sniff: a header row starts with a non-number
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt") as fh:
                first = fh.readline().split(",")[0].strip()
            header = not first.replace(".", "", 1).replace("-", "", 1).isdigit()
        return pd.read_csv(path, header=0 if header else None)
    except (OSError, ValueError, UnicodeDecodeError, EOFError) as exc:
        raise MarketDataError(f"cannot read {path.name}: {exc}") from None


def _read_json_rows(path: Path, fmt: str, width: int) -> list:
    """A freqtrade JSON file: a list of rows of ``width`` values each (the first bad row is named)."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as fh:
            rows = json.load(fh)
    except (OSError, ValueError, EOFError) as exc:
        raise _unreadable(path, fmt, f"not JSON: {exc}") from None
    if not isinstance(rows, list):
        raise _unreadable(path, fmt, f"it holds a JSON {type(rows).__name__}")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            got = f"{len(row)} values" if isinstance(row, list) else f"a {type(row).__name__}"
            raise _unreadable(path, fmt, f"row {i + 1} has {got}")
    return rows


def _mapped(df: pd.DataFrame, columns: dict[str, str], needed: tuple[str, ...]) -> pd.DataFrame:
    missing = [k for k in needed if columns.get(k, k) not in df.columns]
    if missing:
        raise MarketDataError(f"missing columns {missing} (file has {list(df.columns)[:12]}); give a column "
                              f"mapping, e.g. columns = {{ time = \"...\" }}")
    return df.rename(columns={v: k for k, v in columns.items()})


def _unreadable(p: Path, fmt: str, what: str) -> MarketDataError:
    """A file without the shape its format promises: the file, the format, what was expected, what was found."""
    return MarketDataError(f"{p.name} cannot be read as market.format = {fmt!r} ({EXPECTED.get(fmt, fmt)}): {what}")


def _foreign(p: Path, fmt: str, exc: Exception) -> MarketDataError:
    """A reader library's own error on a file of the wrong shape, mapped at the edge."""
    return _unreadable(p, fmt, f"{type(exc).__name__}: {exc}")


def _guarded(reader: Callable[[Path, str, dict[str, str], str], tuple[pd.DataFrame, dict]], path: str | Path,
             fmt: str, columns: dict[str, str] | None, time_unit: str) -> tuple[pd.DataFrame, dict]:
    """Run a reader with every reader-library error turned into a `MarketDataError` about the file."""
    p = Path(path)
    if not p.is_file():
        raise MarketDataError(f"file not found: {p}")
    try:
        return reader(p, fmt, dict(columns or {}), time_unit)
    except MarketDataError:
        raise
    except _READER_ERRORS as exc:
        raise _foreign(p, fmt, exc) from exc


def load_bars(path: str | Path, fmt: str, columns: dict[str, str] | None = None,
              time_unit: str = "auto") -> tuple[pd.DataFrame, dict]:
    """Candles as ``time_ms, open, high, low, close, volume`` plus facts about the reading."""
    return _guarded(_load_bars, path, fmt, columns, time_unit)


def _load_bars(p: Path, fmt: str, columns: dict[str, str], time_unit: str) -> tuple[pd.DataFrame, dict]:
    if fmt == "kline_csv":
        raw = _read_table(p, header=None)
        if not pd.api.types.is_numeric_dtype(raw.iloc[:, 0]):  # the newer dumps carry a header row
            raw = _read_table(p, header=True)
            raw.columns = range(raw.shape[1])
        if raw.shape[1] < 6:
            raise MarketDataError(f"a kline CSV has at least 6 columns, {p.name} has {raw.shape[1]}")
        df = raw.iloc[:, :6].set_axis(["time", "open", "high", "low", "close", "volume"], axis=1)
    elif fmt == "ccxt_csv":
        raw = _read_table(p)
        if raw.shape[1] < 5:
            raise MarketDataError(f"ccxt OHLCV rows have 6 values, {p.name} has {raw.shape[1]} columns")
        names = ["time", "open", "high", "low", "close", "volume"][: raw.shape[1]]
        df = raw.iloc[:, : len(names)].set_axis(names, axis=1)
    elif fmt == "freqtrade_json":
        df = pd.DataFrame(_read_json_rows(p, fmt, 6), columns=["time", "open", "high", "low", "close", "volume"])
    elif fmt == "freqtrade_feather":
        df = _mapped(_read_table(p), {"time": "date", **columns}, BAR_COLUMNS)
    elif fmt in ("csv", "parquet"):
        df = _mapped(_read_table(p), columns, BAR_COLUMNS)
    else:
        raise MarketDataError(f"unknown candle format {fmt!r} (one of {', '.join(BAR_FORMATS)})")
    time_ms, unit = to_ms(df["time"], time_unit)
    try:
        prices = {c: pd.to_numeric(df[c]).to_numpy(float) for c in ("open", "high", "low", "close")}
    except (ValueError, TypeError) as exc:
        raise MarketDataError(f"non-numeric prices: {exc}") from None
    vol = pd.to_numeric(df["volume"], errors="coerce").to_numpy(float) if "volume" in df else np.full(len(df), np.nan)
    out = pd.DataFrame({"time_ms": time_ms, **prices, "volume": vol})
    return out, {"rows": len(out), "time_unit": unit, "format": fmt}


def read_trades(path: str | Path, fmt: str, columns: dict[str, str] | None = None,
                time_unit: str = "auto") -> tuple[pd.DataFrame, dict]:
    """Every trade in the file as ``time_ms, price, qty, side, type, id``, in file order.

    ``side`` is the aggressor's (``buy`` / ``sell``); ``type`` is the trade type where the file has
    one (``""`` otherwise), ``id`` the trade id (None where the file has none). Nothing is excluded.
    """
    return _guarded(_read_trades, path, fmt, columns, time_unit)


def _read_trades(p: Path, fmt: str, columns: dict[str, str], time_unit: str) -> tuple[pd.DataFrame, dict]:
    if fmt == "aggtrades_csv":
        raw = _read_table(p)
        if raw.shape[1] < 7:
            raise MarketDataError(f"an aggTrades CSV has 7 or 8 columns, {p.name} has {raw.shape[1]}")
        df = raw.iloc[:, :7].set_axis(["id", "price", "qty", "first", "last", "time", "is_buyer_maker"], axis=1)
        df["side"] = np.where(df["is_buyer_maker"].astype(str).str.lower() == "true", "sell", "buy")
    elif fmt == "freqtrade_trades_json":
        df = pd.DataFrame(_read_json_rows(p, fmt, 7), columns=["time", "id", "type", "side", "price", "qty", "cost"])
    elif fmt in ("csv", "parquet"):
        df = _mapped(_read_table(p), columns, TRADE_COLUMNS)
        if "side" not in df and "aggressor_side" in df:
            df["side"] = df["aggressor_side"]
        if "id" not in df and "trade_id" in df:
            df["id"] = df["trade_id"]
    else:
        raise MarketDataError(f"unknown trades format {fmt!r} (one of {', '.join(TRADE_FORMATS)})")
    type_col = "type" if "type" in df.columns else "exec_type"  # mapped, or the exchange's own name
    time_ms, unit = to_ms(df["time"], time_unit)
    try:
        price = pd.to_numeric(df["price"]).to_numpy(float)
        qty = pd.to_numeric(df["qty"]).to_numpy(float) if "qty" in df else np.full(len(df), np.nan)
    except (ValueError, TypeError) as exc:
        raise MarketDataError(f"non-numeric trade prices or quantities: {exc}") from None
    n = len(df)
    side = df["side"].astype(str).str.lower().to_numpy() if "side" in df else np.full(n, "")
    kind = df[type_col].fillna("").astype(str).to_numpy() if type_col in df else np.full(n, "")
    ids = df["id"].to_numpy(dtype=object) if "id" in df else np.full(n, None, dtype=object)
    out = pd.DataFrame({"time_ms": time_ms, "price": price, "qty": qty, "side": side, "type": kind, "id": ids})
    return out, {"rows": n, "time_unit": unit, "format": fmt, "has_types": type_col in df}


def excluded_mask(trades: pd.DataFrame, exclude_types: tuple[str, ...]) -> np.ndarray:
    """Which trades have one of ``exclude_types`` (left out on purpose, and counted)."""
    if not exclude_types:
        return np.zeros(len(trades), dtype=bool)
    return trades["type"].isin(exclude_types).to_numpy()


def load_trades(path: str | Path, fmt: str, columns: dict[str, str] | None = None, time_unit: str = "auto",
                exclude_types: tuple[str, ...] = ()) -> tuple[pd.DataFrame, dict]:
    """Trades as ``time_ms, price, qty, side`` (the aggressor's), ``type``, ``id``, without the excluded types;
    the facts count what was excluded from the whole file."""
    df, facts = read_trades(path, fmt, columns, time_unit)
    mask = excluded_mask(df, exclude_types)
    out = df[~mask].reset_index(drop=True)
    return out, dict(facts, rows=len(out), excluded=int(mask.sum()), excluded_types=list(exclude_types))
