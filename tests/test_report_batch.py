"""The batch report points at every failed run and names runs by their parameters, not only hash ids."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.report.batch_html import _constant, draw_distributions
from sim.report.sweep import effect_lines, sweep_summary, sweep_table

ROOT = Path(__file__).resolve().parent.parent
FLIP = ROOT / "scenarios" / "basics" / "flip.toml"


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    bad = out / "bad.toml"
    bad.write_text('[scenario]\nname = "bad"\ndescription = "raises"\nduration = "1h"\n'
                   '[bot]\nstrategy = "tests.user_strategy:Exploding"\n')
    table = sim.batch([bad, FLIP], seeds=[1], params={"bot.cycle": ["1m"]}, out=out / "b", workers=1)
    return out / "b", table


def _links(page: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', page)


def test_batch_report_links_each_failed_run_to_what_its_directory_holds(batch):
    out, table = batch
    failed = table.loc[table["status"] == "error", "run_id"].tolist()
    assert failed
    page = (out / "report.html").read_text()
    failures = page.split("<h2>Failures</h2>")[1].split("<h2>")[0]
    for run_id in failed:
        hrefs = [h for h in _links(failures) if h.startswith(f"runs/{run_id}/")]
        assert hrefs, f"{run_id} is not linked"
        assert all((out / h).exists() for h in hrefs)


def test_batch_worst_runs_table_shows_the_parameter_columns(batch):
    out, _ = batch
    page = (out / "report.html").read_text()
    worst = page.split("<h2>Worst runs</h2>")[1]
    assert "<th>bot.cycle</th>" in worst and "<th>seed</th>" in worst
    assert "<td>1m</td>" in worst
    for href in _links(worst):
        assert (out / href).is_file()


def test_batch_distribution_of_an_all_zero_metric_is_text_not_a_tiny_axis():
    df = pd.DataFrame({"scenario": ["a"] * 4, "stale_actions": [0, 0, 0, 0],
                       "execution.slippage_bps_mean": [0.5, 0.5 + 1e-12, 0.5, 0.5],
                       "pnl.realistic": [1.0, 2.0, 3.0, 4.0]})
    assert _constant(df["stale_actions"]) and _constant(df["execution.slippage_bps_mean"])
    assert not _constant(df["pnl.realistic"])
    fig = draw_distributions(df)
    texts = {a.name: a.text for a in fig.layout.annotations if a.name}
    assert texts["stale actions"] == "all runs: 0"
    assert texts["mean slippage (bps)"] == "all runs: 0.5"
    assert "PnL, realistic (quote)" not in texts  # a real spread stays a box plot
    assert [t.name for t in fig.data if t.type == "box"] == ["PnL, realistic (quote)"]


SWEEP = pd.DataFrame({"scenario": ["q"] * 6, "seed": [0, 1] * 3, "status": ["ok"] * 5 + ["error"],
                      "run_id": [f"r{i}" for i in range(6)],
                      "param.exchange.latency.median_ms": [200, 200, 20, 20, 80, 80],
                      "drift.detect_s_max": [2.0, 3.0, 0.2, 0.3, 1.0, 1.2],
                      "pnl.realistic": [-10.0, -30.0, 5.0, -1.0, 0.0, -2.0],
                      "stale_actions": [0, 0, 0, 0, 0, 0]})


def test_sweep_table_has_a_row_per_value_in_numeric_order_with_median_and_worst():
    t = sweep_table(SWEEP)
    assert t["exchange.latency.median_ms"].tolist() == [20, 80, 200]  # 20 < 80 < 200, not text order
    assert t["runs"].tolist() == [2, 2, 2] and t["not ok"].tolist() == [0, 1, 0]
    assert t["worst drift detection (s): median"].tolist() == pytest.approx([0.25, 1.1, 2.5])
    assert t["worst drift detection (s): worst"].tolist() == pytest.approx([0.3, 1.2, 3.0])  # highest is worst
    assert t["PnL, realistic (quote): worst"].tolist() == pytest.approx([-1.0, -2.0, -30.0])  # lowest is worst


def test_sweep_effect_is_one_line_per_metric_saying_which_way_it_moves():
    lines = effect_lines(SWEEP)
    assert len(lines) == 6
    detect = next(line for line in lines if line.startswith("worst drift detection"))
    assert "rises" in detect and "exchange.latency.median_ms" in detect and "0.25 at 20" in detect
    pnl = next(line for line in lines if line.startswith("PnL"))
    assert "falls" in pnl
    assert any(line.startswith("stale actions: unchanged") for line in lines)
    assert any(line.startswith("fees (quote): no run has a value") for line in lines)


def test_sweep_summary_prints_a_column_per_value_and_the_effect_lines():
    lines = sweep_summary(SWEEP)
    assert lines[0] == "median / worst, by exchange.latency.median_ms"
    assert lines[1].split() == ["20", "80", "200"]
    row = next(line for line in lines if line.startswith("worst drift detection"))
    assert row.split()[-9:] == ["0.25", "/", "0.3", "1.1", "/", "1.2", "2.5", "/", "3"]
    assert "effect of the sweep:" in lines


def test_batch_report_compares_runs_by_parameter_value(batch):
    out, _ = batch
    page = (out / "report.html").read_text()
    assert "<h2>Compared by bot.cycle</h2>" in page or "<h2>Compared by scenario, bot.cycle</h2>" in page
    assert "<th colspan=2>worst drift detection (s)</th>" in page and "<ul class=effects><li>" in page
    assert 'src="figures/' not in page and "<img" not in page  # nothing outside the file
