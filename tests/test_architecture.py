"""The bot stays sans-IO: `sim/bot` imports nothing from SimPy, the world or the wall clock."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("simpy", "sim.world", "sim.scenario", "sim.report", "sim.runner", "sim.cli", "numpy", "random", "time",
             "datetime")


def imported_modules(path: Path) -> set[str]:
    mods = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            mods |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            mods.add(node.module)
    return mods


def test_bot_imports_nothing_from_simpy_the_world_or_a_clock():
    offenders = {}
    for path in (ROOT / "sim/bot").rglob("*.py"):
        bad = {m for m in imported_modules(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert not offenders, offenders


def test_core_vocabulary_is_stdlib_only():
    import sys

    for path in (ROOT / "sim/core").rglob("*.py"):
        for m in imported_modules(path):
            top = m.split(".")[0]
            assert top in sys.stdlib_module_names or m.startswith("sim.core"), f"{path.name} imports {m}"


def test_public_api_is_what_the_readme_promises():
    import sim

    assert set(sim.__all__) >= {"load_scenario", "run", "RunResult", "Scenario", "ScenarioError", "RunFailed"}
