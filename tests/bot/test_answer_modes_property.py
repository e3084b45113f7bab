"""The invariants (DESIGN.md section 8) over random scenarios under both answer modes and both
conditional-order routes of the venue: ``exchange.order_response`` ``"result"`` or ``"ack"`` (a
market or IOC order answered NEW with nothing filled, filling after the matching delay) and
``exchange.conditional_orders`` ``"legacy"`` or ``"algo"`` (TP/SL through the algo service, a
triggered one filling through a child order). The scenarios are `tests/test_invariants_property.py`'s
generator (whose own 200 runs are under "result" and "legacy"); these are drawn over the four
combinations.

``AETHERSIM_ACK_PROPERTY_EXAMPLES`` sets the number of runs here (default 200).
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario.errors import ScenarioError
from sim.scenario.loader import parse_scenario
from tests.test_invariants_property import PHASES, run_and_check, scenarios

EXAMPLES = int(os.environ.get("AETHERSIM_ACK_PROPERTY_EXAMPLES", "200"))

def _venue_answers_by_ack() -> bool:
    try:
        parse_scenario({"scenario": {"name": "probe", "description": "probe", "duration": "1m"},
                        "exchange": {"order_response": "ack"}})
    except ScenarioError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _venue_answers_by_ack(),
                                reason="the venue does not model exchange.order_response = 'ack' yet")


@st.composite
def ack_scenarios(draw: st.DrawFn) -> dict:
    data = draw(scenarios())
    data["exchange"]["order_response"] = draw(st.sampled_from(["result", "ack"]))
    data["exchange"]["conditional_orders"] = draw(st.sampled_from(["legacy", "algo"]))
    return data


@settings(max_examples=EXAMPLES, deadline=None, phases=PHASES,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=ack_scenarios())
def test_under_both_answer_modes_and_routes_random_scenarios_keep_every_invariant(tmp_path_factory, data):
    mode = f"{data['exchange']['order_response']} / {data['exchange']['conditional_orders']}"
    run_and_check(data, tmp_path_factory.mktemp("run"), mode)
