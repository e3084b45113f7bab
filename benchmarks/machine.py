"""How fast this machine is, in the units the performance targets were set in.

The year target (60 s) was set on a machine where one SimPy process doing 1,000,000 timeouts
takes about 0.57 s. Printing the same figure beside a benchmark's says whether a slow result is
the code or the machine (a busy or throttled host can be several times slower).

    python benchmarks/machine.py
"""
from __future__ import annotations

import time

import simpy

REFERENCE_S = 0.57  # 1 M SimPy timeouts on the machine the targets were set on


def simpy_timeouts_s(n: int = 1_000_000) -> float:
    """Wall seconds for one SimPy process to wait on ``n`` timeouts (best of three)."""
    best = float("inf")
    for _ in range(3):
        env = simpy.Environment()

        def waiter(env: simpy.Environment) -> simpy.events.ProcessGenerator:
            for _ in range(n):
                yield env.timeout(1)

        env.process(waiter(env))
        t = time.perf_counter()
        env.run()
        best = min(best, time.perf_counter() - t)
    return best


def machine_line() -> str:
    s = simpy_timeouts_s()
    return (f"machine: 1,000,000 SimPy timeouts in {s:.2f} s "
            f"(reference machine {REFERENCE_S:.2f} s: x{s / REFERENCE_S:.2f})")


if __name__ == "__main__":
    print(machine_line())
