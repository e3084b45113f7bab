"""Issue 15 bug 6: while the bot is down after a crash, the timeline shows no drift that never existed.

Chaos seed 10 crashes the bot right after it recorded a fill (``after_fill``), with a restart
111 s later. The world used to stop sampling the record at the crash, before the fill's sample,
so the timeline showed the pre-fill record against the venue for the whole outage: a 111 s
record-vs-venue gap with no drift episode. Now the record is sampled as the dead process left it
(durable), and while no process runs the timeline's record columns are a gap (NaN).
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest

import sim

CHAOS = Path(__file__).resolve().parent.parent / "scenarios" / "basics" / "chaos.toml"


@pytest.fixture(scope="module")
def chaos10(tmp_path_factory):
    return sim.run(sim.load_scenario(CHAOS), seed=10, out=tmp_path_factory.mktemp("chaos10"),
                   ideal_twin=False, report=False)


def _downtimes(events):
    crashes = events[events["kind"] == "bot_crash"]["ts_ms"].tolist()
    restarts = events[events["kind"] == "bot_restart"]["ts_ms"].tolist()
    assert crashes and len(crashes) == len(restarts)
    return list(zip(crashes, restarts, strict=True))


def test_the_record_is_a_gap_in_the_timeline_while_the_bot_is_down(chaos10):
    tl, ev = chaos10.tables["timeline"], chaos10.tables["events"]
    for crash, restart in _downtimes(ev):
        down = tl[(tl["ts_ms"] > crash) & (tl["ts_ms"] < restart)]
        assert down["record_qty"].isna().all(), down
        at_restart = tl[tl["ts_ms"] == restart]
        assert len(at_restart) and not math.isnan(at_restart["record_qty"].iloc[-1]), "no point where it resumes"


def test_a_fill_recorded_before_an_after_fill_crash_shows_no_gap_through_the_outage(chaos10):
    tl, ev = chaos10.tables["timeline"], chaos10.tables["events"]
    after_fill = ev[(ev["kind"] == "bot_crash") & (ev["detail"] == "after_fill")]["ts_ms"].tolist()
    assert after_fill, "chaos seed 10 no longer crashes after a fill: pick another seed"
    for crash in after_fill:
        last = tl[tl["ts_ms"] <= crash].dropna(subset=["record_qty"]).iloc[-1]  # the view the outage shows
        assert last["record_qty"] == last["exchange_qty"], last
