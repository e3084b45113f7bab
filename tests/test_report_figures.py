"""The run report's figures say what the data says: scales, counts and labels a reader can trust."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

import sim
from sim.report import load_run
from sim.report.figures import draw_equity, draw_position, draw_price, event_label, in_flight_mask
from sim.report.figures_exec import (
    cost_breakdown,
    draw_costs,
    draw_distributions,
    draw_latency,
    draw_rejects,
    draw_slippage,
    fees_outside_split,
    histogram_bins,
    money,
)

ROOT = Path(__file__).resolve().parent.parent


def _run(tmp_path_factory, scenario: str, ideal_twin: bool = False):
    out = tmp_path_factory.mktemp(Path(scenario).stem)
    sim.run(sim.load_scenario(ROOT / "scenarios" / scenario), out=out, ideal_twin=ideal_twin, report=False)
    return load_run(out)


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    return _run(tmp_path_factory, "quickstart.toml")


@pytest.fixture(scope="module")
def liquidation(tmp_path_factory):
    return _run(tmp_path_factory, "margin/liquidation.toml", ideal_twin=True)


@pytest.fixture(scope="module")
def chase(tmp_path_factory):
    return _run(tmp_path_factory, "fills/chase-partial.toml")


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


def test_position_gaps_while_the_bots_order_is_in_flight_are_not_counted_as_drift(quickstart):
    tl, dr = quickstart.timeline, quickstart.drift_episodes
    gap = (tl["record_qty"] - tl["exchange_qty"]).to_numpy(float) != 0
    flight = in_flight_mask(tl["ts_ms"].to_numpy(), quickstart.orders, dr) & gap
    ts = tl["ts_ms"].to_numpy()
    in_episode = np.zeros(len(ts), dtype=bool)
    for b, r in zip(dr["began_ms"], dr["resolved_ms"], strict=True):
        in_episode |= (ts >= b) & (ts <= r)
    assert flight.sum() > 10, "quickstart has many short gaps while an entry order is in flight"
    assert not (flight & in_episode).any()
    assert (gap & in_episode).any() and not (gap & ~flight & ~in_episode).any()


def test_position_figure_labels_in_flight_gaps_and_says_the_shading_is_widened(quickstart):
    fig = draw_position(quickstart)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("order in flight, not drift" in label for label in labels)
    assert any("widened" in t.get_text() for t in fig.texts)
    markers = [line for line in fig.axes[0].lines if line.get_marker() == "v"]
    assert len(markers) == len(quickstart.drift_episodes)
    assert {float(m.get_ydata()[0]) for m in markers} == {1.0}  # one height, the top edge


def test_latency_of_a_single_order_is_drawn_as_visible_points_on_a_0_to_1_axis(liquidation):
    assert len(liquidation.orders) == 1
    fig = draw_latency(liquidation)
    fig.canvas.draw()
    ax = fig.axes[0]
    drawn = [line for line in ax.lines if len(line.get_xdata()) and line.get_marker() not in (None, "None", "")]
    assert len(drawn) >= 2
    assert ax.get_ylim() == (0, 1.05)
    lo, hi = ax.get_xlim()
    assert all(lo < float(line.get_xdata()[0]) < hi for line in drawn)
    tick_labels = [t.get_text() for t in ax.get_xticklabels()]
    assert tick_labels and not any("^" in t or "times" in t for t in tick_labels)  # plain milliseconds


def test_latency_includes_limit_orders_and_says_which_orders_it_shows(chase):
    fig = draw_latency(chase)
    title = fig.axes[0].get_title()
    assert "market, limit" in title
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("limit" in label and "resting" in label for label in labels)


def test_liquidation_fee_is_its_own_bar_outside_the_execution_cost_split(liquidation):
    parts, outside = cost_breakdown(liquidation), fees_outside_split(liquidation)
    liq_fee = float(liquidation.fills.loc[liquidation.fills["source"] == "liquidation", "fee"].sum())
    assert outside == {"liquidation fee": pytest.approx(liq_fee)} and liq_fee > 100
    bot_fees = float(liquidation.orders["fees"].sum())
    assert parts["fees"] == pytest.approx(bot_fees)
    assert sum(parts.values()) == pytest.approx(liquidation.summary["pnl"]["execution_cost"])
    assert abs(parts["path difference"]) < 0.2 * liq_fee  # no longer a large offset of the liquidation fee
    labels = [t.get_text() for t in draw_costs(liquidation).axes[0].get_yticklabels()]
    assert any(label.startswith("liquidation fee") for label in labels)


def test_money_never_prints_minus_zero():
    assert money(-0.001) == "0.00" and money(-0.0) == "0.00" and money(-1234.567) == "-1,234.57"


def test_price_figure_gives_liquidation_fills_their_own_marker_and_names_the_price_gap(liquidation):
    ax = draw_price(liquidation).axes[0]
    handles, labels = ax.get_legend_handles_labels()
    liq = [h for h, label in zip(handles, labels, strict=True) if label.startswith("liquidation fill")]
    assert len(liq) == 1 and not any(label.startswith("external") for label in labels)
    assert "market fault: price gap" in labels and not any(label.startswith("operator") for label in labels)


def test_world_events_are_labelled_by_kind_and_faults_are_not_called_operator_interventions():
    for kind in ("price_gap", "outage", "latency_spike", "thin_liquidity", "drop_updates", "bot_crash"):
        assert not event_label(f"intervention_{kind}")[0].startswith("operator"), kind
    assert event_label("intervention_external_close")[0] == "operator: external close"
    assert event_label("intervention_outage")[0] == "transport fault: outage"
    assert event_label("intervention_outage")[2] != event_label("intervention_external_close")[2]


def test_equity_without_an_ideal_twin_does_not_promise_the_cost_of_execution(quickstart):
    assert quickstart.ideal_timeline is None
    ax = draw_equity(quickstart).axes[0]
    assert "ideal" not in ax.get_title().replace("no ideal twin", "")
    assert "no ideal twin" in ax.get_title() and len(ax.lines) == 1


def test_slippage_with_fewer_than_three_sizes_draws_no_fit_and_says_so(quickstart):
    assert quickstart.orders.loc[quickstart.orders["filled_qty"] > 0, "filled_qty"].nunique() == 2
    ax = draw_slippage(quickstart).axes[0]
    assert "no fit (fewer than 3 sizes" in ax.get_title() and not ax.lines[1:]
    legend = ax.get_legend()
    assert legend.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1  # beside the plot, not over it


def test_rejects_figure_without_rejects_is_a_line_of_text_not_empty_axes(quickstart):
    fig = draw_rejects(quickstart)
    assert not fig.axes[0].axison
    assert "no rejects" in fig.axes[0].texts[0].get_text()
