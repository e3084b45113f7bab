"""The batch report: key metrics per parameter value, box plots split by it, the sweep's effect in words,
the worst runs, the failures. One self-contained HTML file (Plotly inlined once).

Reads ``results.parquet`` (and the run directories it links to) only.
"""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.report.page import figure_div, page
from sim.report.sweep import KEY_METRICS, effect_lines, fmt, group_columns, numeric, sweep_table

METRICS = tuple((col, label) for col, label, _ in KEY_METRICS)
_numeric = numeric


def _constant(values: pd.Series) -> bool:
    """Every value the same, float noise aside (1e-9 relative)."""
    spread = float(values.max() - values.min())
    return spread <= 1e-9 * max(1.0, float(values.abs().max()))


def _fmt_value(v: float) -> str:
    return fmt(v)


def _group_labels(df: pd.DataFrame) -> pd.Series:
    """Each run's group as a person reads it: ``20`` for one swept key, ``a=1, b=2`` for several."""
    keys = group_columns(df)
    if not keys:
        return pd.Series("all runs", index=df.index)
    if len(keys) == 1:
        return df[keys[0]].map(fmt)
    return df[keys].apply(lambda r: ", ".join(f"{k.removeprefix('param.')}={fmt(v)}" for k, v in r.items()), axis=1)


def draw_distributions(df: pd.DataFrame) -> go.Figure:
    """One box plot per key metric, a box per parameter value (or combination), every run a point with a hover."""
    keys = group_columns(df)
    fig = make_subplots(rows=2, cols=3, subplot_titles=[label for _, label in METRICS], vertical_spacing=0.18,
                        horizontal_spacing=0.07)
    groups = _group_labels(df) if len(df) else pd.Series(dtype=str)
    order = list(dict.fromkeys(groups.loc[df.sort_values(keys, key=lambda c: pd.to_numeric(c, errors="coerce")
                                                          .fillna(0) if c.dtype != object else c).index]
                               if keys else groups))
    hover = (df["run_id"].astype(str) + ", seed " + df["seed"].astype(str)) if {"run_id", "seed"} <= set(df.columns) \
        else pd.Series("", index=df.index)
    for i, (col, label) in enumerate(METRICS):
        row, c = divmod(i, 3)
        values = numeric(df, col)
        have = values.dropna()
        if not len(have) or _constant(have):  # nothing to spread: say the value, not a +-0.04 axis
            runs = "all runs" if len(have) == len(df) else f"all {len(have)} runs with a value"
            text = ("no run has this figure<br>(null: e.g. no drift episode)" if not len(have)
                    else f"{runs}: {fmt(float(have.iloc[0]))}")
            sub = fig.get_subplot(row + 1, c + 1)  # paper coordinates: an empty panel's axes are not drawn
            fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=sum(sub.xaxis.domain) / 2,
                               y=sum(sub.yaxis.domain) / 2, font=dict(size=13), name=label)
            fig.update_xaxes(visible=False, row=row + 1, col=c + 1)
            fig.update_yaxes(visible=False, row=row + 1, col=c + 1)
            continue
        fig.add_trace(go.Box(x=groups[values.notna()], y=have, boxpoints="all", jitter=0.4, pointpos=0,
                             boxmean=True, name=label, marker=dict(size=5, color="#1f77b4"), line=dict(width=1.2),
                             hovertext=hover[values.notna()], showlegend=False,
                             hovertemplate="%{hovertext}<br>%{y:,.4g}<extra></extra>"), row + 1, c + 1)
        fig.update_xaxes(categoryorder="array", categoryarray=order, type="category", row=row + 1, col=c + 1)
        fig.update_yaxes(exponentformat="none", separatethousands=True, row=row + 1, col=c + 1)
    by = ", ".join(k.removeprefix("param.") for k in keys) or "all runs"
    fig.update_layout(title=dict(text=f"Distributions across seeds, split by {html.escape(by)} (box: quartiles; "
                                 "line: median; dashed: mean; dots: runs)", font=dict(size=14)),
                      height=620, template="plotly_white", margin=dict(l=60, r=20, t=80, b=50))
    return fig


