"""The stylised facts that decide a strategy's fate, from any regularly sampled price series.

Computed the same way for a synthetic path, a replayed one and raw data, so the three can be set
side by side (`aethersim market`, `aethersim calibrate --market`): excess kurtosis of 1, 5 and 60
minute returns, autocorrelation of |1-minute returns| at lags from a minute to a day, the share of
1-minute returns beyond 4 and 6 standard deviations, the spread of hourly volatility, the share of
seconds without a price change, and the largest 1-minute move.
"""
from __future__ import annotations

import math

import numpy as np

MINUTES_PER_YEAR = 525_600
ACF_LAGS = (1, 15, 60, 240, 1440)  # minutes


def _kurt(r: np.ndarray) -> float:
    if len(r) < 8:
        return math.nan
    z = r - r.mean()
    v = float((z * z).mean())
    return float((z**4).mean() / v**2 - 3.0) if v > 0 else math.nan


def _acf(x: np.ndarray, lag: int) -> float:
    if lag >= len(x) // 4:
        return math.nan
    a, b = x[:-lag], x[lag:]
    sa, sb = a.std(), b.std()
    return float(((a - a.mean()) * (b - b.mean())).mean() / (sa * sb)) if sa > 0 and sb > 0 else math.nan


def _every(prices: np.ndarray, tick_ms: int, step_ms: int) -> np.ndarray | None:
    """The series sampled every ``step_ms`` (None when the tick does not divide it, or is coarser)."""
    if step_ms % tick_ms:
        return None
    return prices[:: step_ms // tick_ms]


def stylised_facts(prices: np.ndarray, tick_ms: int) -> dict[str, float]:
    """The facts of ``prices`` sampled every ``tick_ms``: NaN where the series is too short (minute facts
    need ten minutes) or too coarse (second facts need a tick that divides a second)."""
    prices = np.asarray(prices, dtype=np.float64)
    if len(prices) < 3:
        raise ValueError(f"stylised facts need a price series, got {len(prices)} price(s)")
    out: dict[str, float] = dict.fromkeys(KEYS, math.nan)
    s1 = _every(prices, tick_ms, 1000)
    if s1 is not None and len(s1) > 2:
        r1s = np.diff(np.log(s1))
        out["zero_share_1s"] = float((r1s == 0).mean())
        out["kurt_1s"] = _kurt(r1s)
    m1 = _every(prices, tick_ms, 60_000)
    if m1 is not None and len(m1) > 10:
        out.update(_minute_facts(m1))
    return out


def _minute_facts(m1: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {}
    r1 = np.diff(np.log(m1))
    sd = float(r1.std())
    out["ann_vol"] = sd * math.sqrt(MINUTES_PER_YEAR)
    for minutes in (1, 5, 60):
        out[f"kurt_{minutes}m"] = _kurt(np.diff(np.log(m1[::minutes])))
    absr = np.abs(r1)
    for lag in ACF_LAGS:
        out[f"acf_abs_{lag}m"] = _acf(absr, lag)
    z = (r1 - r1.mean()) / sd if sd > 0 else np.zeros_like(r1)
    out["tail_4sd"] = float((np.abs(z) > 4).mean())
    out["tail_6sd"] = float((np.abs(z) > 6).mean())
    if len(r1) >= 120:
        c1, c2 = np.concatenate([[0.0], np.cumsum(r1)]), np.concatenate([[0.0], np.cumsum(r1 * r1)])
        s1, s2 = c1[60:] - c1[:-60], c2[60:] - c2[:-60]
        hourly = np.sqrt(np.maximum(s2 / 60 - (s1 / 60) ** 2, 0.0) * 60 / 59 * MINUTES_PER_YEAR)
        out["hourly_vol_p5"], out["hourly_vol_p95"] = (float(np.percentile(hourly, q)) for q in (5, 95))
    k = int(np.argmax(np.abs(z)))
    out["max_move_sd"] = float(abs(z[k]))
    out["max_move_pct"] = float(100 * r1[k])
    return out


ROWS = (
    ("annualised volatility", "ann_vol", "{:.3f}"),
    ("excess kurtosis 1 s", "kurt_1s", "{:.1f}"),
    ("excess kurtosis 1 m", "kurt_1m", "{:.1f}"),
    ("excess kurtosis 5 m", "kurt_5m", "{:.1f}"),
    ("excess kurtosis 60 m", "kurt_60m", "{:.1f}"),
    *((f"acf |r| lag {lag} m", f"acf_abs_{lag}m", "{:.3f}") for lag in ACF_LAGS),
    ("share beyond 4 sd", "tail_4sd", "{:.4%}"),
    ("share beyond 6 sd", "tail_6sd", "{:.4%}"),
    ("hourly vol p5", "hourly_vol_p5", "{:.2f}"),
    ("hourly vol p95", "hourly_vol_p95", "{:.2f}"),
    ("seconds without change", "zero_share_1s", "{:.1%}"),
    ("largest 1 m move (sd)", "max_move_sd", "{:.1f}"),
    ("largest 1 m move (%)", "max_move_pct", "{:+.2f}"),
)


KEYS = tuple(key for _label, key, _fmt in ROWS)


def facts_table(columns: dict[str, dict[str, float]]) -> str:
    """The facts of one or more series as a plain-text table, one column per series."""
    names = list(columns)
    width = max(12, *(len(n) for n in names))
    lines = ["statistic".ljust(24) + "".join(n.rjust(width + 2) for n in names)]
    for label, key, fmt in ROWS:
        cells = []
        for n in names:
            v = columns[n].get(key, math.nan)
            cells.append(("-" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v))
                         .rjust(width + 2))
        lines.append(label.ljust(24) + "".join(cells))
    return "\n".join(lines)
