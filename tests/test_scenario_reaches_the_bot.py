"""Execution settings written in a scenario reach the bot that runs it."""
from __future__ import annotations

from sim.scenario.loader import parse_scenario
from sim.world.build import build_world


def test_rate_limit_attempts_and_unavailable_wait_from_the_scenario_configure_the_bots_execution(tmp_path):
    sc = parse_scenario({
        "scenario": {"name": "x", "description": "execution settings", "duration": "1h"},
        "bot": {"execution": {"rate_limit_attempts": 2, "unavailable_wait": "2s", "deadline": "90s"}},
    })
    world = build_world(sc, 0, tmp_path / "record.sqlite")
    policy = world.bot.config.execution
    assert (policy.rate_limit_attempts, policy.unavailable_wait_ms, policy.deadline_ms) == (2, 2_000, 90_000)
    world.record.close()
