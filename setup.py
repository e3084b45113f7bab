"""Ship the bundled scenarios, and the data files they read, inside the package.

The repository keeps them at the top level (``scenarios/``, ``data/``), where the README's
paths and the tests point. A wheel (and ``pip install .``) copies both into ``sim/_bundled/``,
keeping their layout, so a scenario's relative ``market.file`` (``../../data/...``) still
resolves and ``aethersim list`` / ``aethersim run quickstart`` work from any folder. Everything
else about the package is in pyproject.toml.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("scenarios", "data")


class BuildPyWithBundled(build_py):
    """``build_py`` plus a copy of the top-level ``scenarios/`` and ``data/`` into ``sim/_bundled/``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads them where they are
            return
        for folder in BUNDLED:
            src = HERE / folder
            if src.is_dir():
                shutil.copytree(src, Path(self.build_lib) / "sim" / "_bundled" / folder, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithBundled})
