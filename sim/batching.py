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
import os
import time
import tomllib
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from sim.batch_run import (  # noqa: F401  (re-exported: the batch's public names)
    STARTED,
    WORKER_DIED,
    RunSpec,
    code_version,
    flatten,
    lost_row,
    read_row,
    run_one,
    value_text,
    writable,
    write_row,
)
from sim.scenario.errors import ScenarioError

log = logging.getLogger(__name__)

KEEP = ("all", "summaries")
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
