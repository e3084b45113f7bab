"""The venue's observer when served: ground truth as in a run, plus what Binance would push and book.

Every order event, fill and position change of the `SimExchange` passes here: it goes on to the
world's `GroundTruth` (event log, timeline) unchanged, and becomes a user-data stream payload
(published through the scenario's update model: delayed, lost in drop windows and outages) and
an income-history entry.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import sim.serve.wire_events as ev
from sim.core.messages import AlgoOrderReport, FillReport, SubmitOrder
from sim.core.types import FillKind, RejectReason
from sim.serve.binance import Wall
from sim.world.exchange import SimExchange
from sim.world.truth import GroundTruth
from sim.world.venue_orders import VenueOrder


class Tap:
    def __init__(self, truth: GroundTruth, wall: Wall) -> None:
        self.truth = truth
        self.wall = wall
        self.venue: SimExchange | None = None
        self.publish: Callable[[int, dict], None] = lambda ts, payload: None
        self.income: list[dict] = []  # Binance income history entries (time in venue ms)
        self.realized: dict[str, float] = {}  # trade id -> realized PnL
        self._realized_total = 0.0
        self._tran = 0
        self.listeners: list[Callable[[str, int, object], None]] = []  # the audit's hooks

    # ------------------------------------------------------------------ venue observer
    def on_order(self, ts: int, order: VenueOrder, what: str, detail: str = "") -> None:
        self.truth.on_order(ts, order, what, detail)
        x = ev.exec_type(what)
        if x is not None:
            self.publish(ts, ev.order_update(order, ts, self.wall, x, what=what))
        for hook in self.listeners:
            hook("order", ts, (order, what))

    def on_reject(self, ts: int, request: SubmitOrder, reason: RejectReason, detail: str) -> None:
        self.truth.on_reject(ts, request, reason, detail)

    def on_algo(self, ts: int, report: AlgoOrderReport, what: str) -> None:
        """An algo order changed: ALGO_UPDATE (its child order reports through `on_order`)."""
        self.truth.on_algo(ts, report, what)
        self.publish(ts, ev.algo_update(report, ts, self.wall))
        for hook in self.listeners:
            hook("algo", ts, (report, what))

    def on_fill(self, fill: FillReport, order: VenueOrder | None) -> None:
        self.truth.on_fill(fill, order)
        assert self.venue is not None
        book = self.venue.book
        realized = book.realized_pnl - self._realized_total
        self._realized_total = book.realized_pnl
        self.realized[fill.trade_id] = realized
        if order is not None:
            self.publish(fill.ts, ev.order_update(order, fill.ts, self.wall, "TRADE", fill, realized))
        else:
            self.publish(fill.ts, ev.liquidation_update(fill, self.wall, realized))
        if realized:
            self.book_income("REALIZED_PNL", realized, fill.ts, fill.trade_id)
        if fill.fee:
            self.book_income("INSURANCE_CLEAR" if fill.kind is FillKind.LIQUIDATION else "COMMISSION", -fill.fee,
                             fill.ts, fill.trade_id)
        for hook in self.listeners:
            hook("fill", fill.ts, (fill, order))

    def on_position(self, ts: int, qty: Decimal) -> None:
        self.truth.on_position(ts, qty)
        self.publish_account("ORDER", ts, 0.0)
        for hook in self.listeners:
            hook("position", ts, qty)

    # ------------------------------------------------------------------ helpers
    def book_income(self, kind: str, amount: float, ts: int, trade_id: str = "") -> None:
        self._tran += 1
        assert self.venue is not None
        self.income.append({"symbol": self.venue.instrument.symbol if kind != "TRANSFER" else "",
                            "incomeType": kind, "income": amount, "asset": "USDT", "info": kind,
                            "ts": ts, "tranId": self._tran, "tradeId": trade_id.lstrip("T")})

    def publish_account(self, reason: str, ts: int, balance_change: float, with_position: bool = True) -> None:
        v = self.venue
        assert v is not None
        pos = None
        if with_position:
            mark = v.path.mid_at(ts)
            pos = (v.instrument.symbol, v.book.qty, v.book.entry, v.book.entry, v.book.unrealized(mark))
        self.publish(ts, ev.account_update(reason, ts, self.wall, v.book.wallet, balance_change, pos))
