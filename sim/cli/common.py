"""What every subcommand shares: resolving a scenario argument, and argument types with clear messages."""
from __future__ import annotations

import argparse
import numbers
import os
from pathlib import Path

from sim.scenario.bundled import find_bundled, nearest_bundled
from sim.scenario.errors import ScenarioError


def resolve_scenario_arg(arg: str) -> Path:
    """A path, or the name of a bundled scenario (``quickstart``, ``flip``)."""
    p = Path(arg)
    if p.exists() or arg.endswith(".toml"):
        return p
    found = find_bundled(arg)
    if found is not None:
        return found
    near = nearest_bundled(arg)
    hint = f"did you mean {near!r}? " if near else ""
    raise ScenarioError(arg, [f"no such file or bundled scenario; {hint}`aethersim list` shows the bundled ones"])


class _NoMemoryCheck(argparse.Action):
    """``--no-memory-check``: switch the memory guard off for this process and the workers it starts."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        from sim.resources import ENV_SWITCH

        os.environ[ENV_SWITCH] = "off"


def add_memory_check_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-memory-check", action=_NoMemoryCheck, nargs=0,
                   help="run even if the estimated memory exceeds what this machine has available "
                        "(same as AETHERSIM_MEMORY_CHECK=off)")


def whole_number(minimum: int) -> object:
    """An argparse type: an integer of at least ``minimum``, refused with a sentence that says so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number, {minimum} or more (got {text!r})")
        return value

    parse.__name__ = f"whole number >= {minimum}"
    return parse


def seed_list(text: str) -> list[int]:
    """An argparse type: ``1,7,42`` as seeds (whole numbers, 0 or more)."""
    seeds = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise argparse.ArgumentTypeError(f"an empty seed in {text!r}; write seeds as 1,7,42")
        if not part.isdigit():
            raise argparse.ArgumentTypeError(f"{part!r} is not a whole number, 0 or more; write seeds as 1,7,42")
        seeds.append(int(part))
    return seeds


def out_dir(text: str) -> str:
    """An argparse type: a folder to write into (it may not exist yet), not an existing file."""
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder; name a folder (it is created if missing)")
    return text


def num(x: object, decimals: int = 2) -> str:
    """The CLI's one number format: ``1,234`` for a count, ``1,234.57`` for a measure, ``n/a`` when absent."""
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, numbers.Integral):
        return f"{int(x):,}"
    if isinstance(x, numbers.Real):
        return f"{float(x):,.{decimals}f}"
    return str(x)
