"""Reports as a person sees them: opened in headless Chromium, every chart drawn, no console error,
every order in the table, the page no wider than the window, and the same after the file is copied away.

Skips where Debian's chromium and chromium-driver (or selenium) are absent; CI installs them.
"""
from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path

import pytest

import sim
from tests import browser

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not browser.available(), reason="needs /usr/bin/chromium and chromedriver (Debian "
                                "packages chromium, chromium-driver) and selenium")
RUN_PLOTS = 9  # position, drift latency, price, equity, costs, slippage, latency, cost distributions, rejects


def _run(tmp_path_factory, scenario: str, **kw) -> Path:
    out = tmp_path_factory.mktemp(Path(scenario).stem)
    with contextlib.suppress(sim.RunFailed):  # a run that stops keeps its report; that is what is looked at
        sim.run(sim.load_scenario(ROOT / "scenarios" / scenario), out=out, **kw)
    return out


@pytest.fixture(scope="module", params=["quickstart.toml", "basics/chaos.toml", "margin/liquidation.toml",
                                        "crash/crash-after-submit.toml"])
def run_dir(request, tmp_path_factory):
    return _run(tmp_path_factory, request.param)


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "b"
    sim.batch([ROOT / "scenarios/protective/tp-fires-between-cycles.toml"], seeds=[1, 2],
              params={"exchange.latency.median_ms": [10, 300]}, out=out, workers=1)
    return out


def _check(seen: browser.Seen, plots: int) -> None:
    assert seen.errors == []
    assert seen.plots == plots and seen.drawn == plots, seen.empty
    assert seen.page_width <= seen.body_width  # wide tables scroll in their box; the page never does


def test_run_report_draws_every_chart_and_lists_every_order(run_dir):
    from sim.report import load_run

    seen = browser.look(run_dir / "report.html")
    _check(seen, RUN_PLOTS)
    run = load_run(run_dir)
    drawn, held, says = seen.table_rows["filter orders"]
    assert held == len(run.orders) and drawn == min(len(run.orders), 1000)
    assert says.startswith(f"{len(run.orders)} of {len(run.orders)} rows")
    assert seen.table_rows.get("filter episodes", [0, 0])[1] == len(run.drift_episodes)


def test_a_copied_report_still_draws_every_chart(tmp_path_factory):
    run = _run(tmp_path_factory, "quickstart.toml", ideal_twin=False)
    elsewhere = tmp_path_factory.mktemp("mailed")
    shutil.copy(run / "report.html", elsewhere / "copy.html")
    shutil.rmtree(run)  # nothing the report might have linked to is left
    _check(browser.look(elsewhere / "copy.html"), RUN_PLOTS)


def test_batch_report_draws_its_box_plots_from_a_copy(batch_dir, tmp_path):
    _check(browser.look(batch_dir / "report.html"), 1)
    shutil.copy(batch_dir / "report.html", tmp_path / "batch.html")
    _check(browser.look(tmp_path / "batch.html"), 1)


def test_orders_table_filters_and_sorts_and_time_charts_zoom_together(tmp_path_factory):
    from selenium.webdriver.common.by import By

    run = _run(tmp_path_factory, "quickstart.toml", ideal_twin=False)
    driver = browser.open_page(run / "report.html")
    try:
        box = driver.find_elements(By.CSS_SELECTOR, "div.sortable")[-1]  # the orders table
        box.find_element(By.TAG_NAME, "input").send_keys("stop_market")
        time.sleep(0.3)
        visible = box.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert visible and all("stop_market" in r.text for r in visible)
        assert box.find_element(By.CSS_SELECTOR, ".count").text.startswith(f"{len(visible)} of ")
        cells = [r.find_elements(By.TAG_NAME, "td")[6].text for r in visible]
        values = [float(c.replace(",", "")) for c in cells if c]
        assert len(values) == len(visible)  # every stop-market order has a trigger price
        trigger = [h for h in box.find_elements(By.TAG_NAME, "th") if h.text.startswith("trigger_price")][0]
        trigger.click()
        trigger.click()  # descending
        time.sleep(0.3)
        shown = [float(r.find_elements(By.TAG_NAME, "td")[6].text.replace(",", ""))
                 for r in box.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert shown == sorted(values, reverse=True)
        ranges = driver.execute_script("""
            const plots = Array.from(document.querySelectorAll('div.linked .js-plotly-plot'));
            const equity = plots[plots.length - 1];  // zoom the last chart as a drag would; the others follow
            return Plotly.relayout(equity, {'xaxis.range': ['2024-01-01 06:00', '2024-01-01 07:00']}).then(
              () => new Promise(r => setTimeout(r, 500))).then(
              () => plots.map(p => {
                const axis = p.layout.xaxis.matches ? 'xaxis' + p.layout.xaxis.matches.slice(1) : 'xaxis';
                return p.layout[axis].range.map(v => String(v).slice(0, 16));
              }));
        """)
        assert len(ranges) >= 3
        assert all(r == ["2024-01-01 06:00", "2024-01-01 07:00"] for r in ranges), ranges
        fetched = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert not [u for u in fetched if not u.startswith("file:")]  # nothing from a network
    finally:
        browser.close(driver)


def test_a_long_table_draws_a_thousand_rows_at_a_time_and_all_on_demand(tmp_path):
    import pandas as pd
    from selenium.webdriver.common.by import By

    from sim.report.page import page, sortable_table

    df = pd.DataFrame({"n": range(2500), "side": ["buy", "sell"] * 1250})
    (tmp_path / "t.html").write_text(page("t", sortable_table(df, "rows")))
    driver = browser.open_page(tmp_path / "t.html")
    try:
        assert len(driver.find_elements(By.CSS_SELECTOR, "tbody tr")) == 1000
        assert driver.find_element(By.CSS_SELECTOR, ".count").text == "2500 of 2500 rows, 1000 shown"
        driver.find_element(By.CSS_SELECTOR, ".more .all").click()
        assert len(driver.find_elements(By.CSS_SELECTOR, "tbody tr")) == 2500
        assert not driver.find_element(By.CSS_SELECTOR, ".more").is_displayed()
        driver.find_element(By.TAG_NAME, "input").send_keys("sell")
        assert driver.find_element(By.CSS_SELECTOR, ".count").text == "1250 of 2500 rows, 1000 shown"
    finally:
        browser.close(driver)
