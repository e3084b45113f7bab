"""aethersim: a discrete-event simulator and test-mode harness for a trading bot's execution lifecycle.

Python API (the same objects the CLI uses)::

    import sim
    scenario = sim.load_scenario("scenarios/quickstart.toml")
    result = sim.run(scenario, seed=7, out="reports/runs/mine")
    result.summary["drift"]["detect_s_max"]
"""
from sim.batching import batch
from sim.runner import RunFailed, RunProgress, RunResult, run
from sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["RunFailed", "RunProgress", "RunResult", "Scenario", "ScenarioError", "batch", "load_scenario", "run"]
__version__ = "0.1.0"
