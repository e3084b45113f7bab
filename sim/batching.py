"""Batches (`sim.batch`): scenarios x seeds x parameter grids, on a process pool or a Dask cluster.

Each combination gets a stable run id (scenario name, seed and a hash of its parameters), so a
second call with the same output directory skips runs already complete and reruns failed ones,
and runs whose scenario (after ``--set``) or simulator version changed since (each ``row.json``
records a hash of both). Every ``--set`` combination is validated against the scenario schema
before any run starts. A run that raises becomes a row with its error, and so does a run whose
worker process dies (``os._exit``, a segfault): the pool is restarted and the batch goes on.
Every run is independent and seeded, so the same run id gives the same summary whichever worker
or backend ran it.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import shutil
import tempfile
import time
import tomllib
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from sim.rundir import run_dir_in
from sim.scenario.errors import ScenarioError

log = logging.getLogger(__name__)

KEEP = ("all", "summaries")
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


def parse_value(raw: str) -> Any:
    """A ``--set`` value as TOML would read it (``20``, ``0.5``, ``true``, ``"1m"``); bare words stay strings."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def parse_sets(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["exchange.latency.median_ms=20,80"]`` -> ``{"exchange.latency.median_ms": [20, 80]}``."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key or not values:
            raise ValueError(f"--set expects key=v1,v2,...; got {item!r}")
        grid[key.strip()] = [parse_value(v.strip()) for v in values.split(",")]
    return grid