def comparison_table(df: pd.DataFrame) -> str:
    """The per-value table as HTML: runs, failures, and each key metric's median and worst across seeds."""
    table = sweep_table(df)
    if not len(table):
        return "<p class=muted>no runs</p>"
    keys = [c for c in table.columns if c not in ("runs", "not ok") and ":" not in c]
    head = ("<tr>" + "".join(f"<th rowspan=2>{html.escape(k)}</th>" for k in keys)
            + "<th rowspan=2>runs</th><th rowspan=2>not ok</th>"
            + "".join(f"<th colspan=2>{html.escape(label)}</th>" for _, label in METRICS) + "</tr><tr>"
            + "<th>median</th><th>worst</th>" * len(METRICS) + "</tr>")
    body = "".join("<tr>" + "".join(f"<td>{html.escape(fmt(r[k]))}</td>" for k in keys)
                   + f"<td>{r['runs']:,}</td><td>{r['not ok']:,}</td>"
                   + "".join(f"<td>{fmt(r[f'{label}: median'])}</td><td>{fmt(r[f'{label}: worst'])}</td>"
                             for _, label in METRICS) + "</tr>" for r in table.to_dict("records"))
    return f"<div class=scroll style='max-height:none'><table class=compare>{head}{body}</table></div>"


def _params(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith("param.")]


def failures(df: pd.DataFrame) -> pd.DataFrame:
    """Runs that raised, missed an `[expect]` check or broke an invariant, with what went wrong."""
    ident = [c for c in ("scenario", "seed", *_params(df)) if c in df.columns]
    cols = ["run_id", *ident, "status", "error", "failed expectations", "broken invariants"]
    rows = []
    for _, r in df.iterrows():
        failed_expect = [c.removeprefix("expect.").removesuffix(".passed") for c in df.columns
                         if c.startswith("expect.") and c.endswith(".passed") and r[c] is False]
        failed_inv = [c.split(".")[1] for c in df.columns
                      if c.startswith("invariants.") and c.endswith(".held") and r[c] is False]
        if r.get("status") != "ok" or failed_inv:
            rows.append({"run_id": r["run_id"], **{c: r[c] for c in ident}, "status": r.get("status"),
                         "error": r.get("error"), "failed expectations": ", ".join(failed_expect),
                         "broken invariants": ", ".join(failed_inv)})
    return pd.DataFrame(rows, columns=cols)


