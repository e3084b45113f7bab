"""The run report: one self-contained HTML file (charts, tables, definitions) that works offline anywhere."""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from sim.report.cards import DEFINITIONS, HEADLINE, _flat, _fmt, _invariants, duration, headline_cards
from sim.report.load import load_run
from sim.report.page import figure_div, page, sortable_table

DOCS = "docs/metrics.md"  # in the aethersim repository and source distribution: every definition at length


def _checks(s: dict) -> str:
    rows = []
    for key, c in s.get("expect", {}).items():
        cls = "pass" if c["passed"] else "fail"
        rows.append(f"<tr><td>{html.escape(key)}</td><td>{html.escape(str(c['expected']))}</td>"
                    f"<td>{html.escape(_fmt(c['actual'], key))}</td>"
                    f"<td class={cls}>{'pass' if c['passed'] else 'FAIL'}</td></tr>")
    for name, inv in s.get("invariants", {}).items():
        cls = "pass" if inv["held"] else "fail"
        rows.append(f"<tr><td>invariant: {html.escape(name)}</td><td>holds</td>"
                    f"<td>{html.escape('; '.join(inv['problems']) or 'holds')}</td>"
                    f"<td class={cls}>{'pass' if inv['held'] else 'FAIL'}</td></tr>")
    return f"<table><tr><th>check</th><th>expected</th><th>actual</th><th>result</th></tr>{''.join(rows)}</table>"


def _market_line(s: dict) -> str:
    mk = s.get("market") or {}
    if mk.get("model") == "replay":
        return (f"<p class=muted>Market: replay of {html.escape(str(mk.get('kind')))} "
                f"({html.escape(str(mk.get('format')))}, time unit {html.escape(str(mk.get('time_unit')))}), "
                f"window {html.escape(' to '.join(mk.get('window', [])))}, intrabar model: "
                f"<b>{html.escape(str(mk.get('intrabar')))}</b> at {mk.get('resolution_ms')} ms; "
                f"gaps {mk.get('gaps', 0)}, candles filled {mk.get('candles_filled', 0)}, trades excluded "
                f"{mk.get('excluded', 0)} {html.escape(str(mk.get('excluded_types', '')))}</p>")
    return "<p class=muted>Market: synthetic GBM path (see the scenario's [market] table)</p>" if mk else ""


ORDER_COLUMNS = ("time", "client_id", "role", "side", "type", "qty", "trigger_price", "record_status", "venue_status",
                 "reject_reason", "filled_qty", "avg_price", "arrival_mid", "decision_price", "slippage_bps",
                 "shortfall_bps", "latency_ms", "fees")
DRIFT_COLUMNS = ("episode", "began (UTC)", "detected (UTC)", "kind", "cause", "detect_s", "resolve_s", "record_qty",
                 "venue_qty", "correction")
COST_NOTE = """<p class=muted>Spread and impact come from each fill against the arrival mid; delay is the mid's move
between decision and arrival; "path difference" is what the split does not explain: the two runs traded different
paths (a TP that fired in one and not the other, say). "fees" are those of the bot's own orders; fees of fills the
bot did not send (a liquidation, another system's trades) are listed outside the split: they are not a cost of
executing the bot's orders, and any difference in them between the two runs is part of the path difference.</p>"""


def build_report(run_dir: str | Path) -> Path:
    """Write ``report.html`` for a run directory, from its files alone: one file, no links to others."""
    from sim.report.figures import draw_equity, draw_position, draw_price
    from sim.report.figures_exec import (
        cost_breakdown,
        draw_costs,
        draw_distributions,
        draw_drift_latency,
        draw_latency,
        draw_rejects,
        draw_slippage,
        fees_outside_split,
        money,
    )

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    s = run.summary
    flat = _flat({k: v for k, v in s.items() if k not in ("expect", "invariants")})
    flat["invariants_held"] = _invariants(s)
    rows = [f"<tr><td>{html.escape(k)}</td><td>{html.escape(_fmt(v, k))}</td>"
            f"<td class=muted>{html.escape(DEFINITIONS.get(k, ''))}</td></tr>" for k, v in flat.items()]
    stopped = s.get("stopped")
    banner = (f"<p class=fail>Run stopped early at t={stopped['at_ms']} ms: {html.escape(stopped['error'])}</p>"
              if stopped else "")
    orders = run.orders.reset_index()
    drift = run.drift_episodes.reset_index().rename(columns={"time": "detected (UTC)"})
    if "began_ms" in drift.columns:
        drift.insert(1, "began (UTC)", pd.to_datetime(drift["began_ms"].astype("Int64"), unit="ms", utc=True))
    cost_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{money(v)}</td></tr>"
                        for k, v in cost_breakdown(run).items())
    cost_rows += "".join(f"<tr class=muted><td>{html.escape(k)} (outside the split)</td><td>{money(v)}</td></tr>"
                         for k, v in fees_outside_split(run).items())
    body = f"""<h1>Run report: {html.escape(s['scenario'])} <span class=muted>(seed {s['seed']},
{html.escape(duration(s['sim_seconds']))} simulated)</span></h1>{_market_line(s)}{banner}
{headline_cards(s)}
<p class=muted>Every figure of the summary is in the table at the end, with its definition; the definitions at
length are in <code>{DOCS}</code> of the aethersim repository. Charts: drag to zoom (the time charts zoom
together), double-click to reset, hover for details, click a legend entry to hide it.</p>
<h2>Expectations and invariants</h2>{_checks(s)}
<h2>Drift: platform record vs venue</h2>{figure_div(draw_position(run), linked=True)}
{figure_div(draw_drift_latency(run), linked=bool(len(run.drift_episodes)))}
<h3>Episodes</h3>{sortable_table(_cols(drift, DRIFT_COLUMNS), "episodes")}
<h2>Price, fills and protection</h2>{figure_div(draw_price(run), linked=True)}
<h2>Outcome: realistic vs ideal execution</h2>{figure_div(draw_equity(run), linked=True)}
{figure_div(draw_costs(run))}
<table><tr><th>cost of execution, by cause (quote, + = cost)</th><th>amount</th></tr>{cost_rows}</table>{COST_NOTE}
<h2>Execution quality</h2>{figure_div(draw_slippage(run))}{figure_div(draw_latency(run))}
{figure_div(draw_distributions(run))}{figure_div(draw_rejects(run))}
<h2>Orders</h2><p class=muted>Every order the bot sent ({len(orders):,}).</p>
{sortable_table(_cols(orders, ORDER_COLUMNS), "orders")}
<h2>All figures</h2><table><tr><th>metric</th><th>value</th><th>definition</th></tr>{''.join(rows)}</table>"""
    path = run_dir / "report.html"
    path.write_text(page(f"aethersim run: {s['scenario']}", body), encoding="utf-8")
    return path


def _cols(df: pd.DataFrame, wanted: tuple[str, ...]) -> pd.DataFrame:
    return df[[c for c in wanted if c in df.columns]] if len(df) else df


__all__ = ["DEFINITIONS", "HEADLINE", "_fmt", "_invariants", "build_report", "duration", "headline_cards"]
