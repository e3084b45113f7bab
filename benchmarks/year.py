"""A simulated year: 1-second GBM ticks, the MA strategy deciding every minute with native TP/SL,
lognormal latency and a full reconcile each cycle (the peers' reference workload, DESIGN.md s. 6).

    python benchmarks/year.py [--days 365] [--tick 1s] [--cycle 1m]

Prints how fast this machine is against the one the target was set on (`machine.py`), the run's
wall seconds, SimPy events, cycles/s, ticks/s and peak RSS, then one summary line.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import sim
from sim.scenario.loader import parse_scenario

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_line  # noqa: E402


def workload(days: float, tick: str = "1s", cycle: str = "1m", seed: int = 42) -> sim.Scenario:
    return parse_scenario({
        "scenario": {"name": "year", "description": "peer reference workload", "duration": f"{int(days * 86400)}s",
                     "seed": seed},
        "market": {"s0": 30000.0, "sigma": 0.6, "tick": tick},
        "exchange": {"latency": {"median_ms": 40.0, "sigma": 0.5}},
        "account": {"balance": 1_000_000.0, "leverage": 5},
        "bot": {"strategy": "ma_crossover", "params": {"fast": 10, "slow": 30, "qty": "0.1", "interval": "1m"},
                "cycle": cycle, "protective": {"take_profit_pct": 0.01, "stop_loss_pct": 0.005}},
    })


def measure(days: float, tick: str = "1s", cycle: str = "1m") -> dict:
    sc = workload(days, tick, cycle)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        result = sim.run(sc, out=Path(tmp) / "run", ideal_twin=False, report=False)
        wall = time.perf_counter() - t
    s = result.summary
    ticks = int(days * 86400 * 1000 / (1000 if tick == "1s" else int(tick.removesuffix("ms"))))
    return {"wall": wall, "sim_wall": s["wall_seconds"], "events": s["events"], "cycles": s["cycles"],
            "ticks": ticks, "orders": s["orders"]["submitted"], "fills": s["orders"]["filled"],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=365.0)
    ap.add_argument("--tick", default="1s")
    ap.add_argument("--cycle", default="1m")
    args = ap.parse_args()
    print(machine_line())
    m = measure(args.days, args.tick, args.cycle)
    print(f"{args.days:g} days: {m['ticks']:,} ticks, {m['cycles']:,} cycles, {m['events']:,} SimPy events, "
          f"{m['orders']:,} orders, {m['fills']:,} filled")
    print(f"simulation {m['sim_wall']:.1f} s (run incl. writing tables {m['wall']:.1f} s); "
          f"per cycle {m['sim_wall'] / m['cycles'] * 1e6:.0f} us")
    print(f"year: wall={m['wall']:.1f}s cycles/s={m['cycles'] / m['wall']:,.0f} ticks/s={m['ticks'] / m['wall']:,.0f} "
          f"peak_rss_mb={m['peak_rss_mb']:,.0f}")


if __name__ == "__main__":
    main()
