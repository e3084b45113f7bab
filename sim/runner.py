"""One run: build the world, run it, settle, write the run directory, check `[expect]`.

Also runs the ideal twin (the same strategy and price path in test mode) so the report can say
what execution cost. A run that fails midway (a strategy raising, a bug in the world, Ctrl-C)
still writes what it has (events, orders, fills, timeline so far), marks where it stopped in
``summary.json`` (and, for an unexpected error, its traceback in ``traceback.txt``) and raises
`RunFailed` (`RunInterrupted` for Ctrl-C).
"""
from __future__ import annotations

import gc
import json
import re
import shutil
import sqlite3
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.core.errors import StrategyError
from sim.resources import check_memory
from sim.rundir import run_dir_in
from sim.scenario.expect import CheckResult, evaluate
from sim.scenario.schema import Scenario
from sim.world.build import World, build_world
from sim.world.invariants import check_all
from sim.world.tables import drift_frame, events_frame, fills_frame, orders_frame, timeline_frame

if TYPE_CHECKING:
    from sim.report.notebook import RunPlots

OUTPUTS = ("summary.json", "orders.parquet", "fills.parquet", "drift_episodes.parquet", "timeline.parquet",
           "events.parquet", "ideal_timeline.parquet", "record.sqlite", "record.sqlite-wal", "record.sqlite-shm",
           "report.html", "traceback.txt")
INTERRUPTED = "interrupted (Ctrl-C)"


