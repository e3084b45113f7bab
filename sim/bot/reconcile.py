"""Reconcile: platform record vs venue snapshot -> corrections and drift findings. Pure.

The venue is the truth source for exposure, entry and order status. This function only
*compares*; `cycle` fetches the snapshot and applies the result in one transaction. Keeping it
pure lets a unit test state every drift kind with a few literal reports.

Attribution: a fill the record did not expect is attributed by its evidence: our take-profit or
stop-loss client id, the venue's liquidation flag, or no client id of ours (someone else traded
on the account). Orders of other systems on the account are not ours to manage and are ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache

from sim.bot.state import RecordState
from sim.core.ids import parse_client_id
from sim.core.messages import FillReport, OpenOrdersReport, OrderReport, PositionsReport
from sim.core.types import ClientOrderId, DriftCause, FillKind, OrderRole, OrderStatus

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class DriftFinding:
    """One difference between the record and the venue."""

    # position_gone | side_wrong | size_gap | position_appeared | entry_gap | order_vanished |
    # order_unknown_to_record | protective_missing | protective_moved | protective_orphaned | protective_wrong_size
    kind: str
    cause: DriftCause
    detail: str
    evidence_ms: int | None = None


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    client_id: ClientOrderId
    status: OrderStatus
    filled_qty: Decimal
    avg_price: Decimal | None
    reason: str


@dataclass(slots=True)
class ReconcileResult:
    ts: int
    new_fills: list[tuple[FillReport, DriftCause | None]] = field(default_factory=list)
    order_updates: list[OrderUpdate] = field(default_factory=list)
    adopted: list[OrderReport] = field(default_factory=list)
    position: tuple[Decimal, Decimal] | None = None  # corrected (qty, entry), None: record is right
    findings: list[DriftFinding] = field(default_factory=list)
    uncertain: list[ClientOrderId] = field(default_factory=list)
    trigger_moves: list[tuple[ClientOrderId, Decimal | None]] = field(default_factory=list)  # adopt the venue's
    after_restart: bool = False

    @property
    def drifted(self) -> bool:
        return bool(self.findings)

    def as_restart(self) -> ReconcileResult:
        """The same result, its findings attributed to the restart that exposed them."""
        self.findings = [replace(f, cause=DriftCause.RESTART, detail=f"{f.detail} (found after restart)")
                         for f in self.findings]
        self.after_restart = True
        return self


@lru_cache(maxsize=16)
def _bps(x: float) -> Decimal:
    """A tolerance in bps as a Decimal, as written (cached: it is the same every cycle)."""
    return Decimal(str(x))


def changed_ms(report: OrderReport) -> int:
    """When an order last changed at the venue (its transaction time), the evidence of when a
    divergence about it began; the report's send time only when the venue gives no other."""
    return report.updated_ms or report.ts


_ROLE_CAUSE = {OrderRole.TAKE_PROFIT: DriftCause.TAKE_PROFIT_FILL, OrderRole.STOP_LOSS: DriftCause.STOP_LOSS_FILL}


def attribute_fill(fill: FillReport, bot_id: str, expected: bool) -> DriftCause | None:
    """Why a fill happened; None when the record already expected it (our order's own response)."""
    if fill.kind is FillKind.LIQUIDATION:
        return DriftCause.LIQUIDATION
    parsed = parse_client_id(fill.client_id)
    if parsed is None or parsed.bot_id != bot_id:
        return DriftCause.EXTERNAL_CHANGE
    if expected:
        return None
    return _ROLE_CAUSE.get(parsed.role, DriftCause.MISSED_FILL)


