"""The run report's page: headline figures a reader can take in without looking anything up."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import sim
from sim.report.html import DEFINITIONS, HEADLINE, _fmt, _invariants, duration

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("liquidation")
    sim.run(sim.load_scenario(ROOT / "scenarios/margin/liquidation.toml"), out=out, ideal_twin=True)
    return (out / "report.html").read_text()


def _cards(page: str) -> dict[str, tuple[str, str]]:
    found = re.findall(r"<div class=card><div class=v>(.*?)</div><div class=k>(.*?)</div><div class=d>(.*?)</div>",
                       page)
    return {label: (value, definition) for value, label, definition in found}


def test_every_headline_card_carries_its_definition_beside_the_value(page):
    cards = _cards(page)
    assert len(cards) == len(HEADLINE)
    for key, label in HEADLINE:
        assert cards[label][1] and cards[label][1] == DEFINITIONS[key].replace("'", "&#x27;"), label


def test_headline_shows_fill_ratio_as_a_percent_and_invariants_in_words(page):
    cards = _cards(page)
    assert cards["fill ratio"][0] == "100%"
    assert cards["invariants held"][0] == "all held"
    assert "True" not in {v for v, _ in cards.values()}


def test_broken_invariants_are_named_and_a_stopped_run_says_none_were_checked():
    summary = {"invariants_held": False, "invariants": {"conservation": {"held": False, "problems": ["x"]},
                                                        "exposure_limits": {"held": True, "problems": []}}}
    assert _invariants(summary) == "broke: conservation"
    assert _invariants({"invariants_held": None}) == "not checked (run stopped)"


def test_durations_read_as_days_hours_and_seconds_not_scientific_notation():
    assert _fmt(86400.0, "sim_seconds") == "1 d"
    assert _fmt(5400.0, "sim_seconds") == "1 h 30 min"
    assert _fmt(0.379, "drift.detect_s_max") == "0.379 s"
    assert duration(125) == "2 min 5 s"
    assert "e+" not in _fmt(86400.0) and _fmt(86400.0) == "86,400"
    assert _fmt(0.5, "execution.fill_ratio") == "50%"


def test_drift_episodes_table_says_when_each_episode_began(page):
    episodes = page.split("<h3>Episodes</h3>")[1].split("<h2>")[0]
    assert "<th>began (UTC)</th>" in episodes
    assert "2024-01-01 00:20:00.000" in episodes  # the price gap, before the bot detected it


def test_cost_table_lists_the_liquidation_fee_outside_the_split_and_never_minus_zero(page):
    assert "liquidation fee (outside the split)" in page
    assert "-0.00" not in page


def test_report_cites_the_projects_own_docs_and_every_definition_is_in_them(page):
    assert "DESIGN.md" not in page and "docs/metrics.md" in page
    docs = (ROOT / "docs" / "metrics.md").read_text()
    missing = [k for k in DEFINITIONS if k not in ("sim_seconds", "wall_seconds", "events", "cycles")
               and k.rsplit(".", 1)[0] not in docs and k not in docs and k.split(".")[0] + ".*" not in docs
               and not k.startswith("final.")]
    assert not missing


def test_report_is_one_file_carrying_its_charts_and_every_order(tmp_path):
    from sim.report import load_run

    out = tmp_path / "run"
    sim.run(sim.load_scenario(ROOT / "scenarios/quickstart.toml"), out=out, ideal_twin=False)
    page = (out / "report.html").read_text()
    assert not (out / "figures").exists() and "<img" not in page and 'src="' not in page.split("<body>")[1]
    assert page.count("Plotly.newPlot") == 9 and len(re.findall(r"plotly\.js v\d", page)) == 1  # the library once
    orders = load_run(out).orders
    rows = json.loads(page.split("<h2>Orders</h2>")[1].split('class=rows>')[1].split("</script>")[0])
    assert len(rows) == len(orders) > 100 and rows[0][1] == orders["client_id"].iloc[0]
