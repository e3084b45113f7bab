"""Shared fixtures: paths to the repository and its bundled scenarios; Hypothesis's profile.

Property tests draw the same examples on every run (``derandomize``), so CI on a clean checkout
is repeatable and a failure on main is a failure of the change, not of the draw. To explore new
examples, run with ``HYPOTHESIS_PROFILE=explore`` (random draws, as many as each test asks).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def scenarios_dir() -> Path:
    return ROOT / "scenarios"
