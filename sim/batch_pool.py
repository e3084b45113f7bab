"""The local process-pool backend of `sim.batch` (`sim.batching`): runs that survive their workers dying.

Short runs go to the workers a few at a time (task overhead would otherwise cost more than they
compute). A worker that dies breaks the whole pool; `run_on_pool` finds out which run killed it
and carries on with the others.
"""
from __future__ import annotations

import signal
from collections.abc import Generator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

from sim.batch_run import STARTED, WORKER_DIED, RunSpec, lost_row, read_row, run_one

# forkserver: workers start from a clean, already-imported server process (cheap like fork, without
# inheriting the caller's threads); spawn where the platform has no fork.
_START_METHOD = "forkserver" if "forkserver" in get_all_start_methods() else "spawn"


def _run_chunk(specs: list[RunSpec], out_dir: str, keep: str, ideal_twin: bool) -> list[dict[str, Any]]:
    return [run_one(spec, out_dir, keep, ideal_twin) for spec in specs]


def _started(out: str, spec: RunSpec) -> bool:
    return (Path(out) / "runs" / spec.run_id / STARTED).exists()


def _leave_ctrl_c_to_the_parent() -> None:
    """In a worker: ignore Ctrl-C (the terminal sends it to every process); the batch stops its workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's workers and drop its queue (a run in flight keeps what it wrote, as after a crash)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):  # no public handle on the workers
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _pool_round(specs: list[RunSpec], out: str, keep: str, ideal_twin: bool, workers: int,
                size: int) -> Generator[dict[str, Any], None, list[RunSpec]]:
    """Run specs on a fresh process pool, yielding rows; return the specs a dying worker left unfinished."""
    for spec in specs:  # what is on disk after this round is this round's
        run_dir = Path(out) / "runs" / spec.run_id
        (run_dir / "row.json").unlink(missing_ok=True)
        (run_dir / STARTED).unlink(missing_ok=True)
    ctx = get_context(_START_METHOD)
    if _START_METHOD == "forkserver":
        ctx.set_forkserver_preload(["sim.runner", "sim.batching", "sim.batch_pool"])  # import once, fork each worker
    lost: list[RunSpec] = []
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_leave_ctrl_c_to_the_parent)
    try:
        futures = {pool.submit(_run_chunk, specs[i:i + size], out, keep, ideal_twin): specs[i:i + size]
                   for i in range(0, len(specs), size)}
        for fut in as_completed(futures):
            error: str | None = None
            try:
                rows = fut.result()
            except BrokenProcessPool:  # a worker died: every unfinished task of the pool fails with this
                rows = None
            except Exception as exc:  # the chunk's answer could not come back (it would not pickle, say)
                rows, error = None, f"{type(exc).__name__}: {exc}"
            if rows is not None:
                yield from rows
                continue
            for spec in futures[fut]:
                row = read_row(out, spec)  # runs of the chunk that finished before it failed
                if row is not None:
                    yield row
                elif error is not None:
                    yield lost_row(spec, out, error)
                else:
                    lost.append(spec)
    except BaseException:  # Ctrl-C, or the caller stopped early: end the runs in flight, do not wait for them
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)
    return lost


def run_on_pool(specs: list[RunSpec], out: str, keep: str, ideal_twin: bool,
             workers: int) -> Generator[dict[str, Any], None, None]:
    """Run specs on a process pool that survives its workers dying.

    When a worker dies (a strategy calling ``os._exit``, a segfault) the pool breaks and takes
    every run in flight with it. The runs that had not started go back in the queue of a new pool;
    the ones in flight are suspects and are run again one at a time, each alone in its pool, so
    a run that kills its worker there is the culprit and becomes an error row ("worker died"),
    while the others, killed only as bystanders, complete.
    """
    queue, suspects = list(specs), []
    while queue or suspects:
        alone = bool(suspects)
        group = suspects if alone else queue
        # a few runs per task: short runs would otherwise pay more in task overhead than they compute
        size = 1 if alone else max(1, min(16, len(group) // (workers * 8)))
        lost = yield from _pool_round(group, out, keep, ideal_twin, 1 if alone else workers, size)
        in_flight = [s for s in lost if _started(out, s)]
        waiting = [s for s in lost if not _started(out, s)]
        if lost and not in_flight:
            raise RuntimeError("the process pool broke before any of its runs started")
        if alone:
            for spec in in_flight:
                yield lost_row(spec, out, WORKER_DIED)
            suspects = waiting
        else:
            suspects, queue = in_flight, waiting
