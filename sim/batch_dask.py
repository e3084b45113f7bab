"""The Dask backend of `sim.batch` (`sim.batching`) (optional: ``pip install "aetherpro-sim[dask]"``).

``"local"`` starts a LocalCluster on this machine; anything else is a scheduler address. Each
run is one task; results stream back as they finish.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def run_on_dask(specs: list, out: str, keep: str, ideal_twin: bool, address: str,
                workers: int) -> Iterator[dict[str, Any]]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError('Dask is not installed: pip install "aetherpro-sim[dask]"') from exc
    from sim.batching import run_one

    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        futures = [client.submit(run_one, spec, out, keep, ideal_twin, pure=False) for spec in specs]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
