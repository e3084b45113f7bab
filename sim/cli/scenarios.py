"""`aethersim validate`, `list` and `report`: scenario files checked or listed, reports rebuilt."""
from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from sim.cli.common import add_memory_check_flag, resolve_scenario_arg
from sim.scenario.bundled import bundled_dir, bundled_files
from sim.scenario.errors import ScenarioError


def cmd_validate(args: argparse.Namespace) -> int:
    import sim
    from sim.resources import check_memory

    bad = 0
    for arg in args.scenarios:
        try:
            sc = sim.load_scenario(resolve_scenario_arg(arg))
            check_memory(sc)
            print(f"ok    {arg}: {sc.scenario.name}")
        except ScenarioError as exc:
            bad += 1
            print(str(exc), file=sys.stderr)
    return 2 if bad else 0


def cmd_list(args: argparse.Namespace) -> int:
    """The bundled scenarios by folder (top-level ones first), each with its one-line description."""
    root, files = bundled_dir(), bundled_files()
    if not files:
        print(f"aethersim: no bundled scenarios found (looked in {root}); the installation is incomplete: "
              "reinstall aetherpro-sim", file=sys.stderr)
        return 1
    folder = None
    for f in files:
        rel = f.relative_to(root)
        here = str(rel.parent) if len(rel.parts) > 1 else ""
        if here != folder:
            folder = here
            print(f"\n{here}/" if here else "(start here)")
        try:
            meta = tomllib.loads(f.read_text(encoding="utf-8")).get("scenario", {})
            desc = str(meta.get("description", "")).strip().splitlines()[0] if meta.get("description") else ""
        except (tomllib.TOMLDecodeError, OSError):
            desc = "(unreadable: run `aethersim validate` on it)"
        print(f"  {f.stem:<32} {desc}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from sim.report.batch_html import build_batch_report
    from sim.report.html import build_report

    target = Path(args.run_dir)
    path = build_batch_report(target) if (target / "results.parquet").is_file() else build_report(target)
    print(f"report: {path}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("validate", help="check scenario files without running them")
    v.add_argument("scenarios", nargs="+")
    add_memory_check_flag(v)
    v.set_defaults(func=cmd_validate)
    listing = sub.add_parser("list", help="list the bundled scenarios")
    listing.set_defaults(func=cmd_list)
    rep = sub.add_parser("report", help="(re)build the report.html of a run or batch directory")
    rep.add_argument("run_dir")
    rep.set_defaults(func=cmd_report)
