"""Protection under a rate-limit storm, end to end on the bundled scenario (the summary has no
"time unprotected" figure, so this reads the run's orders table)."""
from __future__ import annotations

from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parents[2]


def test_every_position_in_a_rate_limit_storm_gets_its_stop_loss_within_seconds_not_a_cycle(tmp_path):
    result = sim.run(sim.load_scenario(ROOT / "scenarios/transport/rate-limit-storm.toml"), out=tmp_path / "run",
                     ideal_twin=False, report=False)
    orders = result.tables["orders"]
    assert (orders["reject_reason"] == "rate_limited").any(), "the storm refuses orders"
    entries = orders[(orders["role"] == "en") & (orders["record_status"] == "filled")]
    stops = orders[(orders["role"] == "sl") & orders["arrived_ms"].notna()
                   & (orders["record_status"] != "rejected")].sort_values("arrived_ms")
    unprotected_s = []
    for filled_ms in entries["answered_ms"]:
        later = stops[stops["arrived_ms"] >= filled_ms]
        assert len(later), f"the position filled at {filled_ms} ms never got a stop-loss"
        unprotected_s.append((later["arrived_ms"].iloc[0] - filled_ms) / 1000)
    # the venue says retry after ~0.5 s: a stop-loss waits seconds for it, not the next cycle (60 s)
    assert max(unprotected_s) < 10, sorted(unprotected_s)[-5:]
