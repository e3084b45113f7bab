"""Ids, retention, timestamps and the reduce-only expiry of issue 16 (items 3, 5, 6), and the
operator's hands on algo orders (item 7)."""
from __future__ import annotations

import numpy as np
import pytest

from sim.core.errors import Rejected
from sim.core.messages import (
    CancelAlgoOrder,
    CancelOrder,
    FetchAlgoOrder,
    FetchFills,
    FetchOpenAlgoOrders,
    FetchOrder,
    FetchPositions,
)
from sim.core.types import AlgoStatus, ClientOrderId, OrderStatus, OrderType, Side
from sim.scenario.schema import Event
from sim.world.interventions import apply_intervention
from sim.world.order_registry import DAY_MS
from sim.world.runlog import RunLog
from tests.world.venue_kit import SYM, T0, flat, limit, market, stop, t, venue

HOUR = 3_600_000
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def h(hours: float) -> int:
    return T0 + int(hours * HOUR)


def long_run_venue(**kw):
    return venue(flat(24 * 100), tick_ms=HOUR, **kw)  # 100 days of hourly ticks


def lookup(ex, cid: str, now: int):
    return ex.handle(FetchOrder(SYM, ClientOrderId(cid)), now)


def test_a_cancelled_order_with_no_fills_is_not_found_after_3_days():
    ex = long_run_venue()
    ex.handle(limit("gone", Side.BUY, "0.01", "29000"), h(0))
    ex.handle(CancelOrder(SYM, ClientOrderId("gone")), h(1))
    assert lookup(ex, "gone", h(72)).status is OrderStatus.CANCELLED  # 3 days after it was created
    with pytest.raises(Rejected) as info:
        lookup(ex, "gone", h(72) + 1)
    assert info.value.code == -2013


def test_a_filled_order_is_found_for_90_days_then_not():
    ex = long_run_venue()
    ex.handle(market("kept", Side.BUY, "0.01"), h(0))
    assert lookup(ex, "kept", T0 + 90 * DAY_MS).status is OrderStatus.FILLED
    with pytest.raises(Rejected):
        lookup(ex, "kept", T0 + 90 * DAY_MS + 1)


def test_an_expired_algo_order_is_forgotten_after_3_days_like_an_order():
    ex = long_run_venue()
    ex.handle(market("open", Side.BUY, "1"), h(0))
    ex.handle(stop("sl", Side.SELL, "1", "29000"), h(0))
    ex.handle(CancelAlgoOrder(SYM, ClientOrderId("sl")), h(1))
    assert ex.handle(FetchAlgoOrder(SYM, ClientOrderId("sl")), h(72)).status is AlgoStatus.CANCELLED
    with pytest.raises(Rejected):
        ex.handle(FetchAlgoOrder(SYM, ClientOrderId("sl")), h(73))


def test_reports_carry_transaction_and_event_times_and_fills_carry_trade_ids():
    ex = venue()
    rep = ex.handle(limit("l-1", Side.BUY, "0.5", "29000"), t(1))
    assert (rep.ts, rep.updated_ms) == (t(1), t(1))
    later = lookup(ex, "l-1", t(50))
    assert (later.ts, later.updated_ms) == (t(50), t(1))  # sent now, last changed at placement
    ex.handle(market("m-1", Side.BUY, "0.5"), t(60))
    pos = ex.handle(FetchPositions(SYM), t(70)).positions[0]
    assert (pos.ts, pos.updated_ms) == (t(70), t(60))
    fill = ex.handle(FetchFills(SYM, 0), t(70)).fills[-1]
    assert (fill.ts, fill.event_ms) == (t(60), t(60)) and fill.trade_id.startswith("T") and not fill.maker
    assert len({f.trade_id for f in ex.fills}) == len(ex.fills)