def _elapsed(ms: int) -> str:
    """Simulated time as a person reads it: ``40m00.3s``, ``1d02h05m00.0s``, ``12.5s`` (tenths, truncated)."""
    ms = max(ms, 0)
    days, rest = divmod(ms, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = f"{rest // 1000:02d}.{rest % 1000 // 100}s"
    if days:
        return f"{days}d{hours:02d}h{minutes:02d}m{seconds}"
    if hours:
        return f"{hours}h{minutes:02d}m{seconds}"
    if minutes:
        return f"{minutes}m{seconds}"
    return f"{rest // 1000}.{rest % 1000 // 100}s"


def _utc(ms: int) -> str:
    """``2024-01-01 00:40:00.331 UTC``."""
    when = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return f"{when:%Y-%m-%d %H:%M:%S}.{ms % 1000:03d} UTC"


class RunFailed(RuntimeError):
    """The run stopped before its end; its directory holds everything written up to then.

    ``str()`` says when it stopped (simulated time into the run and the venue's UTC instant), what
    raised, and where the partial run directory is.
    """

    def __init__(self, run_dir: Path, at_ms: int, error: str, start_ms: int = 0) -> None:
        what = re.sub(r" at t=\d+", "", error)  # the instant is said once, readably, below
        super().__init__(
            f"run stopped {_elapsed(at_ms - start_ms)} into the run ({_utc(at_ms)}): {what}\n"
            f"partial run directory: {run_dir} (events.parquet up to the failure; summary.json says where it "
            "stopped)")
        self.run_dir = run_dir
        self.at_ms = at_ms
        self.start_ms = start_ms


class RunInterrupted(RunFailed):
    """The run was stopped by Ctrl-C (KeyboardInterrupt); what it had done is written, as for `RunFailed`."""


@dataclass
class _Stop:
    """Why and when a run stopped early: the simulated instant, a sentence, and a traceback if unexpected."""

    at_ms: int
    error: str
    trace: str | None = None

    @property
    def interrupted(self) -> bool:
        return self.error == INTERRUPTED


def _stop(at_ms: int, exc: BaseException) -> _Stop:
    """A `_Stop` for ``exc``: a strategy's error as it says, Ctrl-C as such, anything else with where it was raised."""
    if isinstance(exc, KeyboardInterrupt):
        return _Stop(at_ms, INTERRUPTED)
    if isinstance(exc, StrategyError):
        return _Stop(at_ms, str(exc))
    origin = exc
    while isinstance(origin.__cause__, type(origin)):  # SimPy re-raises a process's error as a copy of it
        origin = origin.__cause__
    frames = traceback.extract_tb(origin.__traceback__)
    where = f" (raised at {frames[-1].filename} line {frames[-1].lineno})" if frames else ""
    trace = "".join(traceback.format_exception(exc))
    return _Stop(at_ms, f"{type(exc).__name__}: {exc}{where}", trace)


@dataclass(frozen=True, slots=True)
class RunProgress:
    """How far a run has got: simulated time done and total (seconds), and the pace so far."""

    phase: str  # "run" or "ideal twin"
    sim_done_s: float
    sim_total_s: float
    events: int
    wall_s: float

    @property
    def fraction(self) -> float:
        return self.sim_done_s / self.sim_total_s if self.sim_total_s > 0 else 1.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s if self.wall_s > 0 else 0.0


ProgressCallback = Callable[[RunProgress], None]
PROGRESS_STEPS = 200  # progress is reported this many times per run, whatever its length


@dataclass
class RunResult:
    summary: dict[str, Any]
    run_dir: Path
    checks: list[CheckResult] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def broken_invariants(self) -> dict[str, list[str]]:
        """The invariants this run broke, with their problems (empty: every one held)."""
        return {name: v["problems"] for name, v in self.summary.get("invariants", {}).items() if not v["held"]}

    @property
    def plot(self) -> RunPlots:
        """The report's figures of this run as Plotly objects (``result.plot.price()``), read from its directory."""
        from sim.report.load import load_run

        return load_run(self.run_dir).plot

    def _repr_html_(self) -> str:
        """Jupyter shows the result as the run's summary card."""
        from sim.report.notebook import summary_card

        return summary_card(self.summary, self.run_dir)


def decision_counts(record_path: Path) -> dict[str, int]:
    """How many decisions of each action (HOLDs are not recorded) the bot took."""
    with sqlite3.connect(record_path) as conn:
        rows = conn.execute("SELECT action, COUNT(*) FROM decisions GROUP BY action ORDER BY action").fetchall()
    return {str(a): int(n) for a, n in rows}


def reject_counts(events: pd.DataFrame) -> dict[str, dict]:
    """Orders the venue refused, by whose they were (``bot`` or ``external``) and by reason, and
    under ``by_code`` the same by the venue's (Binance's) code name, e.g. ``MIN_NOTIONAL``.

    Gateway refusals (rate limited, outage) are not orders the venue saw: `transport.refused`
    counts them.
    """
    out: dict[str, dict[str, int]] = {"bot": {}, "external": {}}
    codes: dict[str, dict[str, int]] = {"bot": {}, "external": {}}
    if not len(events):
        return {**out, "by_code": codes}
    rejected = events[events["kind"] == "order_rejected"]
    for cid, detail in zip(rejected["client_id"], rejected["detail"], strict=True):
        whose = "external" if str(cid).startswith("ext-") else "bot"
        reason, _, rest = str(detail).partition(": ")
        out[whose][reason] = out[whose].get(reason, 0) + 1
        parts = rest.split(" ", 2)  # "-4164 MIN_NOTIONAL: ..." (the venue's code, then its name)
        if len(parts) >= 2 and parts[0].lstrip("-").isdigit():
            name = parts[1].rstrip(":")
            codes[whose][name] = codes[whose].get(name, 0) + 1
    return {**{whose: dict(sorted(counts.items())) for whose, counts in out.items()},
            "by_code": {whose: dict(sorted(counts.items())) for whose, counts in codes.items()}}


def default_run_dir(scenario: Scenario, seed: int) -> Path:
    """``reports/runs/NAME-seedN``; a name that would lead outside ``reports/runs`` raises `UnsafeRunName`."""
    return run_dir_in(Path("reports") / "runs", f"{scenario.scenario.name}-seed{seed}")


def _simulate(world: World, progress: ProgressCallback | None = None,
              phase: str = "run") -> tuple[int | None, str | None]:
    """Run to the end and settle with a final reconcile; returns (stopped_at, error) on failure."""
    stop = _run_world(world, progress, phase)
    return (None, None) if stop is None else (stop.at_ms, stop.error)


def _run_world(world: World, progress: ProgressCallback | None = None, phase: str = "run") -> _Stop | None:
    """Run to the end and settle with a final reconcile; on any failure (Ctrl-C included), why it stopped."""
    gc_before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)  # a long run holds millions of log entries: collect less often
    try:
        return _simulate_gc(world, progress, phase)
    finally:
        gc.set_threshold(*gc_before)


