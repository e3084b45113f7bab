"""The platform record in SQLite: current state plus append-only history.

The bot keeps its working view in memory (`RecordState`) and writes every change through this
store. Related writes go in one transaction (`batch`), committed before any request that acts on
the venue and before the bot sleeps, so a crash between two statements leaves the file
consistent, and the intent of an order is durable before the order is sent.
`PlatformRecord.open` rebuilds the working view from the file alone: that is how a restarted bot
remembers.
"""
from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from sim.bot.orders import check_transition
from sim.bot.record.schema import migrate
from sim.bot.state import OrderState, PendingTarget, PositionState, RecordState
from sim.core.messages import FillReport
from sim.core.types import ClientOrderId, OrderRole, OrderStatus, OrderType, Side


def _d(x: Decimal | None) -> str | None:
    return None if x is None else str(x)


class _Batch:
    """`PlatformRecord.batch` as a plain context manager: entered several times a cycle, so it
    avoids a generator-based one's cost; reentrant through the record's depth counter."""

    __slots__ = ("record",)

    def __init__(self, record: PlatformRecord) -> None:
        self.record = record

    def __enter__(self) -> None:
        self.record._depth += 1

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.record._end_batch(exc_type is not None)


class PlatformRecord:
    """The bot's memory: read the working view from ``state``, change it only through methods."""

    def __init__(self, conn: sqlite3.Connection, symbol: str, bot_id: str) -> None:
        self.conn = conn
        self.symbol = symbol
        self.bot_id = bot_id
        self.state = RecordState()
        self._depth = 0
        self._batch = _Batch(self)
        self.deferred = False
        self.version = 0  # counts writes: "has anything changed since?" without comparing state

    @classmethod
    def open(cls, path: str | Path, symbol: str, bot_id: str, power_safe: bool = True) -> PlatformRecord:
        """Open (or create) the record at ``path`` and rebuild the working view from it.

        ``power_safe`` (the default, and what a live bot wants) has SQLite sync the write-ahead log
        to disk at checkpoints, so a committed transaction survives the machine losing power. A
        simulation models the bot's *process* crashing (uncommitted work is rolled back), never the
        host's power: it passes False and skips the syncs, which are a tenth of a long run's cost.
        Commit points, and so what a crash loses, are the same either way.
        """
        conn = sqlite3.connect(str(path), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL" if power_safe else "PRAGMA synchronous=OFF")
        migrate(conn)
        rec = cls(conn, symbol, bot_id)
        rec._load()
        return rec

    def close(self, commit: bool = True) -> None:
        """Close the file, committing what is pending (``commit=False``: a crash, which loses it). Idempotent."""
        try:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT" if commit else "ROLLBACK")
        except sqlite3.ProgrammingError:
            return  # already closed
        self.conn.close()

    # ---------------------------------------------------------------------- transactions
    def batch(self) -> _Batch:
        """A group of writes that lands whole or not at all (nested batches join the outer one).

        With ``deferred`` commits (the bot's mode) the transaction stays open until `flush`, which
        the bot calls before every request that acts on the venue (submit, cancel, amend) and
        before sleeping: an order's intent is durable before the order leaves, and a crash
        between two reads loses only what the next reconcile learns again from the venue. The
        transaction is begun by the first write, so a cycle in which nothing changed writes
        nothing (no empty BEGIN/COMMIT per cycle).
        """
        return self._batch

    def _end_batch(self, failed: bool) -> None:
        self._depth -= 1
        if self._depth or not self.conn.in_transaction:
            return
        if failed:
            self.conn.execute("ROLLBACK")
            self._load()  # the working view follows the file
        elif not self.deferred:
            self.conn.execute("COMMIT")

    def flush(self) -> None:
        """Commit what is pending (a no-op when nothing is)."""
        if self._depth == 0 and self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def _x(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        self.version += 1
        with self.batch():
            if not self.conn.in_transaction:
                self.conn.execute("BEGIN")  # begun by the first write: a batch that writes nothing costs nothing
            return self.conn.execute(sql, args)

    # ---------------------------------------------------------------------------- loading
    def _load(self) -> None:
        st = RecordState()
        meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        st.next_intent = int(meta.get("next_intent", 1))
        st.fills_since_ms = int(meta.get("fills_since_ms", 0))
        st.target_qty = Decimal(meta["target_qty"]) if meta.get("target_qty") not in (None, "") else None
        if meta.get("pending_qty"):
            st.pending = PendingTarget(Decimal(meta["pending_qty"]), int(meta["pending_deadline_ms"]),
                                       meta.get("pending_reason", ""))
        row = self.conn.execute("SELECT qty, entry, updated_ms FROM position WHERE symbol=?", (self.symbol,)).fetchone()
        if row:
            st.position = PositionState(Decimal(row[0]), Decimal(row[1]), row[2])
        for r in self.conn.execute(
                "SELECT client_id, intent, role, side, type, qty, reduce_only, trigger_price, status, created_ms,"
                " updated_ms, decision_id, decision_price, filled_qty, avg_price, booked_qty, reject_reason"
                " FROM orders WHERE status NOT IN ('filled', 'cancelled', 'rejected', 'expired')"
                " OR CAST(booked_qty AS REAL) < CAST(filled_qty AS REAL)"):
            st.orders[r[0]] = OrderState(
                ClientOrderId(r[0]), r[1], OrderRole(r[2]), Side(r[3]), OrderType(r[4]), Decimal(r[5]), bool(r[6]),
                None if r[7] is None else Decimal(r[7]), OrderStatus(r[8]), r[9], r[10], r[11], r[12],
                Decimal(r[13]), None if r[14] is None else Decimal(r[14]), Decimal(r[15]), r[16])
        st.open_episodes = [r[0] for r in self.conn.execute(
            "SELECT id FROM drift_episodes WHERE resolved_ms IS NULL ORDER BY id")]
        st.seen_trades = {r[0] for r in self.conn.execute("SELECT trade_id FROM fills WHERE ts >= ?",
                                                           (st.fills_since_ms,))}
        self.state = st

    # ------------------------------------------------------------------------------ writes
    def _meta(self, key: str, value: object) -> None:
        self._x("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, "" if value is None else str(value)))

    def allocate_intent(self) -> int:
        n = self.state.next_intent
        self.state.next_intent = n + 1
        self._meta("next_intent", n + 1)
        return n

    def set_target(self, qty: Decimal | None) -> None:
        if qty != self.state.target_qty:
            self.state.target_qty = qty
            self._meta("target_qty", qty)

    def set_pending(self, pending: PendingTarget | None) -> None:
        """Remember (or forget) a target the bot's own execution fell short of."""
        if pending == self.state.pending:
            return
        self.state.pending = pending
        with self.batch():
            self._meta("pending_qty", "" if pending is None else pending.qty)
            self._meta("pending_deadline_ms", 0 if pending is None else pending.deadline_ms)
            self._meta("pending_reason", "" if pending is None else pending.reason)

    def set_fills_since(self, ts: int) -> None:
        if ts > self.state.fills_since_ms:
            self.state.fills_since_ms = ts
            self._meta("fills_since_ms", ts)

    def set_position(self, qty: Decimal, entry: Decimal, ts: int, reason: str) -> None:
        pos = self.state.position
        pos.qty, pos.entry, pos.updated_ms = qty, entry, ts
        self._write_position(ts, reason)

    def apply_fill_to_position(self, signed_qty: Decimal, price: Decimal, ts: int, reason: str) -> None:
        self.state.position.apply_fill(signed_qty, price)
        self.state.position.updated_ms = ts
        self._write_position(ts, reason)

    def _write_position(self, ts: int, reason: str) -> None:
        p = self.state.position
        with self.batch():
            self._x("INSERT INTO position(symbol, qty, entry, updated_ms) VALUES(?,?,?,?) ON CONFLICT(symbol)"
                    " DO UPDATE SET qty=excluded.qty, entry=excluded.entry, updated_ms=excluded.updated_ms",
                    (self.symbol, str(p.qty), str(p.entry), ts))
            self._x("INSERT INTO position_history(symbol, ts, qty, entry, reason) VALUES(?,?,?,?,?)",
                    (self.symbol, ts, str(p.qty), str(p.entry), reason))

    def add_order(self, order: OrderState, reason: str) -> None:
        self.state.orders[order.client_id] = order
        with self.batch():
            self._x("INSERT INTO orders VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
                order.client_id, order.intent, order.role.value, order.side.value, order.type.value,
                str(order.qty), int(order.reduce_only), _d(order.trigger_price), order.status.value,
                str(order.filled_qty), _d(order.avg_price), str(order.booked_qty), order.decision_id,
                order.decision_price, order.reject_reason, order.created_ms, order.updated_ms))
            self._x("INSERT INTO order_transitions(client_id, ts, from_status, to_status, filled_qty, reason)"
                    " VALUES(?,?,?,?,?,?)", (order.client_id, order.created_ms, None, order.status.value,
                                            str(order.filled_qty), reason))

    def adopt_order(self, order: OrderState, reason: str) -> None:
        """Take a live order of ours the venue reports into the record.

        The record may hold the id already (it concluded the order never arrived, or forgot it once
        settled): then the row is updated to the venue's word, and the change kept as a transition
        from what the record believed. The lifecycle is not checked here: the venue's report
        overrules the record's inference.
        """
        row = self.conn.execute("SELECT status FROM orders WHERE client_id=?", (order.client_id,)).fetchone()
        if row is None:
            self.add_order(order, reason)
            return
        self.state.orders[order.client_id] = order
        with self.batch():
            self._x("UPDATE orders SET status=?, filled_qty=?, avg_price=?, reject_reason=NULL, trigger_price=?,"
                    " updated_ms=? WHERE client_id=?", (order.status.value, str(order.filled_qty),
                                                       _d(order.avg_price), _d(order.trigger_price),
                                                       order.updated_ms, order.client_id))
            order.booked_qty = Decimal(self.conn.execute("SELECT booked_qty FROM orders WHERE client_id=?",
                                                         (order.client_id,)).fetchone()[0])
            self._x("INSERT INTO order_transitions(client_id, ts, from_status, to_status, filled_qty, reason)"
                    " VALUES(?,?,?,?,?,?)", (order.client_id, order.updated_ms, row[0], order.status.value,
                                            str(order.filled_qty), f"{reason} (the record had it {row[0]})"))

    def update_order(self, order: OrderState, status: OrderStatus, ts: int, reason: str,
                     filled_qty: Decimal | None = None, avg_price: Decimal | None = None,
                     reject_reason: str | None = None) -> None:
        """Move an order through its lifecycle; every transition is kept in the history."""
        before = order.status
        check_transition(order.client_id, before, status)
        order.status = status
        order.updated_ms = ts
        if filled_qty is not None:
            order.filled_qty = filled_qty
        if avg_price is not None:
            order.avg_price = avg_price
        if reject_reason is not None:
            order.reject_reason = reject_reason
        with self.batch():
            self._x("UPDATE orders SET status=?, filled_qty=?, avg_price=?, booked_qty=?, reject_reason=?,"
                    " updated_ms=? WHERE client_id=?", (status.value, str(order.filled_qty), _d(order.avg_price),
                                                        str(order.booked_qty), order.reject_reason, ts,
                                                        order.client_id))
            if before is not status:
                self._x("INSERT INTO order_transitions(client_id, ts, from_status, to_status, filled_qty, reason)"
                        " VALUES(?,?,?,?,?,?)", (order.client_id, ts, before.value, status.value,
                                                str(order.filled_qty), reason))
        self._forget_if_settled(order)

    def _forget_if_settled(self, order: OrderState) -> None:
        """Drop a final order from the working view once every fill of it is booked by trade id."""
        if order.status.is_final and order.booked_qty >= order.filled_qty:
            self.state.orders.pop(order.client_id, None)

    def add_fill(self, fill: FillReport, attributed_to: str) -> None:
        self.state.seen_trades.add(fill.trade_id)
        order = self.state.orders.get(fill.client_id) if fill.client_id else None
        if order is not None:
            order.booked_qty += fill.qty
        self._x("INSERT OR IGNORE INTO fills VALUES(?,?,?,?,?,?,?,?,?)", (
            fill.trade_id, fill.client_id, fill.side.value, str(fill.qty), str(fill.price), fill.fee,
            fill.kind.value, fill.ts, attributed_to))
        if order is not None:
            self._x("UPDATE orders SET booked_qty=? WHERE client_id=?", (str(order.booked_qty), order.client_id))
            self._forget_if_settled(order)

    def add_decision(self, ts: int, action: str, side: str | None, qty: Decimal, position_before: Decimal,
                     target_qty: Decimal | None, mid: float | None, reason: str) -> int:
        cur = self._x("INSERT INTO decisions(ts, action, side, qty, position_before, target_qty, mid, reason)"
                      " VALUES(?,?,?,?,?,?,?,?)", (ts, action, side, str(qty), str(position_before),
                                                    _d(target_qty), mid, reason))
        return int(cur.lastrowid or 0)

    def add_drift_episode(self, detected_ms: int, resolved_ms: int | None, evidence_ms: int | None, kind: str,
                          cause: str, record_qty: Decimal | None, venue_qty: Decimal | None,
                          correction: str) -> int:
        cur = self._x("INSERT INTO drift_episodes(detected_ms, resolved_ms, evidence_ms, kind, cause, record_qty,"
                      " venue_qty, correction) VALUES(?,?,?,?,?,?,?,?)",
                      (detected_ms, resolved_ms, evidence_ms, kind, cause, _d(record_qty), _d(venue_qty),
                       correction))
        episode = int(cur.lastrowid or 0)
        if resolved_ms is None:
            self.state.open_episodes.append(episode)
        return episode

    def resolve_drift_episodes(self, ts: int, reason: str) -> list[int]:
        """Close every episode detected while the state was uncertain: the record matches the venue again.

        The episode's ``resolved_ms`` is current state (set once, here); the history keeps a
        correction row per episode saying when and why it was closed.
        """
        closed, self.state.open_episodes = self.state.open_episodes, []
        if not closed:
            return closed
        with self.batch():
            for episode in closed:
                self._x("UPDATE drift_episodes SET resolved_ms=? WHERE id=? AND resolved_ms IS NULL", (ts, episode))
                self.add_correction(episode, ts, "episode", "unresolved", "resolved", reason)
        return closed

    def add_correction(self, episode_id: int | None, ts: int, what: str, before: str, after: str,
                       reason: str) -> None:
        self._x("INSERT INTO corrections(episode_id, ts, what, before, after, reason) VALUES(?,?,?,?,?,?)",
                (episode_id, ts, what, before, after, reason))

    def set_trigger_price(self, order: OrderState, price: Decimal | None, ts: int, reason: str,
                          episode_id: int | None = None) -> None:
        """The venue reports a different trigger price for a live order (someone moved it): adopt it."""
        before, order.trigger_price = order.trigger_price, price
        order.updated_ms = ts
        with self.batch():
            self._x("UPDATE orders SET trigger_price=?, updated_ms=? WHERE client_id=?",
                    (_d(price), ts, order.client_id))
            self.add_correction(episode_id, ts, f"trigger_price of {order.client_id}", str(before), str(price),
                                reason)

    def set_equity(self, equity: float) -> None:
        self.state.equity = equity  # working view only: the venue's account is the truth for money

    # ------------------------------------------------------------ view for the world (read-only)
    def position_qty(self) -> Decimal:
        return self.state.position.qty

    def target_qty(self) -> Decimal | None:
        return self.state.target_qty

    def equity(self) -> float | None:
        return self.state.equity

    def order_belief(self) -> tuple[dict[str, Decimal | None], frozenset[str]]:
        """The orders the record believes live at the venue (client id -> trigger price), and those in
        flight (sent, or of unknown status), which it neither believes live nor gone."""
        live: dict[str, Decimal | None] = {}
        flight = []
        for cid, o in self.state.orders.items():
            if o.status.is_open:
                live[cid] = o.trigger_price
            elif not o.status.is_final:
                flight.append(cid)
        return live, frozenset(flight)
