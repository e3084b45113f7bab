"""How the report and the notebook card say a number: definitions, units, durations, headline cards."""
from __future__ import annotations

import html

DEFINITIONS = {  # docs/metrics.md says the same at length; shown beside each headline card and in the last table
    "sim_seconds": "simulated time the run covers",
    "wall_seconds": "wall-clock time the simulation took",
    "events": "events the world logged",
    "cycles": "bot cycles run",
    "orders.submitted": "orders the bot sent to the venue",
    "orders.filled": "orders filled in full",
    "orders.partially_filled": "orders filled in part",
    "orders.rejected": "orders the venue refused",
    "orders.cancelled": "orders cancelled (by the bot, the venue or an operator)",
    "orders.unknown_resolved": "orders whose status went unknown (a timeout) and was resolved by a query",
    "drift.by_cause": "drift episodes by cause",
    "drift.episodes": "differences between record and venue the bot detected",
    "drift.detect_s_max": "worst detection latency: detected − began (s)",
    "drift.detect_s_mean": "mean detection latency (s)",
    "drift.time_in_drift_s": "total time from began to resolved (s)",
    "drift.max_size_gap": "largest |record − venue| position gap (base units)",
    "drift.residual_size_gap": "gap left after the final reconcile (base units)",
    "stale_actions": "orders sent while the record differed from the venue",
    "unintended_exposure": "bot fills that left a position beyond the bot's target",
    "duplicates": "second live orders for one intent",
    "execution.slippage_bps_mean": "avg fill vs arrival mid, size-weighted (bps, + = cost)",
    "execution.slippage_bps_p95": "95th percentile slippage (bps)",
    "execution.shortfall_bps_mean": "avg fill vs mid at decision (bps, + = cost)",
    "execution.fill_ratio": "filled / requested quantity of market orders (%)",
    "execution.latency_ms_p50": "decision → venue answer, median (ms)",
    "execution.latency_ms_p99": "decision → venue answer, 99th percentile (ms)",
    "execution.fees": "fees paid on every fill of the account, liquidation included (quote currency)",
    "pnl.realistic": "PnL under realistic execution: equity − initial balance − transfers (quote currency)",
    "pnl.ideal": "PnL of the same strategy in test mode (quote currency)",
    "pnl.execution_cost": "ideal − realistic PnL (quote currency)",
    "pnl.funding": "funding received (+) or paid (−) (quote currency)",
    "pnl.transfers": "margin transferred in (+) or out (−): moves equity, not PnL (quote currency)",
    "invariants_held": "every invariant of the world (docs/metrics.md, Invariants) held at the end",
    "final.record_position": "position the record holds at the end",
    "final.exchange_position": "position on the venue at the end",
    "final.equity": "venue equity at the end (quote currency)",
}
def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and k not in ("expect", "by_cause"):
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


HEADLINE = (("drift.episodes", "drift episodes"), ("drift.detect_s_max", "worst detection"),
            ("drift.residual_size_gap", "residual gap"), ("stale_actions", "stale actions"),
            ("duplicates", "duplicates"), ("execution.slippage_bps_mean", "slippage (bps)"),
            ("execution.fill_ratio", "fill ratio"), ("pnl.realistic", "PnL realistic"),
            ("pnl.execution_cost", "cost of execution"), ("invariants_held", "invariants held"))


def headline_cards(s: dict) -> str:
    """The headline figures as cards, each with its definition beside the value."""
    flat = _flat({k: v for k, v in s.items() if k not in ("expect", "invariants")})
    flat["invariants_held"] = _invariants(s)
    return "<div class=cards>" + "".join(
        f"<div class=card><div class=v>{html.escape(_fmt(flat.get(k), k))}</div>"
        f"<div class=k>{html.escape(label)}</div>"
        f"<div class=d>{html.escape(DEFINITIONS.get(k, ''))}</div></div>" for k, label in HEADLINE) + "</div>"


def _invariants(s: dict) -> str:
    """"all held", the invariants that broke, or why none were checked."""
    held = s.get("invariants_held")
    if held is None:
        return "not checked (run stopped)"
    broke = [name.replace("_", " ") for name, inv in s.get("invariants", {}).items() if not inv.get("held", True)]
    return "all held" if held and not broke else "broke: " + ", ".join(broke)


def duration(seconds: float) -> str:
    """Seconds as a person reads them: ``0.379 s``, ``2 min 5 s``, ``24 h``, ``2 d 3 h``."""
    v = float(seconds)
    if abs(v) < 60:
        return f"{v:.3g} s"
    parts, rest = [], round(abs(v))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size} {unit}")
            rest %= size
    return ("-" if v < 0 else "") + " ".join(parts[:2])


def _is_duration(key: str) -> bool:
    last = key.rsplit(".", 1)[-1]
    return last.endswith("_seconds") or last.endswith("_s") or "_s_" in last


def _fmt(v: object, key: str = "") -> str:
    """A summary value for people: percent for ratios, readable durations, no scientific notation."""
    if isinstance(v, bool) or v is None or not isinstance(v, int | float):
        return "–" if v is None else str(v)
    if key.endswith("ratio"):
        return f"{v:.1%}".replace(".0%", "%")
    if _is_duration(key):
        return duration(v)
    if float(v).is_integer():
        return f"{v:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.2f}"
    return f"{v:,.4g}" if abs(v) >= 1e-4 else f"{v:.2e}"
