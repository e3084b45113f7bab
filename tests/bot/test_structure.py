"""The bot's rooms import downward only: no cycles, no imports hidden under TYPE_CHECKING, and no
driver side channel (the generator's protocol is Requests out, Replies in)."""
from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "sim" / "bot"


def module_name(path: Path) -> str:
    rel = path.relative_to(BOT.parent.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def test_the_bot_modules_form_no_import_cycle_and_hide_none_under_type_checking():
    graph: dict[str, set[str]] = {}
    for path in BOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        name = module_name(path)
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                raise AssertionError(f"{name} imports under TYPE_CHECKING (a hidden cycle)")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim.bot"):
                deps.add(node.module)
        graph[name] = {d for d in deps if d != name}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle in sim/bot: {exc.args[1]}") from None


def test_nothing_in_the_bot_imports_the_bot_class():
    """The composition root is imported by drivers only: a room that imported it would steer back up."""
    for path in BOT.rglob("*.py"):
        if path.name == "cycle.py":
            continue
        assert "sim.bot.cycle" not in path.read_text(), path.name
