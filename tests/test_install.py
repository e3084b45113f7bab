"""A wheel installed in a fresh environment, outside the repository, lists and runs the bundled scenarios.

The wheel is built from a copy of the source tree (nothing is written into the checkout) and
installed without its dependencies into a new virtual environment; the dependencies come from
the environment running the tests, appended to the new one's path, so the test needs no network
and the `sim` it runs is the installed one, not the checkout.
"""
from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(".git", ".venv", "reports", "build", "dist", "*.egg-info", "__pycache__",
                                ".pytest_cache", ".ruff_cache", ".hypothesis", "_bundled", "notebooks", "tests")


def _run(*cmd: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, check=False,
                          timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh virtual environment holding only the built wheel."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=IGNORE)
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp / "dist",
                 src, cwd=tmp)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp / "dist").glob("aetherpro_sim-*.whl"))
    venv = tmp / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    assert made.returncode == 0, made.stderr
    py = venv / "bin" / "python"
    purelib = Path(_run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp).stdout.strip())
    # the dependencies from the test environment, after the new environment's own site-packages
    deps = [p for p in (*site.getsitepackages(), sysconfig.get_paths()["purelib"]) if Path(p).is_dir()]
    (purelib / "zz_test_dependencies.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    put = _run(sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", "-q", wheel,
               cwd=tmp)
    assert put.returncode == 0, put.stderr
    where = _run(py, "-c", "import sim; print(sim.__file__)", cwd=tmp)
    assert where.stdout.strip().startswith(str(purelib)), where  # the installed package, not the checkout
    return venv / "bin"


def test_the_installed_program_lists_every_bundled_scenario(installed, tmp_path):
    done = _run(installed / "aethersim", "list", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for f in (ROOT / "scenarios").rglob("*.toml"):
        assert f"  {f.stem} " in done.stdout, (f.stem, done.stdout)


def test_the_installed_program_runs_the_quickstart_and_the_replay_of_real_data(installed, tmp_path):
    done = _run(installed / "aethersim", "run", "quickstart", "--no-ideal-twin", "--out", tmp_path / "q", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "quickstart (seed 42)" in done.stdout and (tmp_path / "q/summary.json").is_file()
    # replay-real reads ../../data/... relative to its own file: the data ships beside the scenarios
    done = _run(installed / "aethersim", "validate", "replay-real", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
