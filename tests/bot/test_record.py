"""The platform record: versioned schema, transactional writes, history kept."""
from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from sim.bot.record import PlatformRecord
from sim.bot.record.schema import MIGRATIONS


def test_new_record_is_at_the_latest_schema_version(tmp_path):
    rec = PlatformRecord.open(tmp_path / "r.sqlite", "BTCUSDT", "ae")
    assert rec.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_record_syncs_to_disk_unless_the_caller_says_power_cannot_fail(tmp_path):
    live = PlatformRecord.open(tmp_path / "live.sqlite", "BTCUSDT", "ae")
    simulated = PlatformRecord.open(tmp_path / "sim.sqlite", "BTCUSDT", "ae", power_safe=False)
    assert live.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL: WAL synced at checkpoints
    assert simulated.conn.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF
    assert live.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_record_from_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "r.sqlite"
    PlatformRecord.open(path, "BTCUSDT", "ae").close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer than this code"):
        PlatformRecord.open(path, "BTCUSDT", "ae")


def test_a_failing_batch_leaves_neither_file_nor_working_view_half_written(tmp_path):
    rec = PlatformRecord.open(tmp_path / "r.sqlite", "BTCUSDT", "ae")
    rec.set_position(Decimal("0.1"), Decimal("100"), 1, "open")
    with pytest.raises(ZeroDivisionError), rec.batch():
        rec.set_position(Decimal("0.3"), Decimal("101"), 2, "increase")
        1 / 0  # noqa: B018  a crash between two statements
    assert rec.state.position.qty == Decimal("0.1")
    rec.close()
    again = PlatformRecord.open(tmp_path / "r.sqlite", "BTCUSDT", "ae")
    assert again.state.position.qty == Decimal("0.1")


def test_position_history_is_append_only(tmp_path):
    rec = PlatformRecord.open(tmp_path / "r.sqlite", "BTCUSDT", "ae")
    rec.set_position(Decimal("0.1"), Decimal("100"), 1, "open")
    rec.set_position(Decimal("0"), Decimal("0"), 2, "tp")
    rows = rec.conn.execute("SELECT ts, qty, reason FROM position_history ORDER BY id").fetchall()
    assert rows == [(1, "0.1", "open"), (2, "0", "tp")]


def test_intent_ids_survive_a_restart_and_never_repeat(tmp_path):
    rec = PlatformRecord.open(tmp_path / "r.sqlite", "BTCUSDT", "ae")
    first = [rec.allocate_intent() for _ in range(3)]
    rec.close()
    rec = PlatformRecord.open(tmp_path / "r.sqlite", "BTCUSDT", "ae")
    assert rec.allocate_intent() == first[-1] + 1
