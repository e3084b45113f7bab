"""The batch report points at every failed run and names runs by their parameters, not only hash ids."""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import sim
from sim.report.batch_html import _constant, draw_distributions

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
    texts = {ax.get_title(): " ".join(t.get_text() for t in ax.texts) for ax in fig.axes}
    plt.close(fig)
    assert texts["stale actions"] == "all runs: 0"
    assert texts["mean slippage (bps)"] == "all runs: 0.5"
    assert texts["PnL, realistic (quote)"] == ""  # a real spread stays a box plot
