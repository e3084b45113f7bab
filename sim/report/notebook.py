"""The report in a notebook: a summary card for a run, and its figures as Plotly objects (``run.plot.price()``).

Jupyter shows an object by calling its ``_repr_html_``; `RunTables` and `sim.RunResult` delegate
here, so ``sim.run(...)`` or ``load_run(...)`` as the last line of a cell shows the card. The
figures are the report's own (`sim.report.figures`), so a notebook and the report never disagree;
each is a ``plotly.graph_objects.Figure`` that renders inline and can be restyled or saved.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

from sim.report.cards import duration, headline_cards

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from sim.report.tables import RunTables


class RunPlots:
    """The report's figures of one run, each a Plotly figure: ``run.plot.position()`` and so on."""

    def __init__(self, run: RunTables) -> None:
        self._run = run

    def position(self) -> go.Figure:
        """Record vs venue position, the gap, and the drift episodes at their true width."""
        from sim.report.figures import draw_position

        return draw_position(self._run)

    def price(self) -> go.Figure:
        """Mid price with every fill, the TP/SL levels while live, unfilled orders and world events."""
        from sim.report.figures import draw_price

        return draw_price(self._run)

    def equity(self) -> go.Figure:
        """Equity under realistic execution against the ideal (test-mode) twin."""
        from sim.report.figures import draw_equity

        return draw_equity(self._run)

    def drift(self) -> go.Figure:
        """Each drift episode at the time it began: detection latency and time in drift."""
        from sim.report.figures_exec import draw_drift_latency

        return draw_drift_latency(self._run)

    def slippage(self) -> go.Figure:
        """Slippage vs filled size per order, with the square-root fit."""
        from sim.report.figures_exec import draw_slippage

        return draw_slippage(self._run)

    def costs(self) -> go.Figure:
        """Histograms of slippage and implementation shortfall per order."""
        from sim.report.figures_exec import draw_distributions

        return draw_distributions(self._run)

    def latency(self) -> go.Figure:
        """CDFs of each leg of an order's life after the decision."""
        from sim.report.figures_exec import draw_latency

        return draw_latency(self._run)

    def rejects(self) -> go.Figure:
        """Orders the venue refused, by reason."""
        from sim.report.figures_exec import draw_rejects

        return draw_rejects(self._run)

    def cost_breakdown(self) -> go.Figure:
        """The cost of execution split by cause (spread, impact, fees, funding, delay, path difference)."""
        from sim.report.figures_exec import draw_costs

        return draw_costs(self._run)

    def __dir__(self) -> list[str]:
        return ["position", "price", "equity", "drift", "slippage", "costs", "latency", "rejects", "cost_breakdown"]

    def __repr__(self) -> str:
        return "figures: " + ", ".join(f"{name}()" for name in self.__dir__())


CARD_CSS = ("<style>.aes-card{font-family:system-ui,sans-serif;border:1px solid #ddd;border-radius:6px;"
            "padding:8px 12px;max-width:1000px}.aes-card .cards{display:flex;flex-wrap:wrap;gap:6px;margin:.5em 0}"
            ".aes-card .card{border:1px solid #e4e4e4;border-radius:5px;padding:5px 9px;min-width:100px;"
            "max-width:170px}"
            ".aes-card .v{font-size:17px;font-weight:600}.aes-card .k{font-size:12px;color:#444}"
            ".aes-card .d{display:none}.aes-card .muted{color:#777;font-size:12px}"
            ".aes-card .fail{color:#b00;font-weight:bold}</style>")


def summary_card(summary: dict, run_dir: object) -> str:
    """A run as a card: scenario, seed, span, the headline figures, failed checks, where the report is."""
    s = summary
    failed = [k for k, c in s.get("expect", {}).items() if not c.get("passed", True)]
    stopped = s.get("stopped")
    notes = ""
    if failed:
        notes += f"<div class=fail>expectations failed: {html.escape(', '.join(failed))}</div>"
    if stopped:
        notes += f"<div class=fail>stopped early: {html.escape(str(stopped.get('error')))}</div>"
    report = f"{run_dir}/report.html"
    return (f"{CARD_CSS}<div class=aes-card><b>aethersim run: {html.escape(str(s.get('scenario')))}</b> "
            f"<span class=muted>seed {s.get('seed')}, {html.escape(duration(s.get('sim_seconds', 0)))} simulated, "
            f"{s.get('cycles', 0):,} cycles, {s.get('orders', {}).get('submitted', 0):,} orders</span>"
            f"{headline_cards(s)}{notes}<div class=muted>run directory {html.escape(str(run_dir))}; report "
            f"{html.escape(report)}; figures: <code>.plot.position()</code>, <code>.plot.price()</code>, "
            f"<code>.plot.equity()</code>, <code>.plot.drift()</code>, <code>.plot.slippage()</code>, "
            f"<code>.plot.latency()</code>, <code>.plot.costs()</code>, <code>.plot.cost_breakdown()</code>, "
            f"<code>.plot.rejects()</code></div></div>")
