"""One run of a batch: its spec, running it in a worker, and the row it leaves behind.

Its own module so the batch (`sim.batching`) and its backends (`sim.batch_pool`, `sim.batch_dask`)
all import it, and none of them imports another: imports run one way.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from sim.rundir import run_dir_in

STARTED = ".started"  # in a run directory while a worker runs it: says who was in flight when a worker died
WORKER_DIED = ("worker died: the process running this run ended abruptly (os._exit, a crash, out of memory?); "
               "the batch went on without it")


@dataclass(frozen=True)
class RunSpec:
    """One run of a batch: a scenario (as data), a seed and the parameter values applied to it."""

    run_id: str
    scenario_file: str
    scenario_name: str
    data: dict[str, Any] = field(hash=False, compare=False)
    seed: int
    params: tuple[tuple[str, Any], ...]
    scenario_hash: str  # of the effective scenario data (after --set): a resumed batch reruns a changed scenario




def code_version() -> str:
    """The simulator's version, recorded with every run: a resumed batch reruns runs of another version."""
    import sim

    return sim.__version__



def value_text(value: Any) -> str:
    """A parameter value as a person would type it after ``--set``: ``30s``, ``60``, ``0.5``, ``true``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, default=str)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def writable(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every column parquet can store.

    A column whose values Arrow cannot give one type (``--set bot.cycle=30s,60`` mixes text and
    integers; a summary figure can be a number in one scenario and text in another) becomes the
    values' text, missing values staying missing; every other column keeps its type.
    """
    out = table.copy()
    for col in out.columns:
        if out[col].dtype != object:
            continue
        try:
            pa.array(out[col], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            out[col] = out[col].map(lambda v: None if _missing(v) else value_text(v)).astype(object)
    return out


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"drift": {"episodes": 2}}`` -> ``{"drift.episodes": 2}`` (lists become JSON text)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, list):
            out[key] = json.dumps(v)
        else:
            out[key] = v
    return out


def _row_head(spec: RunSpec) -> dict[str, Any]:
    """What a row says about its run before it runs: ids, parameters, and what it was run from."""
    return {"run_id": spec.run_id, "scenario": spec.scenario_name, "scenario_file": spec.scenario_file,
            "seed": spec.seed, **{f"param.{k}": v for k, v in spec.params},
            "scenario_hash": spec.scenario_hash, "sim_version": code_version()}


def write_row(run_dir: Path, row: dict[str, Any]) -> None:
    """Write ``row.json`` whole or not at all (a reader never sees half a row)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f"row.json.{os.getpid()}"
    tmp.write_text(json.dumps(row, default=str))
    os.replace(tmp, run_dir / "row.json")


def read_row(out: str | Path, spec: RunSpec) -> dict[str, Any] | None:
    try:
        return json.loads((Path(out) / "runs" / spec.run_id / "row.json").read_text())
    except (OSError, ValueError):
        return None


def _simulate(spec: RunSpec, run_dir: Path, row: dict[str, Any], ideal_twin: bool) -> None:
    """Run the spec into ``run_dir`` and complete its row; an error becomes the row's ``error`` and ``error.txt``."""
    import sim
    from sim.runner import RunInterrupted
    from sim.scenario.loader import parse_scenario

    try:
        result = sim.run(parse_scenario(spec.data, spec.scenario_file), seed=spec.seed, out=run_dir,
                         ideal_twin=ideal_twin, report=False)
        row.update(flatten(result.summary))
        row["status"] = "broken" if result.broken_invariants else "ok" if result.passed else "expect_failed"
        row["error"] = None
    except RunInterrupted:  # Ctrl-C in a serial batch: the user stops the batch, not this run alone
        raise KeyboardInterrupt from None
    except (Exception, SystemExit) as exc:  # isolation: one bad run (even one calling sys.exit) must not stop the batch
        row["status"] = "error"
        row["error"] = f"{type(exc).__name__}: {exc}"
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "error.txt").write_text(traceback.format_exc())


def run_one(spec: RunSpec, out_dir: str, keep: str = "all", ideal_twin: bool = False) -> dict[str, Any]:
    """Run one spec in this process; never raises (an error becomes the row's ``error``).

    While it runs, the run directory holds a ``.started`` marker, so that if this process dies
    the batch knows which run it was running. With ``keep="summaries"`` the run writes its
    directory to a scratch folder on this machine (``TMPDIR``) and only ``summary.json`` (and
    ``error.txt``) reach the batch directory: nothing is written to ``--out``, possibly shared
    storage, only to be deleted.
    """
    run_dir = run_dir_in(Path(out_dir) / "runs", spec.run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / STARTED).write_text(f"{os.getpid()}\n")
    (run_dir / "error.txt").unlink(missing_ok=True)
    row = _row_head(spec)
    if keep == "summaries":
        for p in run_dir.iterdir():  # what an earlier keep="all" call left
            if p.name != STARTED:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        with tempfile.TemporaryDirectory(prefix="aethersim-run-") as scratch:
            _simulate(spec, Path(scratch), row, ideal_twin)
            for name in ("summary.json", "error.txt"):
                if (Path(scratch) / name).is_file():
                    text = (Path(scratch) / name).read_text().replace(scratch, str(run_dir))
                    (run_dir / name).write_text(text)
            if row["error"]:
                row["error"] = row["error"].replace(scratch, str(run_dir))
    else:
        _simulate(spec, run_dir, row, ideal_twin)
    write_row(run_dir, row)
    (run_dir / STARTED).unlink(missing_ok=True)
    return row


def lost_row(spec: RunSpec, out_dir: str | Path, error: str) -> dict[str, Any]:
    """The error row of a run whose worker never gave an answer (it died, say), written as its ``row.json``."""
    run_dir = run_dir_in(Path(out_dir) / "runs", spec.run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    row = _row_head(spec) | {"status": "error", "error": error}
    (run_dir / "error.txt").write_text(error + "\n")
    write_row(run_dir, row)
    (run_dir / STARTED).unlink(missing_ok=True)
    return row


