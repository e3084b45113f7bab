"""aethersim: simulate a trading bot's execution lifecycle and report drift and execution quality.

Exit codes: 0 ok, 1 an `[expect]` check failed, an invariant broke or a run stopped early, 2 bad
input, 130 Ctrl-C.
(The only package that prints: one module per subcommand, each with its `add_parser`.)
"""
from __future__ import annotations

import argparse
import difflib
import sys

from sim.cli import batch, calibrate, live, market, run, scenarios, serve
from sim.cli.common import resolve_scenario_arg
from sim.scenario.errors import ScenarioError

# each subcommand lives in its own module with an ``add_parser(sub)``; the order here is the help's
COMMANDS = (run, batch, scenarios, calibrate, market, serve, live)


def version() -> str:
    """The installed distribution's version (the package's own when run from a checkout)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("aetherpro-sim")
    except PackageNotFoundError:
        import sim

        return sim.__version__


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aethersim", description=__doc__.splitlines()[0],
                                epilog="`aethersim COMMAND --help` for a command's arguments; "
                                       "`aethersim list` for the bundled scenarios.")
    p.add_argument("--version", action="version", version=f"aethersim {version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def _command_names(p: argparse.ArgumentParser) -> list[str]:
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = parser()
    if not argv:  # bare: the help, not an argparse error
        p.print_help()
        return 0
    names = _command_names(p)
    if not argv[0].startswith("-") and argv[0] not in names:
        near = difflib.get_close_matches(argv[0], names, n=1)
        hint = f" did you mean {near[0]!r}?" if near else ""
        print(f"aethersim: unknown command {argv[0]!r};{hint} (commands: {', '.join(names)}; "
              "`aethersim --help` says what each does)", file=sys.stderr)
        return 2
    args = p.parse_args(argv)
    try:
        return int(args.func(args))
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"aethersim: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside a run's own handling (loading, writing): stop, no traceback
        print("aethersim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


__all__ = ["main", "parser", "resolve_scenario_arg", "version"]
