"""The run report: one self-contained HTML page beside its `figures/*.png`."""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from sim.report.figures import all_figures
from sim.report.load import load_run

DEFINITIONS = {  # DESIGN.md section 5; shown beside the headline cards and in the table of all figures
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
    "invariants_held": "every invariant of the world (DESIGN.md section 8) held at the end",
    "final.record_position": "position the record holds at the end",
    "final.exchange_position": "position on the venue at the end",
    "final.equity": "venue equity at the end (quote currency)",
}

CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f4f4f4} .pass{color:#176a17;font-weight:bold} .fail{color:#b00;font-weight:bold}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} .muted{color:#777}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:1em 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:110px}
.card{max-width:190px} .card .v{font-size:20px;font-weight:600} .card .k{font-size:12px;color:#444}
.card .d{font-size:11px;color:#777;margin-top:2px}
"""


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and k not in ("expect", "by_cause"):
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def _table(df: pd.DataFrame, max_rows: int = 300) -> str:
    if not len(df):
        return "<p class=muted>none</p>"
    note = f"<p class=muted>first {max_rows} of {len(df)} rows</p>" if len(df) > max_rows else ""
    head = df.head(max_rows).copy()
    for col in head.columns:  # times to the millisecond, the same way in every column
        if isinstance(head[col].dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(head[col]):
            head[col] = head[col].dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3]
    shown = head.astype(object).where(head.notna(), "")
    return note + shown.to_html(index=False, border=0, na_rep="", float_format=lambda x: f"{x:,.4f}")


def _img(name: str, figures: dict[str, Path]) -> str:
    p = figures.get(name)
    return f'<img src="figures/{p.name}" alt="{p.stem}">' if p else ""


HEADLINE = (("drift.episodes", "drift episodes"), ("drift.detect_s_max", "worst detection"),
            ("drift.residual_size_gap", "residual gap"), ("stale_actions", "stale actions"),
            ("duplicates", "duplicates"), ("execution.slippage_bps_mean", "slippage (bps)"),
            ("execution.fill_ratio", "fill ratio"), ("pnl.realistic", "PnL realistic"),
            ("pnl.execution_cost", "cost of execution"), ("invariants_held", "invariants held"))


def build_report(run_dir: str | Path) -> Path:
    """Write ``report.html`` and ``figures/*.png`` for a run directory, from its files alone."""
    from sim.report.figures_exec import cost_breakdown, fees_outside_split, money

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    figures = {p.stem: p for p in all_figures(run, run_dir / "figures")}
    s = run.summary
    flat = _flat({k: v for k, v in s.items() if k not in ("expect", "invariants")})
    flat["invariants_held"] = _invariants(s)
    cards = "".join(f"<div class=card><div class=v>{html.escape(_fmt(flat.get(k), k))}</div>"
                    f"<div class=k>{html.escape(label)}</div>"
                    f"<div class=d>{html.escape(DEFINITIONS.get(k, ''))}</div></div>" for k, label in HEADLINE)
    rows = [f"<tr><td>{html.escape(k)}</td><td>{html.escape(_fmt(v, k))}</td>"
            f"<td class=muted>{html.escape(DEFINITIONS.get(k, ''))}</td></tr>" for k, v in flat.items()]
    checks = []
    for key, c in s.get("expect", {}).items():
        cls = "pass" if c["passed"] else "fail"
        checks.append(f"<tr><td>{html.escape(key)}</td><td>{html.escape(str(c['expected']))}</td>"
                      f"<td>{html.escape(_fmt(c['actual'], key))}</td>"
                      f"<td class={cls}>{'pass' if c['passed'] else 'FAIL'}</td></tr>")
    for name, inv in s.get("invariants", {}).items():
        cls = "pass" if inv["held"] else "fail"
        checks.append(f"<tr><td>invariant: {html.escape(name)}</td><td>holds</td>"
                      f"<td>{html.escape('; '.join(inv['problems']) or 'holds')}</td>"
                      f"<td class={cls}>{'pass' if inv['held'] else 'FAIL'}</td></tr>")
    mk = s.get("market") or {}
    market_line = ""
    if mk.get("model") == "replay":
        market_line = (f"<p class=muted>Market: replay of {html.escape(str(mk.get('kind')))} "
                       f"({html.escape(str(mk.get('format')))}, time unit {html.escape(str(mk.get('time_unit')))}), "
                       f"window {html.escape(' to '.join(mk.get('window', [])))}, intrabar model: "
                       f"<b>{html.escape(str(mk.get('intrabar')))}</b> at {mk.get('resolution_ms')} ms; "
                       f"gaps {mk.get('gaps', 0)}, candles filled {mk.get('candles_filled', 0)}, trades excluded "
                       f"{mk.get('excluded', 0)} {html.escape(str(mk.get('excluded_types', '')))}</p>")
    elif mk:
        market_line = "<p class=muted>Market: synthetic GBM path (see the scenario's [market] table)</p>"
    stopped = s.get("stopped")
    banner = (f"<p class=fail>Run stopped early at t={stopped['at_ms']} ms: {html.escape(stopped['error'])}</p>"
              if stopped else "")
    orders = run.orders.reset_index()
    order_cols = [c for c in ("time", "client_id", "role", "side", "type", "qty", "trigger_price", "record_status",
                              "venue_status", "reject_reason", "filled_qty", "avg_price", "arrival_mid",
                              "decision_price", "slippage_bps", "shortfall_bps", "latency_ms", "fees")
                  if c in orders.columns]
    drift = run.drift_episodes.reset_index().rename(columns={"time": "detected (UTC)"})
    if "began_ms" in drift.columns:
        drift.insert(1, "began (UTC)", pd.to_datetime(drift["began_ms"].astype("Int64"), unit="ms", utc=True))
    drift_cols = [c for c in ("episode", "began (UTC)", "detected (UTC)", "kind", "cause", "detect_s", "resolve_s",
                              "record_qty", "venue_qty", "correction") if c in drift.columns]
    costs = cost_breakdown(run)
    cost_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{money(v)}</td></tr>" for k, v in costs.items())
    cost_rows += "".join(f"<tr class=muted><td>{html.escape(k)} (outside the split)</td><td>{money(v)}</td></tr>"
                         for k, v in fees_outside_split(run).items())
    title = f"aethersim run: {html.escape(s['scenario'])}"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>{CSS}</style></head><body>
<h1>Run report: {html.escape(s['scenario'])} <span class=muted>(seed {s['seed']},
{html.escape(duration(s['sim_seconds']))} simulated)</span></h1>{market_line}{banner}
<div class=cards>{cards}</div>
<p class=muted>Definitions follow DESIGN.md section 5; every figure of the summary is in the table at the end.</p>
<h2>Expectations and invariants</h2>
<table><tr><th>check</th><th>expected</th><th>actual</th><th>result</th></tr>{''.join(checks)}</table>
<h2>Drift: platform record vs venue</h2>{_img('position', figures)}{_img('drift_latency', figures)}
<h3>Episodes</h3>{_table(drift[drift_cols] if len(drift) else drift)}
<h2>Execution quality</h2>{_img('slippage', figures)}{_img('latency', figures)}
{_img('cost_distributions', figures)}{_img('rejects', figures)}
<h2>Outcome: realistic vs ideal execution</h2>{_img('equity', figures)}{_img('cost_breakdown', figures)}
<table><tr><th>cost of execution, by cause (quote, + = cost)</th><th>amount</th></tr>{cost_rows}</table>
<p class=muted>Spread and impact come from each fill against the arrival mid; delay is the mid's move between
decision and arrival; "path difference" is what the split does not explain: the two runs traded different paths
(a TP that fired in one and not the other, say). "fees" are those of the bot's own orders; fees of fills the
bot did not send (a liquidation, another system's trades) are listed outside the split: they are not a cost of
executing the bot's orders, and any difference in them between the two runs is part of the path difference.</p>
<h2>Price, fills and protection</h2>{_img('price', figures)}
<h2>Orders</h2>{_table(orders[order_cols] if len(orders) else orders)}
<h2>All figures</h2><table><tr><th>metric</th><th>value</th><th>definition</th></tr>{''.join(rows)}</table>
</body></html>"""
    path = run_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


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
