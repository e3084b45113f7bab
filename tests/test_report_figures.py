"""The run report's figures say what the data says: scales, counts, labels and hovers a reader can trust."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.report import load_run
from sim.report.decimate import minmax_rows, step_rows
from sim.report.figures import draw_equity, draw_position, draw_price, event_label, in_flight_mask
from sim.report.figures_exec import (
    cost_breakdown,
    draw_costs,
    draw_distributions,
    draw_drift_latency,
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


def _names(fig) -> list[str]:
    return [t.name for t in fig.data if t.showlegend is not False and t.name]


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


def test_a_year_of_seconds_is_drawn_as_a_few_thousand_points_keeping_every_spike():
    ts = np.arange(0, 365 * 86400, 1, dtype=np.int64)[::30] * 1000  # a year every 30 s: ~1.05 M rows
    v = np.sin(ts / 3.6e6)
    v[123_456], v[777_777] = 50.0, -50.0
    rows = minmax_rows(ts, v)
    assert len(rows) <= 4002 and {0, len(v) - 1, 123_456, 777_777} <= set(rows.tolist())
    assert np.all(np.diff(rows) > 0)
    small = np.arange(100)
    assert minmax_rows(small, small.astype(float)).tolist() == small.tolist()  # short series stay whole


def test_step_series_keep_only_their_change_points_and_draw_the_same_steps():
    pos = np.array([0, 0, 0.1, 0.1, 0.1, -0.1, -0.1, 0])
    rec = np.array([0, 0, 0, 0.1, 0.1, -0.1, -0.1, 0])
    assert step_rows(pos, rec).tolist() == [0, 2, 3, 5, 7]


def test_cost_distributions_of_quickstart_show_its_constant_slippage_on_a_narrow_axis(quickstart):
    fig = draw_distributions(quickstart)
    lo, hi = fig.layout.xaxis.range
    assert lo < 0.5 < hi and hi - lo <= 1.0
    bars = [t for t in fig.data if t.type == "bar" and t.xaxis == "x"]
    assert [int(sum(b.y)) for b in bars] == [len(quickstart.orders[quickstart.orders["slippage_bps"].notna()])]
    assert fig.layout.xaxis.exponentformat == "none"


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


def test_position_figure_draws_every_episode_at_its_true_width_with_a_hover_each(quickstart):
    fig = draw_position(quickstart)
    dr = quickstart.drift_episodes
    assert any("order in flight, not drift" in n for n in _names(fig))
    markers = [t for t in fig.data if t.mode == "markers"]
    assert sum(len(t.hovertext) for t in markers) == len(dr)
    assert all("began" in h and "correction" in h for t in markers for h in t.hovertext)
    boxes = [t for t in fig.data if t.fill == "toself"]
    xs = np.concatenate([np.asarray(t.x, dtype="datetime64[ms]") for t in boxes])
    widths = (xs[2::6] - xs[1::6]).astype(np.int64)  # each box: began, began, end, end, began, gap
    expected = (dr["resolved_ms"].fillna(dr["detected_ms"]) - dr["began_ms"]).astype(np.int64)
    assert sorted(widths.tolist()) == sorted(expected.tolist())  # true widths, not widened
    assert fig.layout.xaxis.matches == fig.layout.xaxis2.matches == "x3"  # the three panels zoom together


def test_latency_of_a_single_order_is_drawn_as_visible_points_on_a_0_to_1_axis(liquidation):
    assert len(liquidation.orders) == 1
    fig = draw_latency(liquidation)
    drawn = [t for t in fig.data if "markers" in t.mode]
    assert len(drawn) >= 2
    assert tuple(fig.layout.yaxis.range) == (0, 1.05)
    lo, hi = fig.layout.xaxis.range
    assert all(lo < float(t.x[0]) < hi for t in drawn)
    assert fig.layout.xaxis.exponentformat == "none"  # plain milliseconds, never 1e+5


def test_latency_on_a_wide_spread_is_one_label_per_decade(tmp_path_factory):
    run = _run(tmp_path_factory, "transport/latency-spike.toml")
    fig = draw_latency(run)
    if fig.layout.xaxis.type == "log":
        assert fig.layout.xaxis.dtick == 1  # 10, 100, 1,000: labels that cannot run together


def test_latency_includes_limit_orders_and_says_which_orders_it_shows(chase):
    fig = draw_latency(chase)
    assert "market, limit" in fig.layout.title.text
    assert any("limit" in n and "resting" in n for n in _names(fig))


def test_liquidation_fee_is_its_own_bar_outside_the_execution_cost_split(liquidation):
    parts, outside = cost_breakdown(liquidation), fees_outside_split(liquidation)
    liq_fee = float(liquidation.fills.loc[liquidation.fills["source"] == "liquidation", "fee"].sum())
    assert outside == {"liquidation fee": pytest.approx(liq_fee)} and liq_fee > 100
    bot_fees = float(liquidation.orders["fees"].sum())
    assert parts["fees"] == pytest.approx(bot_fees)
    assert sum(parts.values()) == pytest.approx(liquidation.summary["pnl"]["execution_cost"])
    assert abs(parts["path difference"]) < 0.2 * liq_fee  # no longer a large offset of the liquidation fee
    labels = list(draw_costs(liquidation).data[0].y)
    assert any(label.startswith("liquidation fee") for label in labels)


def test_money_never_prints_minus_zero():
    assert money(-0.001) == "0.00" and money(-0.0) == "0.00" and money(-1234.567) == "-1,234.57"


def test_price_figure_gives_liquidation_fills_their_own_marker_and_names_the_price_gap(liquidation):
    fig = draw_price(liquidation)
    names = _names(fig)
    assert len([n for n in names if n.startswith("liquidation fill")]) == 1
    assert not any(n.startswith("external") for n in names)
    gap = [t for t in fig.data if t.name.startswith("market fault")]
    assert gap and "price gap" in gap[0].hovertext[0] and not any(n.startswith("operator") for n in names)


def test_price_figure_has_a_hover_for_every_fill_and_few_distinct_legend_entries(tmp_path_factory):
    run = _run(tmp_path_factory, "basics/chaos.toml")
    fig = draw_price(run)
    names = _names(fig)
    assert len(names) == len(set(names)) <= 14  # one entry per kind of mark, not one per event kind
    fill_traces = [t for t in fig.data if t.meta == "fill"]
    assert sum(len(t.hovertext) for t in fill_traces) == len(run.fills)
    world = run.events[run.events["kind"].str.startswith("intervention_")]
    events = [t for t in fig.data if t.meta == "event"]
    assert sum(len(t.hovertext) for t in events) == 3 * len(world)  # one vertical line, one hover each


def test_world_events_are_labelled_by_kind_and_faults_are_not_called_operator_actions():
    for kind in ("price_gap", "outage", "latency_spike", "thin_liquidity", "drop_updates", "bot_crash"):
        assert not event_label(f"intervention_{kind}")[0].startswith("operator"), kind
    assert event_label("intervention_external_close")[0] == "operator action: external close"
    assert event_label("intervention_outage")[0] == "transport fault: outage"
    assert event_label("intervention_outage")[2] != event_label("intervention_external_close")[2]


def test_equity_without_an_ideal_twin_does_not_promise_the_cost_of_execution(quickstart):
    assert quickstart.ideal_timeline is None
    fig = draw_equity(quickstart)
    title = fig.layout.title.text
    assert "ideal" not in title.replace("no ideal twin", "")
    assert "no ideal twin" in title and len(fig.data) == 1


def test_slippage_with_fewer_than_three_sizes_draws_no_fit_and_says_so(quickstart):
    assert quickstart.orders.loc[quickstart.orders["filled_qty"] > 0, "filled_qty"].nunique() == 2
    fig = draw_slippage(quickstart)
    assert "no fit (fewer than 3 sizes" in fig.layout.title.text
    assert not any(t.name.startswith("fit") for t in fig.data)


def test_rejects_figure_without_rejects_is_a_line_of_text_not_empty_axes(quickstart):
    fig = draw_rejects(quickstart)
    assert fig.layout.xaxis.visible is False and "no rejects" in fig.layout.annotations[0].text


def test_drift_latency_places_each_episode_at_its_time_not_one_label_per_bar(tmp_path_factory):
    run = _run(tmp_path_factory, "basics/chaos.toml")
    fig = draw_drift_latency(run)
    assert fig.layout.xaxis.type == "date" and not fig.layout.xaxis.tickvals
    detect = [t for t in fig.data if t.showlegend is not False]
    assert sum(len(t.x) for t in detect) == len(run.drift_episodes)
    assert len(_names(fig)) == run.drift_episodes["cause"].nunique()
