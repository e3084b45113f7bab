"""Invariant 7: a crash at any request boundary, then a restart from the record alone, converges to
the truth by the next reconcile, with no fill missing from the record and no duplicate order."""
from __future__ import annotations

import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.scenario.loader import parse_scenario


def crash_scenario(seed: int, crash_at_s: int, point: str, restart_s: int, flip: str) -> sim.Scenario:
    return parse_scenario({
        "scenario": {"name": "crash-property", "description": "random crash", "duration": "40m", "seed": seed},
        "market": {"sigma": 1.2},
        "bot": {"strategy": "ma_crossover", "params": {"fast": 2, "slow": 5, "qty": 0.1, "interval": "1m"},
                "protective": {"take_profit_pct": 0.003, "stop_loss_pct": 0.003},
                "execution": {"flip": flip}},
        "events": [{"at": f"{crash_at_s}s", "kind": "bot_crash", "point": point, "restart_after": f"{restart_s}s"}],
    })


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), crash_at_s=st.integers(60, 2_000),
       point=st.sampled_from(["now", "after_submit", "after_fill"]), restart_s=st.integers(1, 300),
       flip=st.sampled_from(["single", "close_then_open"]))
def test_restart_from_the_record_converges_with_no_fill_missing_and_no_duplicate(tmp_path, seed, crash_at_s, point,
                                                                                 restart_s, flip):
    out = tmp_path / f"r{seed}-{crash_at_s}-{point}-{restart_s}-{flip}"
    result = sim.run(crash_scenario(seed, crash_at_s, point, restart_s, flip), out=out, ideal_twin=False,
                     report=False)
    s = result.summary
    assert s["drift"]["residual_size_gap"] == 0
    assert s["final"]["record_position"] == s["final"]["exchange_position"]
    assert s["duplicates"] == 0
    venue_trades = set(result.tables["fills"]["trade_id"])
    with sqlite3.connect(out / "record.sqlite") as conn:
        recorded = {r[0] for r in conn.execute("SELECT trade_id FROM fills")}
    assert venue_trades <= recorded, f"fills missing from the record: {sorted(venue_trades - recorded)}"
