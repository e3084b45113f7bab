"""Progress on a terminal (rich): the run and its ideal twin, a batch's runs, and the report build.

Nothing is drawn when stderr is not a terminal (a log, a pipe, a test), so output stays plain.
A run that ends within a second shows no bar (it would only flash).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

if TYPE_CHECKING:
    from sim.runner import RunProgress

_console: Console | None = None


def console() -> Console:
    """The one console the CLI draws progress on: stderr, so stdout stays the results."""
    global _console
    if _console is None:
        _console = Console(file=sys.stderr)
    return _console


def on_terminal() -> bool:
    return sys.stderr.isatty()


class RunBars:
    """A bar per phase of a run ("run", "ideal twin"): simulated days done, events per second.

    Use as a context manager; pass the instance as ``progress=`` to `sim.run`.
    """

    def __init__(self, quiet_for_s: float = 1.0) -> None:
        self.quiet_for_s = quiet_for_s
        self.progress = Progress(TextColumn("{task.description:<11}"), BarColumn(),
                                 TextColumn("{task.fields[days]}"), TextColumn("{task.fields[rate]}"),
                                 TimeRemainingColumn(), console=console(), transient=False)
        self.tasks: dict[str, TaskID] = {}
        self.started = False

    def __enter__(self) -> RunBars:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            self.progress.stop()

    def __call__(self, p: RunProgress) -> None:
        if not self.started:
            if p.wall_s < self.quiet_for_s:
                return
            self.progress.start()
            self.started = True
        if p.phase not in self.tasks:
            self.tasks[p.phase] = self.progress.add_task(p.phase, total=p.sim_total_s, days="", rate="")
        self.progress.update(self.tasks[p.phase], completed=p.sim_done_s,
                             days=f"{p.sim_done_s / 86400:,.2f} / {p.sim_total_s / 86400:,.2f} days",
                             rate=f"{p.events_per_s:,.0f} events/s")


class BatchBar:
    """One bar for a batch: runs done of the total, how many failed, time left."""

    def __init__(self) -> None:
        self.progress = Progress(TextColumn("batch"), BarColumn(), MofNCompleteColumn(), TextColumn("runs,"),
                                 TextColumn("{task.fields[failed]} failed"), TimeRemainingColumn(),
                                 console=console())
        self.task: TaskID | None = None

    def __enter__(self) -> BatchBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, done: int, total: int, failures: int, eta: float) -> None:
        if self.task is None:
            self.task = self.progress.add_task("batch", total=total, failed=0)
        self.progress.update(self.task, completed=done, total=total, failed=f"{failures:,}")


@contextmanager
def step(what: str) -> Iterator[None]:
    """A spinner with ``what`` while a long step runs (the report build), and its time when it ends."""
    if not on_terminal():
        yield
        return
    t0 = time.perf_counter()
    with console().status(f"{what} ..."):
        yield
    console().print(f"{what}: done in {time.perf_counter() - t0:,.1f} s", style="dim")
