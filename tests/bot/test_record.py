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


def test_adopting_an_order_the_record_already_has_updates_it(tmp_path):
    """Issue 15 bug 1: adoption of an id the record already holds (it had concluded the order never
    arrived) is an update with its transition kept, not a second INSERT."""
    from sim.bot.state import OrderState
    from sim.core.types import ClientOrderId, OrderRole, OrderStatus, OrderType, Side

    rec = PlatformRecord.open(tmp_path / "r.sqlite", "BTCUSDT", "ae")
    cid = ClientOrderId("ae-2-tp-0")
    o = OrderState(cid, 2, OrderRole.TAKE_PROFIT, Side.SELL, OrderType.TAKE_PROFIT_MARKET, Decimal("0.1"), True,
                   Decimal("101"), OrderStatus.NEW, 0, 0)
    rec.add_order(o, "tp")
    rec.update_order(o, OrderStatus.SENT, 0, "sending")
    rec.update_order(o, OrderStatus.REJECTED, 5, "never arrived", reject_reason="never_arrived")
    again = OrderState(cid, 2, OrderRole.TAKE_PROFIT, Side.SELL, OrderType.TAKE_PROFIT_MARKET, Decimal("0.1"), True,
                       Decimal("101"), OrderStatus.ACKNOWLEDGED, 9, 9)
    rec.adopt_order(again, "adopted from the venue")
    rows = rec.conn.execute("SELECT status, reject_reason FROM orders WHERE client_id=?", (cid,)).fetchall()
    assert rows == [("acknowledged", None)]
    steps = [r[0] for r in rec.conn.execute("SELECT to_status FROM order_transitions WHERE client_id=? ORDER BY id",
                                            (cid,))]
    assert steps == ["new", "sent", "rejected", "acknowledged"]
    assert rec.state.orders[cid].status is OrderStatus.ACKNOWLEDGED
