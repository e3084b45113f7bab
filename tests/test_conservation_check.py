"""Invariant 1's own arithmetic (sim/world/invariants.py `conservation`) against chaos runs that hit its edges.

Chaos seed 179 on the algo route: funding settles at the mark, which the chaos preset moves apart
from the mid, then an operator transfers out everything available. The checker once priced
funding at the mid: 2.8e-6 off, hidden by a tolerance relative to a wallet of 10,000, flagged once
the wallet was 0 (``wallet 0.000000 != ... -0.000003``). The run keeps the invariant now, and
so does every other run of the sweep (`aethersim batch ... --seeds 200`).
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import sim
from sim.batching import apply_overrides
from sim.scenario.loader import parse_scenario

CHAOS = Path(__file__).resolve().parent.parent / "scenarios" / "basics" / "chaos.toml"


def test_funding_at_the_mark_keeps_conservation_when_the_wallet_is_emptied(tmp_path):
    data = apply_overrides(tomllib.loads(CHAOS.read_text()), [("exchange.conditional_orders", "algo")])
    result = sim.run(parse_scenario(data), seed=179, out=tmp_path / "r", ideal_twin=False, report=False)
    verdict = result.summary["invariants"]["conservation"]
    assert verdict["held"], verdict["problems"]