def apply_overrides(data: dict[str, Any], overrides: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A copy of scenario data with dotted keys set (tables created as needed).

    A list is entered by an entry's number counted from 1, as error messages count them:
    ``events.2.at`` is the second ``[[events]]`` entry's ``at``. Raises ValueError for a path
    through a value that is not a table or a list, or an entry that does not exist.
    """
    out = json.loads(json.dumps(data, default=str))
    for key, value in overrides:
        node: Any = out
        parts = key.split(".")
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            where = ".".join(parts[:depth])
            if isinstance(node, list):
                if not (part.isdigit() and 1 <= int(part) <= len(node)):
                    entries = f"{len(node)} entr{'y' if len(node) == 1 else 'ies'}"
                    raise ValueError(f"--set {key}: {where} has {entries}; name one by its number, counted from 1 "
                                     f"(e.g. {where}.1)")
                if last:
                    node[int(part) - 1] = value
                else:
                    node = node[int(part) - 1]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                elif part not in node and parts[depth + 1].isdigit():
                    raise ValueError(f"--set {key}: the scenario has no {'.'.join(parts[:depth + 1])} entries "
                                     "to change")
                else:
                    node = node.setdefault(part, {})
            else:
                raise ValueError(f"--set {key}: {where} is a value ({value_text(node)}), not a table")
    return out


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.rglob("*.toml"))
        elif p.is_file():
            files.append(p)
        else:
            raise ScenarioError(str(p), ["no such file or directory"])
    return files


def code_version() -> str:
    """The simulator's version, recorded with every run: a resumed batch reruns runs of another version."""
    import sim

    return sim.__version__


def scenario_hash(data: dict[str, Any]) -> str:
    """A digest of a run's effective scenario data (the file's tables after ``--set`` overrides)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_id(name: str, seed: int, params: tuple[tuple[str, Any], ...]) -> str:
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{name}-s{seed}" + (f"-{digest}" if params else "")


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(file), [f"not valid TOML: {exc}"]) from None


def _with_sets(problem: str, labels: list[str], combinations: int) -> str:
    """A scenario problem, saying which ``--set`` values cause it."""
    if not labels[0]:  # no --set at all
        return problem
    if len(labels) == combinations > 1:
        return f"{problem} (with every --set combination)"
    shown = "; ".join(labels[:3]) + (f"; and {len(labels) - 3} more" if len(labels) > 3 else "")
    return f"{problem} (with --set {shown})"


def expand(paths: Iterable[str | Path], seeds: Iterable[int],
           grid: dict[str, list[Any]] | None = None) -> list[RunSpec]:
    """The product scenarios x seeds x parameter values, each with its stable run id.

    Every scenario, with every combination of parameter values applied, is validated here,
    before any run starts: an unknown key or a bad value (or a run too large for this machine's
    memory) raises `ScenarioError` naming the file, the key and the ``--set`` values that caused it.
    """
    from sim.resources import check_memory
    from sim.scenario.loader import parse_scenario

    grid = grid or {}
    keys = sorted(grid)
    specs = []
    seeds = list(seeds)
    for file in scenario_files(paths):
        base = _read_toml(file)
        name = parse_scenario(base, str(file)).scenario.name  # the base scenario first: its own problems
        combinations = list(itertools.product(*(grid[k] for k in keys)))
        problems: dict[str, list[str]] = {}
        valid = []
        for values in combinations:
            params = tuple(zip(keys, values, strict=True))
            label = ", ".join(f"{k}={value_text(v)}" for k, v in params)
            try:
                data = apply_overrides(base, params)
                check_memory(parse_scenario(data, str(file)))  # each run alone must fit this machine
            except ScenarioError as exc:
                for problem in exc.problems:
                    problems.setdefault(problem, []).append(label)
            except ValueError as exc:
                problems.setdefault(str(exc), []).append(label)
            else:
                valid.append((params, data))
        if problems:
            raise ScenarioError(str(file), [_with_sets(p, labels, len(combinations)) for p, labels in problems.items()])
        for params, data in valid:
            digest = scenario_hash(data)
            for seed in seeds:
                specs.append(RunSpec(run_id(name, seed, params), str(file), name, data, seed, params, digest))
    return specs


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


def _completed(out: Path, spec: RunSpec) -> dict[str, Any] | None:
    """The row of a run a previous call completed from the same scenario data with this version.

    Failed runs, and runs whose scenario (after ``--set``) or simulator version changed since,
    are run again.
    """
    f = out / "runs" / spec.run_id / "row.json"
    try:
        row = json.loads(f.read_text())
    except (OSError, ValueError):  # not there, or cut short
        return None
    if row.get("status") not in ("ok", "expect_failed", "broken"):
        return None
    if row.get("scenario_hash") != spec.scenario_hash or row.get("sim_version") != code_version():
        return None
    return row


Progress = Callable[[int, int, int, float], None]  # done, total, failures, eta seconds


def _backend(specs: list[RunSpec], out: str, keep: str, ideal_twin: bool, workers: int,
             dask: str | None) -> Iterator[dict[str, Any]]:
    if dask:
        from sim.batch_dask import run_on_dask

        yield from run_on_dask(specs, out, keep, ideal_twin, dask, workers)
    elif workers <= 1:
        for spec in specs:
            yield run_one(spec, out, keep, ideal_twin)
    elif specs:  # even one run goes to a worker process: if it dies, the batch does not
        from sim.batch_pool import run_on_pool

        yield from run_on_pool(specs, out, keep, ideal_twin, min(workers, len(specs)))


def batch(scenarios: Iterable[str | Path], seeds: Iterable[int] = (0,), params: dict[str, list[Any]] | None = None,
          out: str | Path = "reports/batch", workers: int | None = None, dask: str | None = None, keep: str = "all",
          ideal_twin: bool = False, progress: Progress | None = None, report: bool = True) -> pd.DataFrame:
    """Run the product of scenarios x seeds x parameters; write and return ``results.parquet``'s table.

    workers: processes for the local pool (default: all cores; 1 runs serially in this process, where a run
    that ends its process, with ``os._exit`` say, ends the batch too).
    dask: ``"local"`` for a LocalCluster, or a scheduler address (``tcp://host:8786``).
    keep: ``"all"`` keeps every run directory, ``"summaries"`` only each ``summary.json``.
    """
    if keep not in KEEP:
        raise ValueError(f"keep must be one of {KEEP}, got {keep!r}")
    specs = expand(scenarios, seeds, params)  # validates every combination before anything is written
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ids = [s.run_id for s in specs]
    if len(set(ids)) != len(ids):
        raise ValueError("two runs of this batch share a run id (the same scenario name twice?)")
    rows: dict[str, dict[str, Any]] = {}
    todo = []
    for spec in specs:
        done = _completed(out, spec)
        if done is not None:
            rows[spec.run_id] = done
        else:
            todo.append(spec)
    total, start = len(specs), time.perf_counter()
    failures = sum(r["status"] != "ok" for r in rows.values())
    if progress:
        progress(len(rows), total, failures, 0.0)
    n0 = len(rows)
    for row in _backend(todo, str(out), keep, ideal_twin, workers or os.cpu_count() or 1, dask):
        rows[row["run_id"]] = row
        failures += row["status"] != "ok"
        if progress:
            ran = len(rows) - n0
            eta = (time.perf_counter() - start) / ran * (total - len(rows)) if ran else 0.0
            progress(len(rows), total, failures, eta)
    table = writable(pd.DataFrame([rows[i] for i in ids]))
    table.to_parquet(out / "results.parquet", index=False)
    if report:
        write_report(out)
    return table


def write_report(out: str | Path) -> Path:
    """Build the batch directory's ``report.html`` (`batch` does, unless ``report=False``)."""
    from sim.report.batch_html import build_batch_report

    # matplotlib warns about an empty panel (the heatmap of a figure no run has, say): the panel stays
    # empty in the report, and the warning, only noise on stderr, goes to the log
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = build_batch_report(Path(out))
    for w in caught:
        log.debug("batch report: %s: %s (%s:%s)", w.category.__name__, w.message, w.filename, w.lineno)
    return path
