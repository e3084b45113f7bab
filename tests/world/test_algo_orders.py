"""Conditional orders as Binance's algo orders: own ids, statuses, requests, pushed updates, and
the child market order a trigger creates."""
from __future__ import annotations

import pytest

from sim.core.errors import Rejected
from sim.core.messages import (
    AmendOrder,
    CancelAlgoOrder,
    FetchAlgoOrder,
    FetchFills,
    FetchOpenAlgoOrders,
    FetchOpenOrders,
    FetchOrder,
    FetchPositions,
    SubmitOrder,
)
from sim.core.types import AlgoStatus, ClientOrderId, OrderStatus, OrderType, RejectReason, Side, TriggerBy
from tests.world.venue_kit import SYM, D, flat, limit, market, stop, t, venue


def long_venue(mid=None, **rules):
    ex = venue(mid, **rules)
    ex.handle(market("open", Side.BUY, "1"), t(1))
    return ex


def test_an_algo_order_has_its_own_ids_and_is_listed_and_found_only_through_the_algo_requests():
    ex = long_venue()
    rep = ex.handle(stop("sl-1", Side.SELL, "1", "29000"), t(2))
    assert rep.status is AlgoStatus.NEW and rep.algo_id.startswith("A") and rep.actual_order_id is None
    assert [a.client_algo_id for a in ex.handle(FetchOpenAlgoOrders(SYM), t(3)).orders] == ["sl-1"]
    assert ex.handle(FetchAlgoOrder(SYM, ClientOrderId("sl-1")), t(3)).algo_id == rep.algo_id
    assert ex.handle(FetchAlgoOrder(SYM, ClientOrderId(""), algo_id=rep.algo_id), t(3)).client_algo_id == "sl-1"
    assert ex.handle(FetchOpenOrders(SYM), t(3)).orders == ()  # not an ordinary order
    with pytest.raises(Rejected) as info:
        ex.handle(FetchOrder(SYM, ClientOrderId("sl-1")), t(3))
    assert info.value.code == -2013


def test_trigger_creates_a_child_market_order_linked_both_ways_whose_fills_carry_its_ids():
    mid = flat()
    mid[500:] = 28_900.0
    ex = long_venue(mid)
    placed = ex.handle(stop("sl-1", Side.SELL, "1", "29000"), t(2))
    algo = ex.handle(FetchAlgoOrder(SYM, ClientOrderId("sl-1")), t(600))
    assert algo.status is AlgoStatus.FINISHED and algo.trigger_ms == t(500)
    assert algo.actual_client_id == f"algo-{placed.algo_id}" and algo.actual_order_id is not None
    assert algo.actual_qty == D("1") and algo.actual_price is not None
    child = ex.handle(FetchOrder(SYM, ClientOrderId(""), venue_id=algo.actual_order_id), t(600))
    assert child.type is OrderType.MARKET and child.status is OrderStatus.FILLED
    assert child.client_algo_id == "sl-1" and child.client_id == algo.actual_client_id
    fill = ex.handle(FetchFills(SYM, t(2)), t(600)).fills[-1]
    assert (fill.venue_order_id, fill.client_id) == (child.venue_id, child.client_id)
    assert ex.handle(FetchPositions(SYM), t(600)).qty(SYM) == 0
    statuses = [e[4] for e in ex.observer.events if e[0] == "algo"]
    assert statuses == [AlgoStatus.NEW, AlgoStatus.TRIGGERING, AlgoStatus.TRIGGERED, AlgoStatus.FINISHED]
    assert ex.handle(FetchOpenAlgoOrders(SYM), t(600)).orders == ()


def test_trigger_price_is_the_contract_last_price_unless_the_order_says_mark():
    mid = flat()
    last = flat()
    last[400] = 28_900.0  # one trade prints through the stop; the mark never moves
    ex = venue(mid, last=last)
    ex.handle(market("open", Side.BUY, "2"), t(1))
    ex.handle(stop("by-last", Side.SELL, "1", "29000"), t(2))  # no trigger_by said: contract price
    ex.handle(stop("by-mark", Side.SELL, "1", "29000", trigger_by=TriggerBy.MARK), t(2))
    assert ex.handle(FetchAlgoOrder(SYM, ClientOrderId("by-last")), t(500)).status is AlgoStatus.FINISHED
    assert ex.handle(FetchAlgoOrder(SYM, ClientOrderId("by-mark")), t(500)).status is AlgoStatus.NEW


def test_close_position_closes_whatever_the_position_is_at_trigger():
    mid = flat()
    mid[500:] = 31_100.0
    ex = long_venue(mid)
    ex.handle(stop("tp-1", Side.SELL, None, "31000", kind=OrderType.TAKE_PROFIT_MARKET, reduce_only=False,
                   close_position=True), t(2))
    ex.handle(market("more", Side.BUY, "0.5"), t(3))  # the position grew after the order was placed
    algo = ex.handle(FetchAlgoOrder(SYM, ClientOrderId("tp-1")), t(600))
    assert algo.status is AlgoStatus.FINISHED and algo.actual_qty == D("1.5")
    assert ex.handle(FetchPositions(SYM), t(600)).qty(SYM) == 0


def test_close_position_order_expires_when_the_position_is_closed_first():
    ex = long_venue()
    ex.handle(stop("sl-1", Side.SELL, None, "29000", reduce_only=False, close_position=True), t(2))
    ex.handle(market("exit", Side.SELL, "1", reduce_only=True), t(3))
    rep = ex.handle(FetchAlgoOrder(SYM, ClientOrderId("sl-1")), t(4))
    assert rep.status is AlgoStatus.EXPIRED and rep.updated_ms == t(3)
    assert ex.handle(FetchOpenAlgoOrders(SYM), t(4)).orders == ()


