"""Run directories: one folder named after a run, directly inside the folder chosen for it.

A scenario's name becomes part of a folder name (``reports/runs/NAME-seedN``, a batch's
``runs/NAME-sN-...``), and `sim.run` deletes the outputs of an earlier run in that folder. The
schema refuses names with path separators or ``..``; this is the second line, for scenarios
built in code: nothing is written or deleted outside the intended folder.
"""
from __future__ import annotations

from pathlib import Path


class UnsafeRunName(ValueError):
    """A run directory name that is not a single folder name inside its parent."""


def run_dir_in(parent: str | Path, name: str) -> Path:
    """``parent / name``, refusing a ``name`` that is a path (``a/b``, ``../x``, absolute) or ``.``/``..``."""
    parent = Path(parent)
    if (not name or name in (".", "..") or "/" in name or "\\" in name or Path(name).is_absolute()
            or Path(name).name != name):
        raise UnsafeRunName(f"run directory name {name!r} is not a single folder name: it could write outside "
                            f"{parent} (a scenario name may hold letters, digits, '.', '_' and '-' only)")
    child = parent / name
    if child.resolve().parent != parent.resolve():  # a symlinked parent is fine; an escape is not
        raise UnsafeRunName(f"run directory {child} is outside {parent}")
    return child
