"""The analysis notebooks run top to bottom on small bundled scenarios (stored without outputs) and show
what they promise: every cell tagged ``figure`` draws a figure, every cell tagged ``card`` shows the run's card.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_are_stored_without_outputs():
    import nbformat

    assert len(NOTEBOOKS) >= 3
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


FIGURE_TYPES = ("application/vnd.plotly.v1+json", "image/png", "image/svg+xml")


def _shown(cell) -> set[str]:
    return {mime for out in cell.get("outputs", []) for mime in out.get("data", {})}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_and_draws_its_figures(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    drawing = [c for c in nb.cells if "figure" in c.metadata.get("tags", [])]
    assert drawing, f"{path.name} has no cell tagged 'figure'"
    for cell in drawing:
        assert _shown(cell) & set(FIGURE_TYPES), f"{path.name}: this cell shows no figure:\n{cell.source[:200]}"
    for cell in (c for c in nb.cells if "card" in c.metadata.get("tags", [])):
        html = "".join(out["data"].get("text/html", "") for out in cell.outputs if "data" in out)
        assert "aes-card" in html and "drift episodes" in html, f"{path.name}: no summary card"


def test_notebook_check_fails_on_a_notebook_that_draws_nothing(tmp_path):
    """The check above would catch the old bug: a backend forced to Agg makes plt.show() show nothing."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cell = nbformat.v4.new_code_cell("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                                     "plt.plot([1, 2])\nplt.show()")
    nb = nbformat.v4.new_notebook(cells=[cell])
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    assert not _shown(nb.cells[0]) & set(FIGURE_TYPES)


def test_importing_and_running_sim_leaves_the_plotting_backend_alone(tmp_path):
    code = ("import matplotlib\nmatplotlib.use('svg')\nimport sim\n"
            f"sim.run(sim.load_scenario({str(ROOT / 'scenarios/basics/flip.toml')!r}), out={str(tmp_path / 'r')!r})\n"
            f"sim.batch([{str(ROOT / 'scenarios/basics/flip.toml')!r}], seeds=[1], out={str(tmp_path / 'b')!r}, "
            "workers=1)\nprint(matplotlib.get_backend())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "svg"
