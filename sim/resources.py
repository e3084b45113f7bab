"""The memory guard: refuse, before anything is built, a run this machine cannot hold.

A run holds its price path in memory: the mid (8 bytes a tick), the bid/ask side of each last
trade (1 byte) and, when a trigger watches the last price, the last-trade series (8 more). The
bot's log and record grow with its cycles. A scenario of 1 ms ticks over four weeks is 2.4
billion ticks, about 41 GB: without this check it grows until the machine swaps or the kernel
kills it. The estimate is an upper bound of what the path needs plus a measured allowance per
cycle; it is compared with the memory the machine has available now (``MemAvailable``).

Set ``AETHERSIM_MEMORY_CHECK=off`` (or pass ``--no-memory-check``) to run anyway.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sim.core.units import parse_duration_ms
from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario

TICK_BYTES = 17  # mid (float64) + last-trade side (int8) + last-trade series (float64)
# log entries and record rows per bot cycle: the year benchmark (525,600 cycles, 31.5 M ticks) peaks at
# 720 MB, about 550 B a cycle once the ticks and the base are taken off; 1.5 kB leaves room for busier bots
CYCLE_BYTES = 1_500
FAULT_BYTES = 2_000  # one drawn fault event: its model, its log entries and what the bot does about it
BASE_BYTES = 300 * 2**20  # the interpreter, numpy, pandas, simpy and the report's libraries
ENV_SWITCH = "AETHERSIM_MEMORY_CHECK"


class TooLarge(ScenarioError):
    """A scenario this machine has not the memory to run: exit status 2, like any bad input."""

    def __init__(self, file: str, problems: list[str]) -> None:
        super().__init__(file, problems)
        body = "\n".join(f"  - {p}" for p in problems)
        self.args = (f"{file}: too large for this machine\n{body}",)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Estimate:
    ticks: int
    cycles: int
    faults: int = 0  # expected random fault events ([faults] rates x days)

    @property
    def bytes(self) -> int:
        return BASE_BYTES + self.ticks * TICK_BYTES + self.cycles * CYCLE_BYTES + self.faults * FAULT_BYTES


def estimate(scenario: Scenario) -> Estimate:
    """What a run of ``scenario`` needs, from its duration, tick (or replay resolution), cycle and fault rates."""
    from sim.world.faults import fault_rates

    m = scenario.market
    tick_key = "resolution" if m.model == "replay" else "tick"
    tick = parse_duration_ms(getattr(m, tick_key))
    faults = int(sum(fault_rates(scenario.faults).values()) * scenario.duration_ms / 86_400_000)
    return Estimate(scenario.duration_ms // tick + 1, scenario.duration_ms // parse_duration_ms(scenario.bot.cycle),
                    faults)


def available_bytes() -> int | None:
    """Memory available to a new process now: ``MemAvailable`` (Linux), else free pages; None if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB"


def check_memory(scenario: Scenario, available: int | None = None) -> None:
    """Raise `TooLarge` (naming the keys to change) if the run would need more memory than is available."""
    if os.environ.get(ENV_SWITCH, "").strip().lower() in ("off", "0", "no", "false"):
        return
    available = available_bytes() if available is None else available
    if available is None:
        return
    need = estimate(scenario)
    if need.bytes <= available:
        return
    m = scenario.market
    tick_key = "market.resolution" if m.model == "replay" else "market.tick"
    tick = m.resolution if m.model == "replay" else m.tick
    escape = f"(or set {ENV_SWITCH}=off, or pass --no-memory-check, to run it anyway)"
    if need.faults * FAULT_BYTES > need.ticks * TICK_BYTES + need.cycles * CYCLE_BYTES:
        raise TooLarge(scenario.source, [
            f"faults.rates: about {need.faults:,} random fault events over scenario.duration "
            f"{scenario.scenario.duration} need about {_gb(need.bytes)} of memory; this machine has "
            f"{_gb(available)} available. Use lower rates or a shorter scenario.duration {escape}"])
    raise TooLarge(scenario.source, [
        f"{tick_key}: {need.ticks:,} ticks (scenario.duration {scenario.scenario.duration} at {tick_key} {tick}) and "
        f"{need.cycles:,} bot cycles need about {_gb(need.bytes)} of memory; this machine has {_gb(available)} "
        f"available. Use a longer {tick_key} or a shorter scenario.duration {escape}"])
