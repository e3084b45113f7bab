"""The summary figures, computed from a run's tables (docs/metrics.md defines each).

Pure functions of DataFrames, so a notebook can recompute any figure from the files alone.
A figure whose ingredients do not exist in the run is ``None``, never an invented number.
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

EXECUTED_TYPES = ("market", "take_profit_market", "stop_market")


def _num(x: Any, digits: int = 6) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else round(v, digits)


def order_counts(orders: pd.DataFrame) -> dict[str, int]:
    sent = orders[orders["record_status"] != "new"] if len(orders) else orders
    final = sent["venue_status"].fillna(sent["record_status"]) if len(sent) else pd.Series(dtype=str)
    partial = (sent["filled_qty"] > 0) & (sent["filled_qty"] + 1e-12 < sent["qty"]) if len(sent) else []
    return {
        "submitted": int(len(sent)),
        "filled": int((final == "filled").sum()) if len(sent) else 0,
        "partially_filled": int(pd.Series(partial).sum()) if len(sent) else 0,
        "rejected": int((sent["record_status"] == "rejected").sum()) if len(sent) else 0,
        "cancelled": int((final == "cancelled").sum()) if len(sent) else 0,
        "unknown_resolved": int(((sent["went_unknown"] > 0) & (sent["record_status"] != "unknown")).sum())
        if len(sent) else 0,
    }


def execution_quality(orders: pd.DataFrame, fills: pd.DataFrame) -> dict[str, float | None]:
    executed = orders[(orders["filled_qty"] > 0) & orders["type"].isin(EXECUTED_TYPES)] if len(orders) else orders
    requested = orders[orders["type"].eq("market") & orders["venue_status"].notna()] if len(orders) else orders
    w = executed["filled_qty"] if len(executed) else None
    slip = executed["slippage_bps"] if len(executed) else pd.Series(dtype=float)
    short = executed["shortfall_bps"].dropna() if len(executed) else pd.Series(dtype=float)
    lat = orders["latency_ms"].dropna() if len(orders) else pd.Series(dtype=float)
    return {
        "slippage_bps_mean": _num((slip * w).sum() / w.sum()) if w is not None and w.sum() > 0 else None,
        "slippage_bps_p95": _num(slip.quantile(0.95)) if len(slip) else None,
        "shortfall_bps_mean": _num(short.mean()) if len(short) else None,
        "fill_ratio": _num(requested["filled_qty"].sum() / requested["qty"].sum())
        if len(requested) and requested["qty"].sum() > 0 else None,
        "latency_ms_p50": _num(lat.quantile(0.5)) if len(lat) else None,
        "latency_ms_p99": _num(lat.quantile(0.99)) if len(lat) else None,
        "fees": _num(fills["fee"].sum()) if len(fills) else 0.0,
    }


def drift_figures(drift: pd.DataFrame, residual_gap: float) -> dict[str, Any]:
    if not len(drift):
        return {"episodes": 0, "detect_s_max": None, "detect_s_mean": None, "time_in_drift_s": 0.0,
                "max_size_gap": 0.0, "residual_size_gap": _num(residual_gap), "by_cause": {}}
    resolved = drift["resolve_s"].fillna(drift["detect_s"])
    return {
        "episodes": int(len(drift)),
        "detect_s_max": _num(drift["detect_s"].max(), 3),
        "detect_s_mean": _num(drift["detect_s"].mean(), 3),
        "time_in_drift_s": _num(resolved.sum(), 3),
        "max_size_gap": _num(drift["size_gap"].max()),
        "residual_size_gap": _num(residual_gap),
        "by_cause": {str(k): int(v) for k, v in drift["cause"].value_counts().sort_index().items()},
    }


def summarize(*, scenario: str, seed: int, sim_seconds: float, wall_seconds: float, events: int, cycles: int,
              orders: pd.DataFrame, fills: pd.DataFrame, drift: pd.DataFrame, duplicates: int, stale_actions: int,
              unintended_exposure: int, record_position: float, exchange_position: float, equity: float,
              initial_balance: float, ideal_equity: float | None, funding: float = 0.0,
              transfers: float = 0.0) -> dict[str, Any]:
    """The run's headline figures (docs/metrics.md).

    PnL is what trading made: equity less the initial balance *and less the margin moved in or
    out* (a transfer is not profit). The ideal twin runs without events, so it has no transfers.
    """
    realistic = equity - initial_balance - transfers
    ideal = None if ideal_equity is None else ideal_equity - initial_balance
    return {
        "scenario": scenario,
        "seed": seed,
        "sim_seconds": sim_seconds,
        "wall_seconds": round(wall_seconds, 3),
        "events": events,
        "cycles": cycles,
        "orders": order_counts(orders),
        "duplicates": duplicates,
        "stale_actions": stale_actions,
        "unintended_exposure": unintended_exposure,
        "drift": drift_figures(drift, abs(record_position - exchange_position)),
        "execution": execution_quality(orders, fills),
        "pnl": {"realistic": _num(realistic, 4), "ideal": _num(ideal, 4), "funding": _num(funding, 4),
                "transfers": _num(transfers, 4),
                "execution_cost": None if ideal is None else _num(ideal - realistic, 4)},
        "final": {"record_position": _num(record_position), "exchange_position": _num(exchange_position),
                  "equity": _num(equity, 4)},
    }