def test_a_reduce_only_algo_order_with_nothing_to_reduce_at_trigger_is_rejected_with_its_reason():
    mid = flat()
    mid[500:] = 28_900.0
    ex = long_venue(mid)
    ex.handle(stop("sl-1", Side.SELL, "1", "29000"), t(2))
    ex.handle(market("exit", Side.SELL, "1", reduce_only=True), t(3))  # flat before the stop triggers
    rep = ex.handle(FetchAlgoOrder(SYM, ClientOrderId("sl-1")), t(600))
    assert rep.status is AlgoStatus.REJECTED and rep.reason == "Reduce Only reject"
    assert rep.actual_order_id is None and ex.handle(FetchPositions(SYM), t(600)).qty(SYM) == 0


def test_cancel_algo_order_and_a_second_cancel_is_unknown():
    ex = long_venue()
    ex.handle(stop("sl-1", Side.SELL, "1", "29000"), t(2))
    assert ex.handle(CancelAlgoOrder(SYM, ClientOrderId("sl-1")), t(3)).status is AlgoStatus.CANCELLED
    with pytest.raises(Rejected) as info:
        ex.handle(CancelAlgoOrder(SYM, ClientOrderId("sl-1")), t(4))
    assert (info.value.code, info.value.reason) == (-2011, RejectReason.UNKNOWN_ORDER)


def test_client_algo_id_is_unique_among_open_algo_orders_only():
    ex = long_venue()
    ex.handle(stop("sl-1", Side.SELL, "1", "29000"), t(2))
    with pytest.raises(Rejected) as info:
        ex.handle(stop("sl-1", Side.SELL, "1", "28000"), t(3))
    assert info.value.code == -4116
    ex.handle(CancelAlgoOrder(SYM, ClientOrderId("sl-1")), t(4))
    again = ex.handle(stop("sl-1", Side.SELL, "1", "28000"), t(5))  # closed: the id may be used again
    assert again.status is AlgoStatus.NEW and again.trigger_price == D("28000")


def test_algo_orders_cannot_be_amended_but_limit_orders_can_and_lose_their_queue_place():
    ex = long_venue()
    ex.handle(stop("sl-1", Side.SELL, "1", "29000"), t(2))
    with pytest.raises(Rejected) as info:
        ex.handle(AmendOrder(SYM, ClientOrderId("sl-1"), trigger_price=D("28000")), t(3))
    assert info.value.reason is RejectReason.UNKNOWN_ORDER  # there is no such ordinary order to amend
    ex.handle(limit("l-1", Side.BUY, "1", "29900"), t(3))
    ex.resting[-1].trade_throughs = 3  # it has been trading through levels
    rep = ex.handle(AmendOrder(SYM, ClientOrderId("l-1"), price=D("29950")), t(4))
    assert rep.price == D("29950") and rep.updated_ms == t(4)
    assert ex.registry.find(t(4), "l-1").trade_throughs == 0  # back of the queue


@pytest.mark.parametrize("kind", [OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET])
def test_under_the_algo_route_a_conditional_order_sent_as_an_ordinary_order_is_refused_4120(kind):
    ex = long_venue(conditional_orders="algo")
    req = SubmitOrder(SYM, ClientOrderId("sl-1"), Side.SELL, kind, D("1"), trigger_price=D("29000"), reduce_only=True)
    with pytest.raises(Rejected) as info:
        ex.handle(req, t(2))
    assert (info.value.code, info.value.code_name) == (-4120, "STOP_ORDER_SWITCH_ALGO")


def test_under_the_legacy_route_a_conditional_order_is_still_an_ordinary_resting_order():
    ex = long_venue()  # conditional_orders = "legacy" (the default)
    req = SubmitOrder(SYM, ClientOrderId("sl-1"), Side.SELL, OrderType.STOP_MARKET, D("1"), trigger_price=D("29000"),
                      reduce_only=True)
    assert ex.handle(req, t(2)).status is OrderStatus.ACKNOWLEDGED
    assert [o.client_id for o in ex.handle(FetchOpenOrders(SYM), t(3)).orders] == ["sl-1"]


def test_liquidation_cancels_open_algo_orders():
    mid = flat()
    mid[300:] = 1_000.0  # a crash far below the liquidation price
    ex = venue(mid, balance=10_000.0)
    ex.handle(market("open", Side.BUY, "1"), t(1))
    ex.handle(stop("tp-1", Side.SELL, "1", "40000", kind=OrderType.TAKE_PROFIT_MARKET), t(2))
    assert ex.handle(FetchAlgoOrder(SYM, ClientOrderId("tp-1")), t(400)).status is AlgoStatus.CANCELLED


def test_under_ack_the_child_matches_after_the_delay_and_the_algo_order_finishes_then():
    mid = flat()
    mid[500:] = 28_900.0
    ex = venue(mid, order_response="ack", matching_delay_ms=200.0, matching_delay_sigma=0.0)
    ex.handle(market("open", Side.BUY, "1"), t(1))
    ex.handle(stop("sl-1", Side.SELL, "1", "29000"), t(2))
    at_trigger = ex.handle(FetchAlgoOrder(SYM, ClientOrderId("sl-1")), t(500))
    assert at_trigger.status is AlgoStatus.TRIGGERED and at_trigger.actual_qty == 0
    child = ex.handle(FetchOrder(SYM, ClientOrderId(""), venue_id=at_trigger.actual_order_id), t(500))
    assert child.status is OrderStatus.ACKNOWLEDGED
    done = ex.handle(FetchAlgoOrder(SYM, ClientOrderId("sl-1")), t(500) + 200)
    assert (done.status, done.updated_ms, done.actual_qty) == (AlgoStatus.FINISHED, t(500) + 200, D("1"))
