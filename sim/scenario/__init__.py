"""Scenario files: TOML, validated strictly (unknown keys are errors), with clear messages."""
from sim.scenario.errors import ScenarioError
from sim.scenario.loader import load_scenario, validate_file
from sim.scenario.schema import Scenario

__all__ = ["Scenario", "ScenarioError", "load_scenario", "validate_file"]
