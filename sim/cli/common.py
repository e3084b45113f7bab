"""What every subcommand shares: the bundled scenarios, and resolving a scenario argument."""
from __future__ import annotations

import difflib
from pathlib import Path

from sim.scenario.errors import ScenarioError

SCENARIO_DIR = Path("scenarios")


def _bundled_dir() -> Path:
    """The scenarios folder: the working directory's, else the repository's beside the package."""
    if SCENARIO_DIR.is_dir():
        return SCENARIO_DIR
    return Path(__file__).resolve().parent.parent / "scenarios"


def resolve_scenario_arg(arg: str) -> Path:
    """A path, or the name of a bundled scenario (``quickstart``, ``flip``)."""
    p = Path(arg)
    if p.exists() or arg.endswith(".toml"):
        return p
    matches = sorted(_bundled_dir().rglob(f"{arg}.toml"))
    if matches:
        return matches[0]
    names = [f.stem for f in _bundled_dir().rglob("*.toml")]
    near = difflib.get_close_matches(arg, names, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    raise ScenarioError(arg, [f"no such file or bundled scenario; {hint}`aethersim list` shows the bundled ones"])
