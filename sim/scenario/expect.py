"""`[expect]` checks: what a scenario states must happen, checked against the run's summary.

A key is a dotted path into ``summary.json`` (``"drift.detect_s_max"``); a bare value means
"equals", a table gives comparisons: ``{ le = 60 }``, ``{ ge = 1, lt = 5 }``, ``{ approx = 0.5, tol = 0.01 }``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SUMMARY_PATHS = (
    "scenario", "seed", "sim_seconds", "wall_seconds", "events", "cycles",
    "orders.submitted", "orders.filled", "orders.partially_filled", "orders.rejected", "orders.cancelled",
    "orders.unknown_resolved",
    "duplicates", "stale_actions", "unintended_exposure",
    "drift.episodes", "drift.detect_s_max", "drift.detect_s_mean", "drift.time_in_drift_s", "drift.max_size_gap",
    "drift.residual_size_gap", "drift.by_cause", "decisions",
    "execution.slippage_bps_mean", "execution.slippage_bps_p95", "execution.shortfall_bps_mean",
    "execution.fill_ratio", "execution.latency_ms_p50", "execution.latency_ms_p99", "execution.fees",
    "pnl.realistic", "pnl.ideal", "pnl.execution_cost", "pnl.funding", "pnl.transfers",
    "final.record_position", "final.exchange_position", "final.equity",
    "transport.requests", "transport.timeouts", "transport.refused", "transport.crashes", "transport.updates_sent",
    "transport.updates_dropped", "invariants_held",
)
ALIASES = {"residual_size_gap": "drift.residual_size_gap"}
OPS = ("eq", "ne", "lt", "le", "gt", "ge", "approx", "tol")
NUMERIC_OPS = ("lt", "le", "gt", "ge", "approx", "tol")  # bounds that only a number can be
TEXT_FIGURES = ("scenario",)  # the only figures a word can equal


@dataclass(frozen=True, slots=True)
class CheckResult:
    key: str
    expected: Any
    actual: Any
    passed: bool

    def describe(self) -> str:
        mark = "ok  " if self.passed else "FAIL"
        return f"{mark} {self.key}: expected {self.expected}, got {self.actual}"


def check_key_problems(key: str, value: Any) -> list[str]:
    """Problems with one `[expect]` entry, for the scenario validator."""
    import difflib

    path = ALIASES.get(key, key)
    problems = []
    if path not in SUMMARY_PATHS and not path.startswith(("drift.by_cause.", "decisions.", "market.", "rejects.")):
        near = difflib.get_close_matches(path, SUMMARY_PATHS, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        problems.append(f"expect.{key}: no such summary figure{hint}")
    if path not in TEXT_FIGURES:
        for op, v in ([("eq", value)] if not isinstance(value, dict) else
                      [(op, v) for op, v in value.items() if op in ("eq", "ne")]):
            if isinstance(v, str):
                shown = f"{{ {op} = ... }}" if isinstance(value, dict) else "a value"
                problems.append(f"expect.{key}: {shown} needs a number (or true/false), got {v!r}")
    if isinstance(value, dict):
        bad = [k for k in value if k not in OPS]
        if bad:
            problems.append(f"expect.{key}: unknown comparison {bad[0]!r} (use one of {', '.join(OPS)})")
        if "tol" in value and "approx" not in value:
            problems.append(f"expect.{key}: 'tol' needs 'approx'")
        for op in NUMERIC_OPS:
            bound = value.get(op)
            if op in value and (isinstance(bound, bool) or not isinstance(bound, int | float)):
                problems.append(f"expect.{key}: {{ {op} = ... }} needs a number, got {bound!r}")
    return problems


COUNTERS = ("drift.by_cause.", "decisions.", "rejects.")


def lookup(summary: dict[str, Any], path: str) -> Any:
    """The figure at a dotted path; a count that never happened (``decisions.flip``) is 0."""
    path = ALIASES.get(path, path)
    node: Any = summary
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return 0 if path.startswith(COUNTERS) and isinstance(node, dict) else None
        node = node[part]
    return node


def _compare(op: str, actual: Any, target: Any, tol: float) -> bool:
    if op == "eq":
        if isinstance(actual, float) or isinstance(target, float):
            return actual is not None and target is not None and math.isclose(actual, target, abs_tol=1e-9)
        return actual == target
    if op == "ne":
        return actual != target
    if actual is None or target is None:
        return False
    if op == "approx":
        return abs(actual - target) <= tol
    return {"lt": actual < target, "le": actual <= target, "gt": actual > target, "ge": actual >= target}[op]


def evaluate(expect: dict[str, Any], summary: dict[str, Any]) -> list[CheckResult]:
    results = []
    for key, spec in expect.items():
        actual = lookup(summary, key)
        if isinstance(spec, dict):
            tol = float(spec.get("tol", 1e-9))
            ok = all(_compare(op, actual, v, tol) for op, v in spec.items() if op != "tol")
        else:
            ok = _compare("eq", actual, spec, 0.0)
        results.append(CheckResult(key, spec, actual, ok))
    return results
