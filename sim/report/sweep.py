"""A batch compared, not just counted: key metrics per parameter value (median and worst across seeds), and
the sweep's effect on each metric in one line.

Pure functions of ``results.parquet``'s table, so the batch report, the CLI (which prints
`sweep_summary` after a batch) and a notebook say the same thing.
"""
from __future__ import annotations

import math

import pandas as pd

# (column, label, which end is worse): "high" when a larger value is worse, "low" when a smaller one is
KEY_METRICS = (("drift.detect_s_max", "worst drift detection (s)", "high"),
               ("drift.episodes", "drift episodes", "high"),
               ("execution.slippage_bps_mean", "mean slippage (bps)", "high"),
               ("pnl.realistic", "PnL, realistic (quote)", "low"),
               ("stale_actions", "stale actions", "high"),
               ("execution.fees", "fees (quote)", "high"))


def params(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith("param.")]


def group_columns(df: pd.DataFrame) -> list[str]:
    """What the runs are compared by: the swept parameters (and the scenario when there are several)."""
    several = "scenario" in df.columns and df["scenario"].nunique() > 1
    return (["scenario"] if several or not params(df) else []) + params(df)


def numeric(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce") if col in df.columns else pd.Series(float("nan"), index=df.index)


def fmt(v: object) -> str:
    """One number format everywhere: thousands separators, up to 4 significant digits, "–" for none."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, int | float):
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}"
    return str(v)


def _sort_key(v: object) -> tuple[int, float, str]:
    try:
        return (0, float(v), "")  # 20 < 80 < 200, not "20" < "200" < "80"
    except (TypeError, ValueError):
        return (1, 0.0, str(v))


def sweep_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per parameter value (or combination): runs, failures, and each key metric's median and worst.

    "Worst" is the largest value where larger is worse (detection latency, slippage, ...) and the
    smallest where smaller is worse (PnL). A metric no run of a group has is NaN.
    """
    keys = group_columns(df)
    if not len(df) or not keys:
        return pd.DataFrame()
    rows = []
    for key, g in df.groupby(keys, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row = {k.removeprefix("param."): v for k, v in zip(keys, key, strict=True)}
        row["runs"] = len(g)
        row["not ok"] = int((g["status"] != "ok").sum()) if "status" in g.columns else 0
        for col, label, worse in KEY_METRICS:
            v = numeric(g, col).dropna()
            row[f"{label}: median"] = float(v.median()) if len(v) else float("nan")
            row[f"{label}: worst"] = (float(v.max() if worse == "high" else v.min())) if len(v) else float("nan")
        rows.append(row)
    names = [k.removeprefix("param.") for k in keys]
    out = pd.DataFrame(rows)
    order = sorted(range(len(out)), key=lambda i: tuple(_sort_key(out.loc[i, n]) for n in names))
    return out.loc[order].reset_index(drop=True)


def effect_lines(df: pd.DataFrame) -> list[str]:
    """The sweep's effect, one line per key metric: the median at each value of each swept parameter and
    whether it rises, falls, stays or wanders as the parameter grows."""
    swept = params(df)
    lines = []
    for col, label, _ in KEY_METRICS:
        v = numeric(df, col)
        if not v.notna().any():
            lines.append(f"{label}: no run has a value")
            continue
        if not swept:
            lines.append(f"{label}: median {fmt(float(v.median()))}, range {fmt(float(v.min()))} to "
                         f"{fmt(float(v.max()))} across {int(v.notna().sum())} runs (no parameter swept)")
            continue
        parts = []
        for p in swept:
            med = v.groupby(df[p]).median()
            med = med.loc[sorted(med.index, key=_sort_key)]
            steps = ", ".join(f"{fmt(m)} at {fmt(k)}" for k, m in med.items())
            parts.append(f"{_trend(med.to_numpy(float))} as {p.removeprefix('param.')} grows (median {steps})")
        lines.append(f"{label}: " + "; ".join(parts))
    return lines


FLAT = 0.01  # medians within 1 % of each other are the same figure: seeds, not the sweep, move them


def _trend(m: list[float]) -> str:
    """"rises", "falls", "unchanged" or "not monotonic" over the medians in parameter order."""
    vals = [x for x in m if not math.isnan(x)]
    if len(vals) < 2:
        return "one value only"
    diffs = [b - a for a, b in zip(vals, vals[1:], strict=False)]
    scale = max(abs(x) for x in vals) or 1.0
    tol = FLAT * scale
    if all(abs(d) <= tol for d in diffs):
        return "unchanged (within 1%)"
    if all(d >= -tol for d in diffs):
        return "rises" + _ratio(vals)
    if all(d <= tol for d in diffs):
        return "falls" + _ratio(vals)
    return "not monotonic"


def _ratio(vals: list[float]) -> str:
    a, b = vals[0], vals[-1]
    return f" x{b / a:.2g}" if a > 0 and b > 0 else ""


def sweep_summary(df: pd.DataFrame) -> list[str]:
    """The comparison as plain text lines (what ``aethersim batch`` prints at the end): a column per
    parameter value, a row per metric with "median / worst", then the effect lines."""
    table = sweep_table(df)
    if not len(table):
        return []
    keys = [c for c in table.columns if c not in ("runs", "not ok") and ":" not in c]
    records = table.to_dict("records")
    corner = "median / worst, by " + ", ".join(keys)
    heads = [", ".join(fmt(r[k]) for k in keys) for r in records]
    rows = [("runs (not ok)", [f"{r['runs']:,} ({r['not ok']:,})" for r in records])]
    for _, label, _ in KEY_METRICS:
        rows.append((label, [f"{fmt(r[f'{label}: median'])} / {fmt(r[f'{label}: worst'])}" for r in records]))
    first = max(len(name) for name, _ in rows)
    widths = [max(len(h), *(len(cells[i]) for _, cells in rows)) for i, h in enumerate(heads)]
    out = [corner, " " * first + "  " + "  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True))]
    out += [name.ljust(first) + "  " + "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))
            for name, cells in rows]
    return out + ["effect of the sweep:"] + [f"  {line}" for line in effect_lines(df)]
