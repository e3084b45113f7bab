"""Reconcile compares the record with a venue snapshot and classifies every difference."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from sim.bot.reconcile import reconcile
from sim.bot.state import OrderState, PositionState, RecordState
from sim.core.ids import make_client_id
from sim.core.messages import FillReport, OpenOrdersReport, OrderReport, PositionReport, PositionsReport
from sim.core.types import (
    ClientOrderId,
    DriftCause,
    FillKind,
    OrderRole,
    OrderStatus,
    OrderType,
    Side,
    TradeId,
    VenueOrderId,
)

D = Decimal
SYM = "BTCUSDT"
TP = make_client_id("ae", 2, OrderRole.TAKE_PROFIT)
SL = make_client_id("ae", 3, OrderRole.STOP_LOSS)
ENTRY = make_client_id("ae", 1, OrderRole.ENTRY)


def order(cid, role, otype=OrderType.TAKE_PROFIT_MARKET, status=OrderStatus.ACKNOWLEDGED, qty="0.1", filled="0"):
    return OrderState(ClientOrderId(cid), 1, role, Side.SELL, otype, D(qty), True, D("110"), status, 0, 0,
                      filled_qty=D(filled))


def report(o: OrderState, status=None, filled=None) -> OrderReport:
    return OrderReport(SYM, o.client_id, VenueOrderId("V1"), o.side, o.type, o.qty, None, o.trigger_price,
                       o.reduce_only, status or o.status, D(filled) if filled is not None else o.filled_qty, None, 50)


def fill(cid, qty="0.1", side=Side.SELL, kind=FillKind.TRADE, tid="T9", ts=40) -> FillReport:
    return FillReport(TradeId(tid), SYM, None, cid, side, D(qty), D("110"), 0.0, kind, ts)


def positions(qty="0", entry="100") -> PositionsReport:
    return PositionsReport(50, () if D(qty) == 0 else (PositionReport(SYM, D(qty), D(entry), 50),))


def long_state_with_protection() -> RecordState:
    st = RecordState(position=PositionState(D("0.1"), D("100")))
    st.orders[TP] = order(TP, OrderRole.TAKE_PROFIT)
    st.orders[SL] = order(SL, OrderRole.STOP_LOSS, OrderType.STOP_MARKET)
    return st


def run(st, pos, open_orders=(), fills=(), lookups=None):
    return reconcile(st, pos, OpenOrdersReport(50, tuple(open_orders)), tuple(fills), lookups or {}, SYM, "ae")


def test_matching_record_and_venue_is_not_drift():
    st = long_state_with_protection()
    res = run(st, positions("0.1"), [report(st.orders[TP]), report(st.orders[SL])])
    assert not res.drifted and res.position is None and not res.uncertain


def test_position_closed_by_our_take_profit_is_attributed_to_the_tp_fill():
    st = long_state_with_protection()
    tp = st.orders[TP]
    res = run(st, positions("0"), [report(st.orders[SL])], [fill(TP)], {TP: report(tp, OrderStatus.FILLED, "0.1")})
    assert res.findings[0].kind == "position_gone"
    assert res.findings[0].cause is DriftCause.TAKE_PROFIT_FILL
    assert res.findings[0].evidence_ms == 40
    assert res.position == (D(0), D(0))
    assert any(u.client_id == TP and u.status is OrderStatus.FILLED for u in res.order_updates)


def test_position_closed_by_stop_loss_is_attributed_to_the_sl_fill():
    st = long_state_with_protection()
    res = run(st, positions("0"), [report(st.orders[TP])], [fill(SL)],
              {SL: report(st.orders[SL], OrderStatus.FILLED, "0.1")})
    assert res.findings[0].cause is DriftCause.STOP_LOSS_FILL


def test_liquidation_fill_is_attributed_to_liquidation():
    st = long_state_with_protection()
    res = run(st, positions("0"), [], [fill(None, kind=FillKind.LIQUIDATION)],
              {TP: report(st.orders[TP], OrderStatus.CANCELLED), SL: report(st.orders[SL], OrderStatus.CANCELLED)})
    assert res.findings[0].cause is DriftCause.LIQUIDATION


def test_fill_without_our_client_id_is_an_external_change():
    st = long_state_with_protection()
    res = run(st, positions("0.05"), [report(st.orders[TP]), report(st.orders[SL])], [fill("ext-1", "0.05")])
    assert res.findings[0].kind == "size_gap"
    assert res.findings[0].cause is DriftCause.EXTERNAL_CHANGE
    assert res.position == (D("0.05"), D("100"))


def test_side_wrong_is_classified():
    st = RecordState(position=PositionState(D("0.1"), D("100")))
    res = run(st, positions("-0.1"), [], [fill("ext-1", "0.2")])
    assert res.findings[0].kind == "side_wrong"


def test_position_appearing_without_evidence_is_unexplained():
    st = RecordState()
    res = run(st, positions("0.2"))
    assert res.findings[0].kind == "position_appeared"
    assert res.findings[0].cause is DriftCause.UNEXPLAINED


def test_own_order_fill_already_known_from_its_response_is_not_drift():
    st = RecordState(position=PositionState(D("0.1"), D("100")))
    st.orders[ENTRY] = order(ENTRY, OrderRole.ENTRY, OrderType.MARKET, OrderStatus.FILLED, filled="0.1")
    res = run(st, positions("0.1"), [], [fill(ENTRY, side=Side.BUY)])
    assert not res.drifted
    assert res.new_fills[0][1] is None  # expected: booked without a drift cause


def test_protective_order_cancelled_at_the_venue_is_found_missing():
    st = long_state_with_protection()
    res = run(st, positions("0.1"), [report(st.orders[TP])], [],
              {SL: report(st.orders[SL], OrderStatus.CANCELLED)})
    kinds = [(f.kind, f.cause) for f in res.findings]
    assert ("protective_missing", DriftCause.PROTECTIVE_MISMATCH) in kinds


def test_protective_order_moved_at_the_venue_is_found_moved_and_its_trigger_adopted():
    st = long_state_with_protection()
    from dataclasses import replace
    moved = replace(report(st.orders[SL]), trigger_price=D("90.0"))
    res = run(st, positions("0.1"), [report(st.orders[TP]), moved], [])
    assert [(f.kind, f.cause) for f in res.findings] == [("protective_moved", DriftCause.PROTECTIVE_MISMATCH)]
    assert res.trigger_moves == [(SL, D("90.0"))]
    assert res.position is None  # the position itself is right


def test_a_moved_trigger_is_adopted_even_when_the_same_report_changes_the_orders_status():
    """Issue 15, lossy seed 114: the SL's submit went unanswered (status unknown), an operator moved
    its trigger, and the next listing showed both: the status and the new trigger must be taken."""
    st = long_state_with_protection()
    st.orders[SL] = replace(st.orders[SL], status=OrderStatus.UNKNOWN)
    moved = replace(report(st.orders[SL], status=OrderStatus.ACKNOWLEDGED), trigger_price=D("90.0"))
    res = run(st, positions("0.1"), [report(st.orders[TP]), moved], [])
    assert [u.status for u in res.order_updates] == [OrderStatus.ACKNOWLEDGED]
    assert res.trigger_moves == [(SL, D("90.0"))]
    assert ("protective_moved", DriftCause.PROTECTIVE_MISMATCH) in [(f.kind, f.cause) for f in res.findings]


def test_order_the_venue_never_saw_is_marked_rejected_not_drift():
    st = RecordState()
    st.orders[ENTRY] = order(ENTRY, OrderRole.ENTRY, OrderType.MARKET, OrderStatus.SENT)
    res = run(st, positions("0"), [], [], {ENTRY: None})
    assert res.order_updates[0].status is OrderStatus.REJECTED
    assert not res.drifted


def test_order_of_unknown_status_with_no_answer_keeps_the_state_uncertain():
    st = RecordState()
    st.orders[ENTRY] = order(ENTRY, OrderRole.ENTRY, OrderType.MARKET, OrderStatus.UNKNOWN)
    res = run(st, positions("0"), [], [], {})
    assert res.uncertain == [ENTRY]


def test_live_order_of_ours_unknown_to_the_record_is_adopted():
    st = RecordState(position=PositionState(D("0.1"), D("100")))
    live = report(order(TP, OrderRole.TAKE_PROFIT))
    res = run(st, positions("0.1"), [live])
    assert res.adopted == [live]
    assert res.findings[0].cause is DriftCause.UNKNOWN_ORDER


def test_orders_of_other_systems_are_not_adopted():
    st = RecordState()
    foreign = report(order(ClientOrderId("someone-else"), OrderRole.TAKE_PROFIT))
    res = run(st, positions("0"), [foreign])
    assert res.adopted == [] and not res.drifted


def test_entry_gap_beyond_tolerance_is_drift_and_within_it_a_silent_refresh():
    st = RecordState(position=PositionState(D("0.1"), D("100")))
    far = run(st, positions("0.1", "100.5"))
    assert far.findings[0].kind == "entry_gap" and far.position == (D("0.1"), D("100.5"))
    near = run(st, positions("0.1", "100.001"))
    assert not near.drifted and near.position == (D("0.1"), D("100.001"))


def test_a_size_gap_closed_by_later_fills_is_reported_with_its_cause_and_when_it_began():
    """Issue 15 bug 5: the bot holds 0.2 long; an operator reduces by half at 610 s and adds 0.1 back at
    630 s; the reconcile at 660.24 s sees the same size at a new entry. The episode must say the size
    gap began at 610 s, that an external change caused it, and that the entry moved for the same reason."""
    st = RecordState(position=PositionState(D("0.2"), D("100")))
    fills = [fill("ext-1", "0.1", Side.SELL, tid="T1", ts=610_000),
             fill("ext-2", "0.1", Side.BUY, tid="T2", ts=630_000)]
    res = run(st, positions("0.2", "105"), fills=fills)
    kinds = [(f.kind, f.cause, f.evidence_ms) for f in res.findings]
    assert kinds[0] == ("size_gap", DriftCause.EXTERNAL_CHANGE, 610_000)
    assert ("entry_gap", DriftCause.EXTERNAL_CHANGE, 610_000) in kinds
    assert "630000" in res.findings[0].detail  # when the gap closed
    assert res.position == (D("0.2"), D("105"))


def test_order_findings_carry_when_the_order_changed_at_the_venue_not_when_the_bot_asked():
    """Issue 15 bug 8: evidence_ms was the query time. The venue's report says when the order last
    changed (its transaction time); that is when the divergence began."""
    st = long_state_with_protection()
    cancelled = replace(report(st.orders[SL], status=OrderStatus.CANCELLED), updated_ms=30)
    moved = replace(report(st.orders[TP]), trigger_price=D("120"), updated_ms=20)
    res = run(st, positions("0.1"), [moved], lookups={SL: cancelled})
    evidence = {f.kind: f.evidence_ms for f in res.findings}
    assert evidence == {"protective_missing": 30, "protective_moved": 20}
    gone = run(long_state_with_protection(), positions("0.1"), [report(st.orders[TP])], lookups={SL: None})
    assert [f.evidence_ms for f in gone.findings] == [None]  # unknown to the venue: when it went is not known