def worst_runs(df: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    ok = df[df["status"] != "error"].copy()
    if not len(ok):
        return ok
    ok["_det"] = _numeric(ok, "drift.detect_s_max").fillna(0)
    ok["_pnl"] = _numeric(ok, "pnl.realistic").fillna(0)
    return ok.sort_values(["_det", "_pnl"], ascending=[False, True]).head(n)


MAX_REPORTS_BUILT = 20  # run reports built for the batch page (each takes seconds); the rest link their directory


def run_link(batch_dir: Path, run_id: str, budget: list[int]) -> str:
    """The best link to a run: its report (built when the files allow and the budget lasts), its error, its directory.

    ``budget`` is a one-element list, the number of reports this page may still build.
    """
    from sim.report.html import build_report

    run_dir = batch_dir / "runs" / run_id
    rel = f"runs/{run_id}"
    if not (run_dir / "report.html").is_file() and (run_dir / "timeline.parquet").is_file() and budget[0] > 0:
        budget[0] -= 1
        try:
            build_report(run_dir)
        except Exception as exc:  # a partial run may lack what a report needs: link what there is
            (run_dir / "report-error.txt").write_text(f"{type(exc).__name__}: {exc}\n")
    for name, what in (("report.html", "report"), ("error.txt", "error"), ("summary.json", "summary")):
        if (run_dir / name).is_file():
            return (f'<a href="{html.escape(rel)}/{name}">{html.escape(run_id)}</a>'
                    + ("" if name == "report.html" else f" <span class=muted>({what})</span>"))
    if run_dir.is_dir():
        return f'<a href="{html.escape(rel)}/">{html.escape(run_id)}</a> <span class=muted>(directory)</span>'
    return html.escape(run_id) + " <span class=muted>(no run directory kept)</span>"


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "–"
    if isinstance(v, float):
        return _fmt_value(v)
    return html.escape(str(v))


def _html_table(rows: list[dict[str, str]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c.removeprefix('param.'))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{r.get(c, '')}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def build_batch_report(batch_dir: str | Path, worst: int = 10) -> Path:
    batch_dir = Path(batch_dir)
    df = pd.read_parquet(batch_dir / "results.parquet")
    params = _params(df)
    budget = [MAX_REPORTS_BUILT]
    worst_rows = []
    for _, r in worst_runs(df, worst).iterrows():
        worst_rows.append({"run": run_link(batch_dir, r["run_id"], budget), "scenario": _cell(r.get("scenario")),
                           "seed": _cell(r.get("seed")), **{p: _cell(r.get(p)) for p in params},
                           "worst detection (s)": _cell(r.get("drift.detect_s_max")),
                           "drift episodes": _cell(r.get("drift.episodes")), "PnL": _cell(r.get("pnl.realistic")),
                           "status": _cell(r.get("status"))})
    worst_cols = ["run", "scenario", "seed", *params, "worst detection (s)", "drift episodes", "PnL", "status"]
    fails = failures(df)
    fail_rows = [{"run": run_link(batch_dir, r["run_id"], budget),
                  **{c: _cell(r[c]) if r[c] != "" else "" for c in fails.columns if c != "run_id"}}
                 for _, r in fails.iterrows()]
    fail_cols = ["run", *[c for c in fails.columns if c != "run_id"]]
    counts = df["status"].value_counts().to_dict() if len(df) else {}
    inv_broken = len(fails[fails["broken invariants"] != ""]) if len(fails) else 0
    param_note = (f"<p class=muted>Parameter columns ({', '.join(html.escape(p) for p in params)}) are the "
                  "<code>--set</code> values of each run.</p>" if params else "")
    by = ", ".join(k.removeprefix("param.") for k in group_columns(df)) or "all runs"
    effects = "".join(f"<li>{html.escape(line)}</li>" for line in effect_lines(df)) if len(df) else ""
    body = f"""<h1>Batch report <span class=muted>({len(df)} runs, {df['scenario'].nunique() if len(df) else 0}
scenarios)</span></h1>
<div class=cards>
<div class=card><div class=v>{counts.get('ok', 0)}</div><div class=k>runs ok</div></div>
<div class=card><div class=v>{counts.get('expect_failed', 0)}</div><div class=k>expectations failed</div></div>
<div class=card><div class=v>{counts.get('error', 0)}</div><div class=k>runs raised</div></div>
<div class=card><div class=v>{inv_broken}</div><div class=k>runs breaking an invariant</div></div></div>
<h2>Failures</h2>{_html_table(fail_rows, fail_cols) if fail_rows else '<p class=muted>none</p>'}
<p class=muted>Each run links to its report where its files allow one (a run that raised links to what it left:
its partial report, its error or its directory).</p>
<h2>Compared by {html.escape(by)}</h2>
<p class=muted>Median and worst across seeds (worst: the highest where higher is worse, the lowest PnL).</p>
{comparison_table(df)}
<h3>The sweep's effect</h3><ul class=effects>{effects}</ul>
{figure_div(draw_distributions(df)) if len(df) else ''}
<h2>Worst runs</h2><p class=muted>By worst drift detection, then lowest PnL; each links to its run report.</p>
{param_note}{_html_table(worst_rows, worst_cols)}
<p class=muted>All rows: <code>results.parquet</code> (one row per run, the summary flattened with dotted names).</p>"""
    path = batch_dir / "report.html"
    path.write_text(page("aethersim batch", body), encoding="utf-8")
    return path
