"""The Dask backend of `sim.batch` (`sim.batching`) (optional: ``pip install "aetherpro-sim[dask]"``).

``"local"`` starts a LocalCluster on this machine; anything else is a scheduler address. Each
run is one task; results stream back as they finish.

When a worker dies, Dask retries the tasks it held on other workers and gives up on a task with
``KilledWorker`` once it has been on too many dying workers; a healthy run queued next to the
culprit can be given up on too. So the runs given up on are run again at the end, one at a time
with nothing else on the cluster: one whose worker dies then is the culprit and becomes an error
row ("worker died"); the batch goes on either way.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.batch_run import WORKER_DIED, RunSpec, lost_row, run_one, write_row


def run_on_dask(specs: list[RunSpec], out: str, keep: str, ideal_twin: bool, address: str,
                workers: int) -> Iterator[dict[str, Any]]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
        from distributed.scheduler import KilledWorker
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError('Dask is not installed: pip install "aetherpro-sim[dask]"') from exc

    if not specs:
        return
    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(address)

    def answer(fut: Any, spec: RunSpec) -> dict[str, Any]:
        try:
            row = fut.result()
        except KilledWorker:
            raise
        except Exception as exc:  # the task could not run or its answer could not come back
            return lost_row(spec, out, f"{type(exc).__name__}: {exc}")
        # the client keeps its own copy, so a resume works even when --out is not shared with the workers
        write_row(Path(out) / "runs" / spec.run_id, row)
        return row

    try:
        futures = {client.submit(run_one, spec, out, keep, ideal_twin, pure=False): spec for spec in specs}
        suspects = []
        for fut in as_completed(futures):
            try:
                yield answer(fut, futures[fut])
            except KilledWorker:
                suspects.append(futures[fut])
        for spec in suspects:  # alone on the cluster now: if its worker dies, it is the culprit
            try:
                yield answer(client.submit(run_one, spec, out, keep, ideal_twin, pure=False), spec)
            except KilledWorker as exc:
                yield lost_row(spec, out, f"{WORKER_DIED} (Dask: {exc})")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
