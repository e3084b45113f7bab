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

from sim.report.html import CSS  # noqa: E402

METRICS = (("drift.detect_s_max", "worst drift detection (s)"), ("drift.episodes", "drift episodes"),
           ("execution.slippage_bps_mean", "mean slippage (bps)"), ("pnl.realistic", "PnL, realistic (quote)"),
           ("stale_actions", "stale actions"), ("execution.fees", "fees (quote)"))


def _numeric(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce") if col in df.columns else pd.Series(dtype=float)


def distributions_figure(df: pd.DataFrame, out: Path) -> Path:
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    for ax, (col, label) in zip(axes.flat, METRICS, strict=True):
        groups = [(name, _numeric(g, col).dropna()) for name, g in df.groupby("scenario")]
        groups = [(n, v) for n, v in groups if len(v)]
        if groups:
            ax.boxplot([v for _, v in groups], tick_labels=[n for n, _ in groups], orientation="horizontal",
                       showmeans=True)
            ax.tick_params(axis="y", labelsize=7)
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle("Distributions across runs (box: quartiles; line: median; triangle: mean)", fontsize=10)
    fig.tight_layout()
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


def failures(df: pd.DataFrame) -> pd.DataFrame:
    """Runs that raised, missed an `[expect]` check or broke an invariant, with what went wrong."""
    rows = []
    for _, r in df.iterrows():
        failed_expect = [c.removeprefix("expect.").removesuffix(".passed") for c in df.columns
                         if c.startswith("expect.") and c.endswith(".passed") and r[c] is False]
        failed_inv = [c.split(".")[1] for c in df.columns
                      if c.startswith("invariants.") and c.endswith(".held") and r[c] is False]
        if r.get("status") != "ok" or failed_inv:
            rows.append({"run_id": r["run_id"], "status": r.get("status"), "error": r.get("error"),
                         "failed expectations": ", ".join(failed_expect), "broken invariants": ", ".join(failed_inv)})
    return pd.DataFrame(rows, columns=["run_id", "status", "error", "failed expectations", "broken invariants"])


def worst_runs(df: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    ok = df[df["status"] != "error"].copy()
    if not len(ok):
        return ok
    ok["_det"] = _numeric(ok, "drift.detect_s_max").fillna(0)
    ok["_pnl"] = _numeric(ok, "pnl.realistic").fillna(0)
    return ok.sort_values(["_det", "_pnl"], ascending=[False, True]).head(n)


def build_batch_report(batch_dir: str | Path, worst: int = 10) -> Path:
    from sim.report.html import build_report

    batch_dir = Path(batch_dir)
    df = pd.read_parquet(batch_dir / "results.parquet")
    figs = batch_dir / "figures"
    figs.mkdir(exist_ok=True)
    images = [distributions_figure(df, figs)] if len(df) else []
    sweep = sweep_figure(df, figs) if len(df) else None
    images += [sweep] if sweep else []
    links = []
    for _, r in worst_runs(df, worst).iterrows():
        run_dir = batch_dir / "runs" / r["run_id"]
        href = ""
        if (run_dir / "timeline.parquet").is_file():
            if not (run_dir / "report.html").is_file():
                build_report(run_dir)
            href = f"runs/{r['run_id']}/report.html"
        name = f'<a href="{href}">{html.escape(r["run_id"])}</a>' if href else html.escape(r["run_id"])
        links.append(f"<tr><td>{name}</td><td>{r.get('drift.detect_s_max')}</td><td>{r.get('drift.episodes')}</td>"
                     f"<td>{r.get('pnl.realistic')}</td><td>{html.escape(str(r.get('status')))}</td></tr>")
    fails = failures(df)
    counts = df["status"].value_counts().to_dict() if len(df) else {}
    inv_broken = len(fails[fails["broken invariants"] != ""]) if len(fails) else 0
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>aethersim batch</title>
<style>{CSS}</style></head><body>
<h1>Batch report <span class=muted>({len(df)} runs, {df['scenario'].nunique() if len(df) else 0} scenarios)</span></h1>
<div class=cards>
<div class=card><div class=v>{counts.get('ok', 0)}</div><div class=k>runs ok</div></div>
<div class=card><div class=v>{counts.get('expect_failed', 0)}</div><div class=k>expectations failed</div></div>
<div class=card><div class=v>{counts.get('error', 0)}</div><div class=k>runs raised</div></div>
<div class=card><div class=v>{inv_broken}</div><div class=k>runs breaking an invariant</div></div></div>
<h2>Failures</h2>{fails.to_html(index=False, border=0, na_rep='') if len(fails) else '<p class=muted>none</p>'}
<h2>Distributions and sweeps</h2>{''.join(f'<img src="figures/{p.name}" alt="{p.stem}">' for p in images)}
<h2>Worst runs</h2><p class=muted>By worst drift detection, then lowest PnL; each links to its run report.</p>
<table><tr><th>run</th><th>worst detection (s)</th><th>drift episodes</th><th>PnL</th><th>status</th></tr>
{''.join(links)}</table>
<p class=muted>All rows: <code>results.parquet</code> (one row per run, the summary flattened with dotted names).</p>
</body></html>"""
    path = batch_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
