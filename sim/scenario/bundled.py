"""Where the bundled scenarios are: inside the installed package, or in the source checkout.

A wheel (and ``pip install .``) carries them in ``sim/_bundled/scenarios`` with the data they
read in ``sim/_bundled/data`` (see setup.py); an editable install or a checkout reads the
repository's top-level ``scenarios/`` and ``data/``.
"""
from __future__ import annotations

import difflib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # sim/


def bundled_dir() -> Path:
    """The folder of bundled scenarios (it may be missing from a broken install: callers say so)."""
    packaged = PACKAGE / "_bundled" / "scenarios"
    return packaged if packaged.is_dir() else PACKAGE.parent / "scenarios"


def bundled_files() -> list[Path]:
    """Every bundled scenario file, top-level ones first, then by folder and name."""
    root = bundled_dir()
    return sorted(root.rglob("*.toml"), key=lambda p: (len(p.relative_to(root).parts) > 1, str(p)))


def find_bundled(name: str) -> Path | None:
    """The bundled scenario called ``name`` (its file's stem), or None."""
    matches = sorted(bundled_dir().rglob(f"{name}.toml"))
    return matches[0] if matches else None


def nearest_bundled(name: str) -> str | None:
    near = difflib.get_close_matches(name, [f.stem for f in bundled_files()], n=1)
    return near[0] if near else None