def reconcile(state: RecordState, positions: PositionsReport, open_orders: OpenOrdersReport,
              fills: tuple[FillReport, ...], lookups: dict[ClientOrderId, OrderReport | None], symbol: str,
              bot_id: str, entry_tolerance_bps: float = 1.0) -> ReconcileResult:
    """Compare the record with a venue snapshot.

    lookups: for every record order that is not final and not in ``open_orders``, the venue's
    report of it by client id, or None when the venue does not know it. A record order missing
    from both stays *uncertain*: the engine must not open or flip until it is resolved.
    """
    ts = max(positions.ts, open_orders.ts)
    res = ReconcileResult(ts)

    # 1. fills the record has not seen, attributed
    booked_extra: dict[str, Decimal] = {}
    unexplained: list[tuple[FillReport, DriftCause]] = []
    for f in fills:
        if f.trade_id in state.seen_trades:
            continue
        order = state.orders.get(f.client_id) if f.client_id else None
        expected = False
        if order is not None:
            already = order.booked_qty + booked_extra.get(f.client_id, ZERO)
            expected = already + f.qty <= order.filled_qty
            booked_extra[f.client_id] = booked_extra.get(f.client_id, ZERO) + f.qty
        cause = attribute_fill(f, bot_id, expected)
        res.new_fills.append((f, cause))
        if cause is not None:
            unexplained.append((f, cause))

    # 2. orders the record believes are live
    venue_open = {o.client_id: o for o in open_orders.orders}
    for cid, order in state.orders.items():
        if order.status.is_final:
            continue
        report = venue_open.get(cid)
        if report is None and cid in lookups:
            report = lookups[cid]
            if report is None:
                if order.status in (OrderStatus.NEW, OrderStatus.SENT, OrderStatus.UNKNOWN):
                    res.order_updates.append(OrderUpdate(cid, OrderStatus.REJECTED, order.filled_qty,
                                                         order.avg_price, "never reached the venue"))
                else:
                    res.order_updates.append(OrderUpdate(cid, OrderStatus.CANCELLED, order.filled_qty,
                                                         order.avg_price, "venue no longer knows it"))
                    protective = order.role in _ROLE_CAUSE
                    res.findings.append(DriftFinding("protective_missing" if protective else "order_vanished",
                                                     DriftCause.PROTECTIVE_MISMATCH if protective
                                                     else DriftCause.ORDER_VANISHED,
                                                     f"{cid} unknown to the venue"))
                continue
        elif report is None:
            res.uncertain.append(cid)
            continue
        if report.status is not order.status or report.filled_qty != order.filled_qty:
            res.order_updates.append(OrderUpdate(cid, report.status, report.filled_qty, report.avg_price,
                                                 f"venue reports {report.status.value}"))
            if report.status is OrderStatus.CANCELLED and order.status.is_open:
                protective = order.role in _ROLE_CAUSE
                res.findings.append(DriftFinding("protective_missing" if protective else "order_vanished",
                                                 DriftCause.PROTECTIVE_MISMATCH if protective
                                                 else DriftCause.EXTERNAL_CHANGE,
                                                 f"{cid} cancelled at the venue", changed_ms(report)))
        if report.status.is_open and report.trigger_price != order.trigger_price:  # also beside a status change
            res.trigger_moves.append((cid, report.trigger_price))
            protective = order.role in _ROLE_CAUSE
            res.findings.append(DriftFinding("protective_moved" if protective else "order_moved",
                                             DriftCause.PROTECTIVE_MISMATCH if protective
                                             else DriftCause.EXTERNAL_CHANGE,
                                             f"{cid} trigger {order.trigger_price} -> {report.trigger_price}",
                                             changed_ms(report)))

    # 3. live orders of ours the record does not know (a lost response, or a restart)
    for cid, report in venue_open.items():
        parsed = parse_client_id(cid)
        if cid not in state.orders and parsed is not None and parsed.bot_id == bot_id:
            res.adopted.append(report)
            res.findings.append(DriftFinding("order_unknown_to_record", DriftCause.UNKNOWN_ORDER,
                                             f"adopted live order {cid}", changed_ms(report)))

    # 4. protective orders of ours that no longer fit the live position (orphaned, wrong size)
    live = positions.get(symbol)
    v_qty = live.qty if live else ZERO
    for cid, report in venue_open.items():
        parsed = parse_client_id(cid)
        if parsed is None or parsed.bot_id != bot_id or parsed.role not in _ROLE_CAUSE:
            continue
        if v_qty == 0:
            res.findings.append(DriftFinding("protective_orphaned", DriftCause.PROTECTIVE_MISMATCH,
                                             f"{cid} live with no position", changed_ms(report)))
        elif report.qty - report.filled_qty != abs(v_qty) or (report.side.sign > 0) == (v_qty > 0):
            res.findings.append(DriftFinding("protective_wrong_size", DriftCause.PROTECTIVE_MISMATCH,
                                             f"{cid} for {report.qty} vs position {v_qty}", changed_ms(report)))

    # 5. the position
    v_qty = live.qty if live else ZERO
    v_entry = live.entry_price if live else ZERO
    r = state.position
    if v_qty != r.qty:
        cause = unexplained[0][1] if unexplained else DriftCause.UNEXPLAINED
        evidence = unexplained[0][0].ts if unexplained else None
        if v_qty == 0:
            kind = "position_gone"
        elif r.qty == 0:
            kind = "position_appeared"
        elif (v_qty > 0) != (r.qty > 0):
            kind = "side_wrong"
        else:
            kind = "size_gap"
        if cause in (DriftCause.MISSED_FILL,) and kind == "size_gap":
            cause = DriftCause.PARTIAL_FILL if any(o.status is OrderStatus.PARTIALLY_FILLED
                                                   for o in state.orders.values()) else cause
        res.findings.insert(0, DriftFinding(kind, cause, f"record {r.qty} vs venue {v_qty}", evidence))
        res.position = (v_qty, v_entry)
    else:
        transient = _transient_gap(r.qty, unexplained)
        if transient is not None:
            res.findings.insert(0, transient)
        if v_qty != 0 and v_entry > 0:
            gap_bps = abs(r.entry - v_entry) / v_entry * 10_000
            if gap_bps > _bps(entry_tolerance_bps):
                cause, evidence = (unexplained[0][1], unexplained[0][0].ts) if unexplained \
                    else (DriftCause.UNEXPLAINED, None)
                res.findings.append(DriftFinding("entry_gap", cause,
                                                 f"entry {r.entry} vs venue {v_entry} ({gap_bps:.2f} bps)", evidence))
                res.position = (v_qty, v_entry)
            elif r.entry != v_entry:
                res.position = (v_qty, v_entry)  # refresh within tolerance: not drift
    return res


def _transient_gap(record_qty: Decimal, unexplained: list[tuple[FillReport, DriftCause]]) -> DriftFinding | None:
    """A size gap that opened and closed between two reconciles: fills the record did not expect moved
    the position away and back (an operator reduced, then added). The sizes match now, but the venue
    held another position meanwhile: say so, from when, and for what reason."""
    qty = record_qty
    opened: tuple[int, DriftCause, Decimal] | None = None
    for f, why in sorted(unexplained, key=lambda u: u[0].ts):
        qty += f.qty * f.side.sign
        if opened is None and qty != record_qty:
            opened = (f.ts, why, qty)
        elif opened is not None and qty == record_qty:
            began, cause, away = opened
            return DriftFinding("size_gap", cause, f"record {record_qty} vs venue {away} from t={began} to"
                                                   f" t={f.ts} (closed by later fills)", began)
    return None
