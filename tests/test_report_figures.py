"""The run report's figures say what the data says: scales, counts and labels a reader can trust."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

import sim
from sim.report import load_run
from sim.report.figures_exec import draw_distributions, histogram_bins

ROOT = Path(__file__).resolve().parent.parent


def _run(tmp_path_factory, scenario: str, ideal_twin: bool = False):
    out = tmp_path_factory.mktemp(Path(scenario).stem)
    sim.run(sim.load_scenario(ROOT / "scenarios" / scenario), out=out, ideal_twin=ideal_twin, report=False)
    return load_run(out)


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    return _run(tmp_path_factory, "quickstart.toml")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_histogram_of_costs_equal_but_for_float_noise_is_one_bar_on_a_narrow_axis():
    values = 0.5 + np.random.default_rng(1).normal(0, 1e-9, 60)
    rounded, edges, (lo, hi) = histogram_bins(values)
    assert len(edges) == 2 and edges[0] < 0.5 < edges[1]
    assert np.all(rounded == 0.5)
    assert hi - lo <= 1.0


def test_histogram_bins_are_never_narrower_than_a_tenth_of_a_bp():
    _, edges, _ = histogram_bins(np.array([0.0, 0.05, 0.3, 0.31, 0.6]))
    assert np.all(np.diff(edges) >= 0.1 - 1e-12)
    assert edges[0] <= 0.0 and edges[-1] >= 0.6


def test_cost_distributions_of_quickstart_show_its_constant_slippage_without_an_axis_offset(quickstart):
    fig = draw_distributions(quickstart)
    fig.canvas.draw()
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo < 0.5 < hi and hi - lo <= 1.0
    assert ax.xaxis.get_offset_text().get_text() == ""
    heights = [p.get_height() for p in ax.patches]
    assert heights == [len(quickstart.orders[quickstart.orders["slippage_bps"].notna()])]
