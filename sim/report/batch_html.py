"""The batch report: distributions across seeds, parameter sweeps, the worst runs, the failures.

Reads ``results.parquet`` (and the run directories it links to) only.
"""
from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from sim.report.html import CSS  # noqa: E402

METRICS = (("drift.detect_s_max", "worst drift detection (s)"), ("drift.episodes", "drift episodes"),
           ("execution.slippage_bps_mean", "mean slippage (bps)"), ("pnl.realistic", "PnL, realistic (quote)"),
           ("stale_actions", "stale actions"), ("execution.fees", "fees (quote)"))


def _numeric(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce") if col in df.columns else pd.Series(dtype=float)


def _plain_axis(ax: plt.Axes) -> None:
    """Plain numbers on a few ticks: no offset, no overlapping labels."""
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.ticklabel_format(axis="x", useOffset=False, style="plain")


def _constant(values: pd.Series) -> bool:
    """Every value the same, float noise aside (1e-9 relative)."""
    spread = float(values.max() - values.min())
    return spread <= 1e-9 * max(1.0, float(values.abs().max()))


def _fmt_value(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}"


def draw_distributions(df: pd.DataFrame) -> plt.Figure:
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    for ax, (col, label) in zip(axes.flat, METRICS, strict=True):
        groups = [(name, _numeric(g, col).dropna()) for name, g in df.groupby("scenario")]
        groups = [(n, v) for n, v in groups if len(v)]
        ax.set_title(label, fontsize=9)
        values = pd.concat([v for _, v in groups]) if groups else pd.Series(dtype=float)
        if not len(values) or _constant(values):  # nothing to spread: say the value, not a +-0.04 axis
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color("#dddddd")
            runs = "all runs" if len(values) == len(df) else f"all {len(values)} runs with a value"
            text = ("no run has this figure\n(null: e.g. no drift episode)" if not len(values)
                    else f"{runs}: {_fmt_value(values.iloc[0])}")
            ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=10)
            continue
        ax.boxplot([v for _, v in groups], tick_labels=[n for n, _ in groups], orientation="horizontal",
                   showmeans=True)
        ax.tick_params(axis="y", labelsize=7)
        _plain_axis(ax)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle("Distributions across runs (box: quartiles; line: median; triangle: mean)", fontsize=10)
    fig.tight_layout()
    return fig


def distributions_figure(df: pd.DataFrame, out: Path) -> Path:
    fig = draw_distributions(df)
    path = out / "batch_distributions.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def sweep_figure(df: pd.DataFrame, out: Path) -> Path | None:
    params = [c for c in df.columns if c.startswith("param.")]
    if not params:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    picks = (("drift.detect_s_max", "worst detection (s)"), ("execution.slippage_bps_mean", "mean slippage (bps)"),
             ("pnl.realistic", "PnL realistic (quote)"))
    if len(params) == 1:
        p = params[0]
        for ax, (col, label) in zip(axes, picks, strict=True):
            for name, g in df.groupby("scenario"):
                stats = g.assign(v=_numeric(g, col)).groupby(p)["v"].agg(["mean", "std"]).sort_index()
                x = stats.index.astype(str) if stats.index.dtype == object else stats.index
                ax.errorbar(x, stats["mean"], yerr=stats["std"].fillna(0), marker="o", capsize=3, label=name)
            ax.set_xlabel(p.removeprefix("param."))
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=7)
        title = f"Sweep of {params[0].removeprefix('param.')}: mean ± std across seeds"
    else:
        a, b = params[:2]
        for ax, (col, label) in zip(axes, picks, strict=True):
            table = df.assign(v=_numeric(df, col)).pivot_table(index=a, columns=b, values="v", aggfunc="mean")
            if table.empty:  # no run has this figure (no drift episode anywhere, say): say so, draw no map
                ax.text(0.5, 0.5, "no run has a value", ha="center", va="center", transform=ax.transAxes)
                ax.set_axis_off()
                ax.set_title(label, fontsize=9)
                continue
            im = ax.imshow(table.to_numpy(float), aspect="auto", cmap="viridis")
            ax.set_xticks(range(len(table.columns)), [str(c) for c in table.columns], fontsize=7)
            ax.set_yticks(range(len(table.index)), [str(i) for i in table.index], fontsize=7)
            ax.set_xlabel(b.removeprefix("param."))
            ax.set_ylabel(a.removeprefix("param."))
            ax.set_title(label, fontsize=9)
            fig.colorbar(im, ax=ax)
        title = f"Sweep of {a.removeprefix('param.')} x {b.removeprefix('param.')}: mean across seeds and scenarios"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = out / "batch_sweep.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


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
    figs = batch_dir / "figures"
    figs.mkdir(exist_ok=True)
    images = [distributions_figure(df, figs)] if len(df) else []
    sweep = sweep_figure(df, figs) if len(df) else None
    images += [sweep] if sweep else []
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
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>aethersim batch</title>
<style>{CSS}</style></head><body>
<h1>Batch report <span class=muted>({len(df)} runs, {df['scenario'].nunique() if len(df) else 0} scenarios)</span></h1>
<div class=cards>
<div class=card><div class=v>{counts.get('ok', 0)}</div><div class=k>runs ok</div></div>
<div class=card><div class=v>{counts.get('expect_failed', 0)}</div><div class=k>expectations failed</div></div>
<div class=card><div class=v>{counts.get('error', 0)}</div><div class=k>runs raised</div></div>
<div class=card><div class=v>{inv_broken}</div><div class=k>runs breaking an invariant</div></div></div>
<h2>Failures</h2>{_html_table(fail_rows, fail_cols) if fail_rows else '<p class=muted>none</p>'}
<p class=muted>Each run links to its report where its files allow one (a run that raised links to what it left:
its partial report, its error or its directory).</p>
<h2>Distributions and sweeps</h2>{''.join(f'<img src="figures/{p.name}" alt="{p.stem}">' for p in images)}
<h2>Worst runs</h2><p class=muted>By worst drift detection, then lowest PnL; each links to its run report.</p>
{param_note}{_html_table(worst_rows, worst_cols)}
<p class=muted>All rows: <code>results.parquet</code> (one row per run, the summary flattened with dotted names).</p>
</body></html>"""
    path = batch_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