def _advance(world: World, progress: ProgressCallback | None, phase: str) -> None:
    """Run the world to its end, in slices when someone watches the progress.

    Stopping and resuming SimPy at a slice boundary changes nothing the world does (the stop is an
    event of its own, ordered before any event at that instant), so a run with a progress display
    gives the same summary as one without.
    """
    if progress is None:
        world.env.run(until=world.end_ms)
        return
    t0 = time.perf_counter()
    span = world.end_ms - world.start_ms
    step = max(1, span // PROGRESS_STEPS)
    t = world.start_ms
    while t < world.end_ms:
        t = min(world.end_ms, t + step)
        world.env.run(until=t)
        progress(RunProgress(phase, (t - world.start_ms) / 1000.0, span / 1000.0, world.events,
                             time.perf_counter() - t0))


def _simulate_gc(world: World, progress: ProgressCallback | None, phase: str) -> _Stop | None:
    try:
        _advance(world, progress, phase)
        if world.driver.down and world.driver.restarter is not None:
            world.driver.restarter().close()  # down at the end: a fresh process does the final reconcile
            world.driver.down = False
        if not world.driver.down:  # a final reconcile, nothing in flight
            world.driver.settle(world.bot.settle())
            world.record.flush()
    except (Exception, KeyboardInterrupt) as exc:  # the run stops here; the caller writes what it has
        return _stop(int(world.env.now), exc)
    return None


def _ideal_twin(scenario: Scenario, seed: int, world: World,
                progress: ProgressCallback | None = None) -> tuple[float, pd.DataFrame]:
    with tempfile.TemporaryDirectory() as tmp:
        twin = build_world(scenario, seed, Path(tmp) / "record.sqlite", ideal=True, path=world.venue.path)
        stop = _run_world(twin, progress, "ideal twin")
        twin.record.close()
        if stop is not None:
            raise _TwinStopped(stop)
        return twin.venue.equity(twin.end_ms), timeline_frame(twin)


class _TwinStopped(Exception):
    def __init__(self, stop: _Stop) -> None:
        super().__init__(stop.error)
        self.stop = stop


def run(scenario: Scenario, seed: int | None = None, out: str | Path | None = None, ideal_twin: bool = True,
        report: bool = True, progress: ProgressCallback | None = None) -> RunResult:
    """Run one scenario with one seed and write its run directory (see README, "A run directory").

    ``progress``, when given, is called a few hundred times per simulated run (and per ideal twin)
    with a `RunProgress`; the CLI draws a progress bar with it on a terminal. A run that stops
    early writes what it has and raises `RunFailed` (`RunInterrupted` after Ctrl-C).
    """
    seed = scenario.scenario.seed if seed is None else seed
    run_dir = Path(out) if out is not None else default_run_dir(scenario, seed)
    check_memory(scenario)
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        (run_dir / name).unlink(missing_ok=True)
    shutil.rmtree(run_dir / "figures", ignore_errors=True)
    record_path = run_dir / "record.sqlite"

    t0 = time.perf_counter()
    try:
        world = build_world(scenario, seed, record_path)
    except KeyboardInterrupt:  # nothing simulated yet: say so, as for a stop mid-run
        start = scenario.scenario.start_ms
        raise RunInterrupted(run_dir, start, f"{INTERRUPTED} while the world was being built, before the first "
                                             "tick") from None
    stop = _run_world(world, progress)
    wall = time.perf_counter() - t0
    invariants: dict[str, list[str]] = {}
    if stop is None:
        try:
            invariants = check_all(world, record_path)
        except (Exception, KeyboardInterrupt) as exc:
            stop = _stop(world.end_ms, exc)
    world.record.close()
    ideal_equity, ideal_tl = (None, None)
    if ideal_twin and stop is None:
        try:
            ideal_equity, ideal_tl = _ideal_twin(scenario, seed, world, progress)
        except _TwinStopped as exc:
            stop = _Stop(exc.stop.at_ms, f"the ideal twin (test mode) stopped: {exc.stop.error}", exc.stop.trace)
            stop = _Stop(exc.stop.at_ms, INTERRUPTED) if exc.stop.interrupted else stop
        except (Exception, KeyboardInterrupt) as exc:
            stop = _stop(world.end_ms, exc)

    tables, not_written = _write_tables(world, record_path, run_dir, ideal_tl)
    end = world.end_ms if stop is None else min(int(world.env.now), world.end_ms)
    try:
        summary = _summary(scenario, seed, world, tables, record_path, end, wall, ideal_equity, invariants, stop)
    except Exception as exc:  # on a partial run the figures may not compute: say so, keep the rest
        stop = stop or _stop(end, exc)
        summary = {"scenario": scenario.scenario.name, "seed": seed, "sim_seconds": (end - world.start_ms) / 1000.0,
                   "wall_seconds": wall, "summary_error": f"{type(exc).__name__}: {exc}"}
    checks = evaluate(scenario.expect, summary) if stop is None else []
    summary["expect"] = {c.key: {"expected": c.expected, "actual": c.actual, "passed": c.passed} for c in checks}
    if stop is not None:
        summary["stopped"] = {"at_ms": stop.at_ms, "error": stop.error}
        if not_written:
            summary["stopped"]["not_written"] = not_written
        if stop.trace:
            (run_dir / "traceback.txt").write_text(stop.trace)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if report:
        from sim.report.html import build_report

        try:
            build_report(run_dir)
        except Exception:
            if stop is None:
                raise
            # a partial run may lack what a chart needs; its files and summary are what matter
    if stop is not None:
        kind = RunInterrupted if stop.interrupted else RunFailed
        raise kind(run_dir, stop.at_ms, stop.error, world.start_ms)
    return RunResult(summary, run_dir, checks, tables)


def _write_tables(world: World, record_path: Path, run_dir: Path,
                  ideal_tl: pd.DataFrame | None) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Each table built and written on its own, so one that cannot be built (after a failure) loses only itself."""
    builders = {"orders": lambda: orders_frame(world, record_path), "fills": lambda: fills_frame(world),
                "drift_episodes": lambda: drift_frame(world, record_path), "timeline": lambda: timeline_frame(world),
                "events": lambda: events_frame(world)}
    tables: dict[str, pd.DataFrame] = {}
    not_written: dict[str, str] = {}
    for name, build in builders.items():
        try:
            tables[name] = build()
            tables[name].to_parquet(run_dir / f"{name}.parquet", index=False)
        except Exception as exc:
            not_written[name] = f"{type(exc).__name__}: {exc}"
    if ideal_tl is not None:
        ideal_tl.to_parquet(run_dir / "ideal_timeline.parquet", index=False)
    return tables, not_written


def _summary(scenario: Scenario, seed: int, world: World, tables: dict[str, pd.DataFrame], record_path: Path,
             end: int, wall: float, ideal_equity: float | None, invariants: dict[str, list[str]],
             stop: _Stop | None) -> dict[str, Any]:
    from sim.report.metrics import summarize

    summary = summarize(
        scenario=scenario.scenario.name, seed=seed, sim_seconds=(end - world.start_ms) / 1000.0, wall_seconds=wall,
        events=world.events, cycles=world.cycles, orders=tables["orders"], fills=tables["fills"],
        drift=tables["drift_episodes"], duplicates=world.truth.duplicates, stale_actions=world.truth.stale_actions,
        unintended_exposure=world.truth.unintended_exposure,
        record_position=float(world.record.state.position.qty), exchange_position=float(world.venue.book.qty),
        equity=world.venue.equity(end), initial_balance=scenario.account.balance, ideal_equity=ideal_equity,
        funding=world.venue.book.funding, transfers=world.venue.book.transfers)
    summary["decisions"] = decision_counts(record_path)
    summary["rejects"] = reject_counts(tables["events"])
    summary["market"] = world.market_facts
    summary["invariants"] = {name: {"held": not problems, "problems": problems}
                             for name, problems in invariants.items()}
    summary["invariants_held"] = all(not p for p in invariants.values()) if stop is None else None
    summary["transport"] = {"requests": world.driver.requests, "timeouts": world.driver.timeouts,
                            "refused": world.driver.gateway.refused, "crashes": world.driver.crashes,
                            "updates_sent": world.updates.sent, "updates_dropped": world.updates.dropped}
    return summary
