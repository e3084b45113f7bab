"""``exchange.order_response = "ack"``: a market, IOC or FOK order is answered before it matches,
and its fills reach the bot later, by pushed update and by query (issue 16, item 1)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sim.core.errors import Rejected
from sim.core.messages import (
    CancelOrder,
    FetchFills,
    FetchOpenOrders,
    FetchOrder,
    FetchPositions,
    FillReport,
    OrderReport,
    Woke,
)
from sim.core.types import ClientOrderId, OrderStatus, Side, TimeInForce
from tests.world.test_driver_faults import build, run, scenario
from tests.world.venue_kit import SYM, limit, market, t, venue

D = Decimal


def test_under_ack_a_market_order_is_answered_acknowledged_with_nothing_filled_and_fills_after_the_delay():
    wakes: list = []
    ex = venue(order_response="ack", wakes=wakes)
    rep = ex.handle(market("m-1", Side.BUY, "0.5"), t(1))
    assert (rep.status, rep.filled_qty, rep.avg_price) == (OrderStatus.ACKNOWLEDGED, 0, None)
    due = ex.pending[0][0]
    assert due > t(1) and wakes[-1] == due  # a venue wake-up at the match, not per-tick work
    assert [o.client_id for o in ex.handle(FetchOpenOrders(SYM), t(1)).orders] == ["m-1"]
    assert ex.handle(FetchPositions(SYM), t(1)).qty(SYM) == 0
    later = ex.handle(FetchOrder(SYM, ClientOrderId("m-1")), due)
    assert (later.status, later.filled_qty, later.updated_ms) == (OrderStatus.FILLED, D("0.5"), due)
    (fill,) = ex.handle(FetchFills(SYM, 0), due).fills
    assert fill.ts == due and fill.client_id == "m-1"
    kinds = [(e[0], e[2] if e[0] != "fill" else "fill") for e in ex.observer.events]
    assert kinds == [("order", "accepted"), ("fill", "fill"), ("order", "filled")]


def test_under_result_the_same_order_is_answered_filled():
    ex = venue()
    rep = ex.handle(market("m-1", Side.BUY, "0.5"), t(1))
    assert (rep.status, rep.filled_qty) == (OrderStatus.FILLED, D("0.5"))
    assert not ex.pending


def test_under_ack_an_ioc_limit_matches_later_and_a_gtc_limit_rests_at_once():
    ex = venue(order_response="ack")
    ioc = ex.handle(limit("i-1", Side.BUY, "0.5", "30010", TimeInForce.IOC), t(1))
    gtc = ex.handle(limit("g-1", Side.BUY, "0.5", "29000"), t(1))
    assert ioc.status is OrderStatus.ACKNOWLEDGED and ioc.filled_qty == 0
    assert gtc.status is OrderStatus.ACKNOWLEDGED and [o.client_id for o in ex.resting] == ["g-1"]
    assert ex.handle(FetchOrder(SYM, ClientOrderId("i-1")), t(2)).status is OrderStatus.FILLED


def test_fok_is_refused_5021_under_result_and_expires_after_its_acknowledgement_under_ack():
    big = "10"  # more than the ladder holds within 1 bp (2 BTC)
    with pytest.raises(Rejected) as info:
        venue().handle(limit("f-1", Side.BUY, big, "30003", TimeInForce.FOK), t(1))
    assert info.value.code == -5021
    ex = venue(order_response="ack")
    assert ex.handle(limit("f-1", Side.BUY, big, "30003", TimeInForce.FOK), t(1)).status is OrderStatus.ACKNOWLEDGED
    rep = ex.handle(FetchOrder(SYM, ClientOrderId("f-1")), t(2))
    assert (rep.status, rep.filled_qty) == (OrderStatus.EXPIRED, 0)


def test_matching_delays_are_drawn_per_order_from_the_seeded_stream():
    def delays(seed_venue):
        for i in range(20):
            seed_venue.handle(market(f"m-{i}", Side.BUY if i % 2 else Side.SELL, "0.01"), t(1))
        return [due - t(1) for due, _, _ in sorted(seed_venue.pending)]

    a, b = delays(venue(order_response="ack", matching_delay_ms=20.0)), \
        delays(venue(order_response="ack", matching_delay_ms=20.0))
    assert a == b  # same stream, same draws
    assert len(set(a)) > 5 and min(a) >= 1  # drawn per order, never zero
    assert 5 < sorted(a)[len(a) // 2] < 80  # around the configured median


def test_a_cancel_before_the_match_cancels_and_the_order_never_fills():
    ex = venue(order_response="ack", matching_delay_ms=500.0, matching_delay_sigma=0.0)
    ex.handle(market("m-1", Side.BUY, "0.5"), t(1))
    assert ex.handle(CancelOrder(SYM, ClientOrderId("m-1")), t(1) + 100).status is OrderStatus.CANCELLED
    assert ex.handle(FetchPositions(SYM), t(5)).qty(SYM) == 0 and not ex.fills


def test_in_a_world_the_fills_of_an_acknowledged_order_reach_the_bot_as_pushed_updates(tmp_path):
    sc = scenario(exchange={"order_response": "ack", "matching_delay": {"median_ms": 30.0}})
    world = build(sc, tmp_path)
    woken: list[Woke] = []
    original = world.driver._woke

    def woke() -> Woke:
        w = original()
        woken.append(w)
        return w

    world.driver._woke = woke  # type: ignore[method-assign]
    run(world)
    ev = world.log.events.frame()
    entry = ev[(ev["kind"] == "order_accepted") & ev["client_id"].str.contains("-en-", na=False)].iloc[0]
    fill = ev[(ev["kind"] == "fill_trade") & (ev["client_id"] == entry["client_id"])].iloc[0]
    assert fill["ts"] > entry["ts"]  # matched after the acknowledgement
    pushed = [u for w in woken for u in w.updates]
    assert any(isinstance(u, FillReport) and u.client_id == entry["client_id"] for u in pushed)
    assert any(isinstance(u, OrderReport) and u.client_id == entry["client_id"] and u.status is OrderStatus.FILLED
               for u in pushed)
    assert world.venue.book.qty != 0


def test_an_ack_world_is_deterministic(tmp_path):
    sc = scenario(exchange={"order_response": "ack"})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = run(build(sc, tmp_path / "a")).log.events.frame()
    b = run(build(sc, tmp_path / "b")).log.events.frame()
    assert a.equals(b)
