"""aethersim: simulate a trading bot's execution lifecycle and report drift and execution quality.

Exit codes: 0 ok, 1 an `[expect]` check failed, an invariant broke or a run stopped early, 2 bad input.
(The only package that prints: one module per subcommand, each with its `add_parser`.)
"""
from __future__ import annotations

import argparse
import sys

from sim.cli import batch, calibrate, run, scenarios, serve
from sim.cli.common import resolve_scenario_arg
from sim.scenario.errors import ScenarioError

# each subcommand lives in its own module with an ``add_parser(sub)``; the order here is the help's
COMMANDS = (run, batch, scenarios, calibrate, serve)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aethersim", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"aethersim: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


__all__ = ["main", "parser", "resolve_scenario_arg"]
