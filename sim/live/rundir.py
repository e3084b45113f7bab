"""Write a live run's directory: the same files as a simulated run's (README, "A run directory").

The summary's figures are computed by the same `sim.report.metrics.summarize`; stale actions,
duplicates and unintended exposure (which a simulation counts as they happen) come from
the venue's trade history and the record (`sim.live.audit`); the venue's own audit, when the venue
is an ``aethersim serve``, is kept beside them under ``venue_truth``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.live.audit import duplicates, stale_actions, unintended_exposure
from sim.live.session import LiveRun
from sim.live.tables import drift_frame, fills_frame, log_frames, orders_frame
from sim.report.metrics import summarize
from sim.runner import decision_counts
from sim.scenario.schema import Scenario

OUTPUTS = ("summary.json", "orders.parquet", "fills.parquet", "drift_episodes.parquet", "timeline.parquet",
           "events.parquet", "report.html")


def _venue_events(run: LiveRun) -> None:
    """The venue's own event log (faults, interventions, fills) into the run's events, as `venue`."""
    if not run.truth:
        return
    for e in run.truth.get("events", []):
        t = e.get("time")
        if isinstance(t, int | float):
            run.log.event(int(t), str(e.get("kind")), "venue", e.get("client_id"), detail=str(e.get("detail") or ""))


def write_run_dir(sc: Scenario, run: LiveRun, run_dir: Path, report: bool = True) -> dict[str, Any]:
    record_path = run_dir / "record.sqlite"
    _venue_events(run)
    timeline, events = log_frames(run.log)
    events = events.sort_values("ts_ms", kind="stable").reset_index(drop=True)
    tables = {"orders": orders_frame(record_path, run.orders, run.arrival, run.fills),
              "fills": fills_frame(run.fills), "drift_episodes": drift_frame(record_path),
              "timeline": timeline, "events": events}
    for name, df in tables.items():
        df.to_parquet(run_dir / f"{name}.parquet", index=False)
    record_fills = run.fills
    summary = summarize(
        scenario=sc.scenario.name, seed=sc.scenario.seed, sim_seconds=(run.end_ms - run.start_ms) / 1000.0,
        wall_seconds=run.wall_s, events=len(events), cycles=run.cycles, orders=tables["orders"],
        fills=tables["fills"], drift=tables["drift_episodes"],
        duplicates=duplicates(run.orders, record_fills), stale_actions=stale_actions(record_path, record_fills),
        unintended_exposure=unintended_exposure(record_path, record_fills, sc.bot.bot_id),
        record_position=run.record_position, exchange_position=float(run.position.qty), equity=run.equity,
        initial_balance=sc.account.balance, ideal_equity=None)
    summary["mode"] = "live"
    summary["decisions"] = decision_counts(record_path)
    summary["live"] = {"start_ms": run.start_ms, "end_ms": run.end_ms, "restarted": run.restarted,
                       "stopped_by": run.stopped_by, "requests": run.driver.requests,
                       "timeouts": run.driver.timeouts, "refused": run.driver.refused,
                       "woken_early": run.driver.woken_early, "updates_received": run.streams.received,
                       "stream_reconnects": run.streams.reconnects}
    summary["transport"] = {"requests": run.driver.requests, "timeouts": run.driver.timeouts,
                            "refused": run.driver.refused, "crashes": 0, "updates_sent": None,
                            "updates_dropped": None}
    summary["venue_truth"] = None if run.truth is None else {
        k: run.truth.get(k) for k in ("time", "position", "wallet", "equity", "open_orders", "orders", "fills",
                                      "audit")}
    summary["invariants_held"] = None  # checked against the venue's truth by the caller (tests) when it has it
    summary["expect"] = {}
    if run.error is not None:
        summary["stopped"] = {"at_ms": run.end_ms, "error": run.error}
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if report:
        from sim.report.html import build_report

        build_report(run_dir)
    return summary


__all__ = ["OUTPUTS", "write_run_dir"]