def test_a_reduce_only_limit_expires_when_its_position_is_closed():
    ex = venue()
    ex.handle(market("open", Side.BUY, "1"), t(1))
    ex.handle(limit("exit-lim", Side.SELL, "1", "30500", reduce_only=True), t(2))
    ex.handle(limit("plain", Side.SELL, "0.1", "30600"), t(2))
    ex.handle(market("close", Side.SELL, "1", reduce_only=True), t(3))
    assert lookup(ex, "exit-lim", t(4)).status is OrderStatus.EXPIRED
    assert lookup(ex, "exit-lim", t(4)).updated_ms == t(3)
    assert lookup(ex, "plain", t(4)).status is OrderStatus.ACKNOWLEDGED  # only reduce-only orders expire


def test_a_reduce_only_limit_expires_when_the_position_flips_past_it():
    ex = venue()
    ex.handle(market("open", Side.BUY, "1"), t(1))
    ex.handle(limit("exit-lim", Side.SELL, "1", "30500", reduce_only=True), t(2))
    ex.handle(market("flip", Side.SELL, "2"), t(3))  # now short: a reduce-only sell has nothing to reduce
    assert lookup(ex, "exit-lim", t(4)).status is OrderStatus.EXPIRED


def intervene(ex, kind: str, now: int, **data) -> str:
    from pydantic import TypeAdapter
    log = RunLog()
    apply_intervention(TypeAdapter(Event).validate_python({"at": "0s", "kind": kind, **data}), ex, now, log)
    return log.events.frame()["detail"].iloc[-1]


def test_an_operator_moving_an_algo_tp_cancels_it_and_places_another_with_an_id_not_the_bots():
    ex = venue(conditional_orders="algo")
    ex.handle(market("open", Side.BUY, "1"), t(1))
    ex.handle(stop("b1-1-tp-0", Side.SELL, "1", "31000", kind=OrderType.TAKE_PROFIT_MARKET), t(2))
    detail = intervene(ex, "move_protective", t(3), which="tp", by_pct=0.01)
    assert "cancelled, replaced by ext-algo-" in detail
    assert ex.handle(FetchAlgoOrder(SYM, ClientOrderId("b1-1-tp-0")), t(4)).status is AlgoStatus.CANCELLED
    (moved,) = ex.handle(FetchOpenAlgoOrders(SYM), t(4)).orders
    assert moved.client_algo_id.startswith("ext-algo-") and moved.trigger_price == 31310


def test_an_operator_cancelling_algo_protection_cancels_it():
    ex = venue(conditional_orders="algo")
    ex.handle(market("open", Side.BUY, "1"), t(1))
    ex.handle(stop("b1-1-sl-0", Side.SELL, "1", "29000"), t(2))
    assert "b1-1-sl-0" in intervene(ex, "cancel_protective", t(3), which="sl")
    assert ex.handle(FetchOpenAlgoOrders(SYM), t(4)).orders == ()


def test_a_leverage_cut_that_would_leave_negative_available_margin_is_refused_with_2028():
    ex = venue(balance=10_000.0)
    ex.handle(market("open", Side.BUY, "1"), t(1))  # 30 000 notional: 6 000 at 5x, 30 000 at 1x
    assert "refused by the venue (-2028 MIN_LEVERAGE_RATIO)" in intervene(ex, "set_leverage", t(2), leverage=1)
    assert ex.leverage == 5
    assert intervene(ex, "set_leverage", t(3), leverage=4) == "leverage 4" and ex.leverage == 4


def test_open_limit_orders_reserve_initial_margin_in_the_account_report():
    ex = venue(balance=10_000.0)
    before = ex.account_report()
    ex.handle(limit("rest", Side.BUY, "1", "29000"), t(1))
    after = ex.account_report()
    assert after.initial_margin == pytest.approx(before.initial_margin + 29_000 / 5)
    assert after.available_margin == pytest.approx(before.available_margin - 29_000 / 5)
    ex.handle(market("short", Side.SELL, "1"), t(2))  # a short of 1: the buy would close it, reserving nothing
    assert ex.account_report().initial_margin == pytest.approx(abs(float(ex.book.qty)) * ex.path.mid_at(t(2)) / 5)
    assert np.isfinite(ex.account_report().available_margin)
    with pytest.raises(Rejected) as info:  # but another buy of 1 would open a long beyond it: refused
        ex.handle(market("more", Side.BUY, "3"), t(3))
    assert info.value.code == -2019
