"""Issue 15 bug 4: a run that breaks an invariant says so on the terminal and in its exit status.

`aethersim run` prints each broken invariant and exits 1 (like a failed expectation); `aethersim
batch` counts such runs as broken (status ``broken``, never ``ok``) and exits 1. The broken
invariant is a planted one (the venue books realized PnL x1.5), so these tests do not depend on
any bug the bot has today.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.world.accounting import PositionBook

FLIP = str(Path(__file__).resolve().parent.parent / "scenarios" / "basics" / "flip.toml")


@pytest.fixture
def venue_books_pnl_x1_5(monkeypatch):
    pure = PositionBook.apply_fill

    def apply_fill(self: PositionBook, signed_qty: Decimal, price: float, fee: float) -> float:
        realized = pure(self, signed_qty, price, fee)
        self.realized_pnl += 0.5 * realized
        self.wallet += 0.5 * realized
        return 1.5 * realized

    monkeypatch.setattr(PositionBook, "apply_fill", apply_fill)


def test_run_prints_the_broken_invariant_and_exits_1(tmp_path, capsys, venue_books_pnl_x1_5):
    code = main(["run", FLIP, "--out", str(tmp_path / "r"), "--no-ideal-twin"])
    out = capsys.readouterr().out
    assert code == 1
    assert "invariant BROKEN conservation: wallet" in out
    assert "expect   ok" in out  # its expectations held: the invariant alone fails it


def test_run_with_every_invariant_held_exits_0_and_says_so(tmp_path, capsys):
    assert main(["run", FLIP, "--out", str(tmp_path / "r"), "--no-ideal-twin"]) == 0
    assert "invariants held (6)" in capsys.readouterr().out


def test_batch_counts_a_run_breaking_an_invariant_as_broken_and_exits_1(tmp_path, capsys, venue_books_pnl_x1_5):
    out_dir = tmp_path / "b"
    code = main(["batch", FLIP, "--seed-list", "3", "--workers", "1", "--out", str(out_dir)])
    out = capsys.readouterr().out
    assert code == 1
    assert "1 runs: 0 ok, 0 failed an expectation, 1 broke an invariant, 0 raised" in out
    assert pd.read_parquet(out_dir / "results.parquet")["status"].tolist() == ["broken"]
