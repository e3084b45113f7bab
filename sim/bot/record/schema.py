"""Versioned schema of the platform record: an ordered list of migrations.

``PRAGMA user_version`` says how many have been applied; opening an older file applies the rest
in one transaction. Append a migration to change the schema; never edit one that has shipped.
"""
from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: current state plus append-only history
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE position (
        symbol TEXT PRIMARY KEY, qty TEXT NOT NULL, entry TEXT NOT NULL, updated_ms INTEGER NOT NULL);
    CREATE TABLE position_history (
        id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, ts INTEGER NOT NULL, qty TEXT NOT NULL,
        entry TEXT NOT NULL, reason TEXT NOT NULL);
    CREATE TABLE orders (
        client_id TEXT PRIMARY KEY, intent INTEGER NOT NULL, role TEXT NOT NULL, side TEXT NOT NULL,
        type TEXT NOT NULL, qty TEXT NOT NULL, reduce_only INTEGER NOT NULL, trigger_price TEXT,
        status TEXT NOT NULL, filled_qty TEXT NOT NULL, avg_price TEXT, booked_qty TEXT NOT NULL,
        decision_id INTEGER, decision_price REAL, reject_reason TEXT,
        created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
    CREATE TABLE order_transitions (
        id INTEGER PRIMARY KEY, client_id TEXT NOT NULL, ts INTEGER NOT NULL, from_status TEXT,
        to_status TEXT NOT NULL, filled_qty TEXT NOT NULL, reason TEXT NOT NULL);
    CREATE TABLE fills (
        trade_id TEXT PRIMARY KEY, client_id TEXT, side TEXT NOT NULL, qty TEXT NOT NULL,
        price TEXT NOT NULL, fee REAL NOT NULL, kind TEXT NOT NULL, ts INTEGER NOT NULL,
        attributed_to TEXT NOT NULL);
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, action TEXT NOT NULL, side TEXT,
        qty TEXT NOT NULL, position_before TEXT NOT NULL, target_qty TEXT, mid REAL, reason TEXT NOT NULL);
    CREATE TABLE drift_episodes (
        id INTEGER PRIMARY KEY, detected_ms INTEGER NOT NULL, resolved_ms INTEGER, evidence_ms INTEGER,
        kind TEXT NOT NULL, cause TEXT NOT NULL, record_qty TEXT, venue_qty TEXT, correction TEXT NOT NULL);
    CREATE TABLE corrections (
        id INTEGER PRIMARY KEY, episode_id INTEGER, ts INTEGER NOT NULL, what TEXT NOT NULL,
        before TEXT, after TEXT, reason TEXT NOT NULL);
    """,
    # 2: look an order's history up by client id without scanning every transition
    """
    CREATE INDEX order_transitions_by_client ON order_transitions(client_id, ts);
    CREATE INDEX fills_by_ts ON fills(ts);
    """,
)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date; returns the version now in force."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise RuntimeError(f"record schema version {version} is newer than this code ({len(MIGRATIONS)})")
    for n in range(version, len(MIGRATIONS)):
        conn.execute("BEGIN")
        for stmt in filter(str.strip, MIGRATIONS[n].split(";")):
            conn.execute(stmt)
        conn.execute(f"PRAGMA user_version = {n + 1}")
        conn.execute("COMMIT")
    return len(MIGRATIONS)
