"""SimExchange on hand-made price paths: fills, conservation, rejects, native TP/SL, queries."""
from __future__ import annotations

import random
from decimal import Decimal

import numpy as np
import pytest

from sim.core.errors import Rejected
from sim.core.instrument import Instrument
from sim.core.messages import (
    AmendOrder,
    CancelOrder,
    FetchAccount,
    FetchCandles,
    FetchFills,
    FetchOpenOrders,
    FetchOrder,
    FetchPositions,
    FillReport,
    OrderReport,
    SubmitOrder,
)
from sim.core.types import ClientOrderId, FillKind, OrderStatus, OrderType, RejectReason, Side, TimeInForce, TriggerBy
from sim.world.exchange import SimExchange, VenueRules
from sim.world.liquidity import DepthProfile
from sim.world.market import PricePath

D = Decimal
SYM = "BTCUSDT"
T0 = 60_000 * 1000  # aligned to the minute
TICK = 1000
INST = Instrument(SYM, tick_size=D("0.001"), lot_size=D("0.001"), min_qty=D("0.01"), min_notional=D("5"))
DEPTH = DepthProfile(spread_bps=1.0, level_step_bps=0.5, level0_qty=0.5, levels=400)


class NullObserver:
    def on_order(self, ts, order, what, detail=""):
        pass

    def on_reject(self, ts, request, reason, detail):
        pass

    def on_fill(self, fill, order):
        pass

    def on_position(self, ts, qty):
        pass


def make_exchange(mid: np.ndarray, balance: float = 10_000.0, depth: DepthProfile = DEPTH,
                  rules: VenueRules | None = None, wakes: list | None = None) -> SimExchange:
    path = PricePath(T0, TICK, np.asarray(mid, dtype=float))
    kwargs = {} if wakes is None else {"scheduler": wakes.append}
    return SimExchange(INST, path, depth, rules or VenueRules(), balance, NullObserver(), **kwargs)


def t(i: int) -> int:
    """Venue time of tick ``i``."""
    return T0 + i * TICK


def market(cid: str, side: Side, qty: str, reduce_only: bool = False) -> SubmitOrder:
    return SubmitOrder(SYM, ClientOrderId(cid), side, OrderType.MARKET, D(qty), reduce_only=reduce_only)


def limit(cid: str, side: Side, qty: str, price: str, tif: TimeInForce = TimeInForce.GTC,
          reduce_only: bool = False) -> SubmitOrder:
    return SubmitOrder(SYM, ClientOrderId(cid), side, OrderType.LIMIT, D(qty), price=D(price), time_in_force=tif,
                       reduce_only=reduce_only)


def trigger(cid: str, kind: OrderType, side: Side, qty: str, price: str, reduce_only: bool = True) -> SubmitOrder:
    return SubmitOrder(SYM, ClientOrderId(cid), side, kind, D(qty), trigger_price=D(price), trigger_by=TriggerBy.MARK,
                       reduce_only=reduce_only)


def position(ex: SimExchange, now: int) -> Decimal:
    return ex.handle(FetchPositions(SYM), now).qty(SYM)


def fills(ex: SimExchange, now: int, since: int = 0) -> tuple[FillReport, ...]:
    return ex.handle(FetchFills(SYM, since), now).fills


def signed_sum(fs) -> Decimal:
    return sum((f.qty * f.side.sign for f in fs), D(0))


def expect_reject(ex: SimExchange, request, now: int, reason: RejectReason) -> None:
    before_qty, before_orders, before_fills = ex.book.qty, dict(ex.orders), list(ex.fills)
    with pytest.raises(Rejected) as info:
        ex.handle(request, now)
    assert info.value.reason is reason, str(info.value)
    assert info.value.ts == now
    assert ex.book.qty == before_qty
    assert ex.fills == before_fills
    if isinstance(request, SubmitOrder) and reason is not RejectReason.DUPLICATE_CLIENT_ID:
        assert request.client_id not in ex.orders
    assert ex.orders.keys() == before_orders.keys()


def flat(n: int = 3000, level: float = 100.0) -> np.ndarray:
    return np.full(n, level)


# ------------------------------------------------------------------------------ market orders


def test_market_buy_fills_at_the_book_walk_price_and_opens_a_long():
    ex = make_exchange(flat())
    rep = ex.handle(market("b1", Side.BUY, "2"), t(5))
    assert isinstance(rep, OrderReport)
    assert rep.status is OrderStatus.FILLED
    assert rep.filled_qty == D("2")
    walk = DEPTH.walk(True, 2.0, 100.0)
    assert float(rep.avg_price) == pytest.approx(walk.avg_price, rel=1e-9)
    assert position(ex, t(5)) == D("2")
    (fill,) = fills(ex, t(5))
    assert (fill.side, fill.qty, fill.ts, fill.kind, fill.client_id) == (Side.BUY, D("2"), t(5), FillKind.TRADE, "b1")
    assert fill.fee == pytest.approx(2 * float(fill.price) * VenueRules().taker_fee)
    pos = ex.handle(FetchPositions(SYM), t(5)).get(SYM)
    assert float(pos.entry_price) == pytest.approx(walk.avg_price, rel=1e-9)


def test_market_sell_larger_than_the_long_flips_to_a_short():
    ex = make_exchange(flat())
    ex.handle(market("b1", Side.BUY, "2"), t(1))
    rep = ex.handle(market("s1", Side.SELL, "3"), t(2))
    assert rep.status is OrderStatus.FILLED
    assert position(ex, t(2)) == D("-1")
    assert ex.book.entry == pytest.approx(float(fills(ex, t(2))[-1].price))


def test_reduce_only_market_order_is_capped_at_the_position():
    ex = make_exchange(flat())
    ex.handle(market("b1", Side.BUY, "1"), t(1))
    rep = ex.handle(market("s1", Side.SELL, "5", reduce_only=True), t(2))
    assert rep.filled_qty == D("1")
    assert rep.status is OrderStatus.EXPIRED  # the rest of an IOC order expires
    assert position(ex, t(2)) == 0


def test_market_order_larger_than_the_book_fills_the_whole_book_and_expires_the_rest():
    shallow = DepthProfile(spread_bps=1.0, level_step_bps=1.0, level0_qty=0.5, levels=2)  # 2 BTC a side
    ex = make_exchange(flat(), depth=shallow)
    rep = ex.handle(market("b1", Side.BUY, "3"), t(1))
    assert rep.filled_qty == D("2")
    assert rep.status is OrderStatus.EXPIRED
    assert position(ex, t(1)) == D("2")


def test_wallet_is_initial_balance_plus_realized_minus_fees_after_a_round_trip():
    mid = flat()
    mid[10:] = 110.0
    ex = make_exchange(mid)
    ex.handle(market("b1", Side.BUY, "1"), t(1))
    ex.handle(market("s1", Side.SELL, "1"), t(20))
    acct = ex.handle(FetchAccount(), t(20))
    fs = fills(ex, t(20))
    realized = float(fs[1].price) - float(fs[0].price)
    fees = fs[0].fee + fs[1].fee
    assert realized > 0
    assert acct.wallet == pytest.approx(10_000.0 + realized - fees)
    assert acct.unrealized_pnl == 0.0


@pytest.mark.parametrize("seed", range(8))
def test_position_always_equals_the_signed_sum_of_fills(seed):
    """Market, limit (GTC / IOC / post-only) and TP/SL orders, cancels and time passing, in random order."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    mid = 100.0 * np.exp(np.cumsum(0.002 * nrng.standard_normal(4000)))
    ex = make_exchange(mid, balance=50_000.0)
    now = t(0)
    for k in range(200):
        now += rng.randint(0, 30) * TICK + rng.choice([0, 1, 499])
        cur = ex.path.mid_at(now)
        pos = ex.book.qty
        choice = rng.random()
        side = rng.choice([Side.BUY, Side.SELL])
        qty = str(D(rng.randint(1, 3000)) / 1000)
        try:
            if choice < 0.35:
                ex.handle(market(f"m{k}", side, qty, reduce_only=rng.random() < 0.2), now)
            elif choice < 0.55:
                price = INST.price(cur * (1 + rng.uniform(-0.01, 0.01)))
                tif = rng.choice(list(TimeInForce))
                ex.handle(limit(f"l{k}", side, qty, str(price), tif, reduce_only=rng.random() < 0.2), now)
            elif choice < 0.8 and pos != 0:
                close = Side.SELL if pos > 0 else Side.BUY
                kind = rng.choice([OrderType.TAKE_PROFIT_MARKET, OrderType.STOP_MARKET])
                above = (kind is OrderType.TAKE_PROFIT_MARKET) == (close is Side.SELL)
                price = INST.price(cur * (1 + rng.uniform(0.001, 0.02) * (1 if above else -1)))
                qty = str(abs(pos) if rng.random() < 0.5 else INST.qty_down(abs(pos) / 2) or INST.min_qty)
                ex.handle(trigger(f"g{k}", kind, close, qty, str(price)), now)
            elif choice < 0.9 and ex.resting:
                ex.handle(CancelOrder(SYM, rng.choice(ex.resting).client_id), now)
            else:
                ex.handle(FetchAccount(), now)
        except Rejected:
            pass
        fs = fills(ex, now)
        assert ex.book.qty == signed_sum(fs)
        assert position(ex, now) == signed_sum(fs)
        for o in ex.orders.values():  # no order ever trades more than its quantity
            assert 0 <= o.filled_qty <= o.qty
    fs = fills(ex, ex.path.end_ms)
    assert ex.book.qty == signed_sum(fs)
    assert len(fs) > 20  # the walk did trade
    assert any(f.client_id and f.client_id.startswith("l") for f in fs)  # limits traded too


# ------------------------------------------------------------------------------------ rejects


def test_duplicate_client_id_among_open_orders_is_rejected():
    ex = make_exchange(flat())
    ex.handle(limit("a", Side.BUY, "1", "99"), t(1))
    expect_reject(ex, market("a", Side.BUY, "1"), t(2), RejectReason.DUPLICATE_CLIENT_ID)
    assert position(ex, t(2)) == 0


def test_a_closed_orders_client_id_may_be_used_again_and_the_second_order_executes():
    ex = make_exchange(flat())
    first = ex.handle(market("a", Side.BUY, "1"), t(1))
    second = ex.handle(market("a", Side.BUY, "1"), t(2))  # Binance: unique among open orders only
    assert first.venue_id != second.venue_id
    assert position(ex, t(2)) == D("2")
    assert ex.handle(FetchOrder(SYM, ClientOrderId("a")), t(3)).venue_id == second.venue_id
    assert ex.handle(FetchOrder(SYM, ClientOrderId("a"), venue_id=first.venue_id), t(3)).venue_id == first.venue_id


def test_quantity_below_min_qty_is_rejected():
    ex = make_exchange(flat())
    expect_reject(ex, market("a", Side.BUY, "0.005"), t(1), RejectReason.BELOW_MIN_QTY)


def test_notional_below_min_notional_is_rejected():
    ex = make_exchange(flat())  # 0.04 BTC at 100 is 4 < 5
    expect_reject(ex, market("a", Side.BUY, "0.04"), t(1), RejectReason.BELOW_MIN_NOTIONAL)
    ex.handle(market("b", Side.BUY, "0.05"), t(1))  # exactly 5 passes


def test_reduce_only_order_when_flat_is_rejected_as_would_increase():
    ex = make_exchange(flat())
    expect_reject(ex, market("a", Side.SELL, "1", reduce_only=True), t(1), RejectReason.REDUCE_ONLY_WOULD_INCREASE)


@pytest.mark.parametrize("kind", [OrderType.MARKET, OrderType.STOP_MARKET])
def test_reduce_only_order_on_the_positions_side_is_rejected_as_would_increase(kind):
    ex = make_exchange(flat())
    ex.handle(market("b1", Side.BUY, "1"), t(1))
    req = (market("a", Side.BUY, "1", reduce_only=True) if kind is OrderType.MARKET
           else trigger("a", OrderType.STOP_MARKET, Side.BUY, "1", "105"))
    expect_reject(ex, req, t(2), RejectReason.REDUCE_ONLY_WOULD_INCREASE)


def test_order_needing_more_margin_than_available_is_rejected():
    ex = make_exchange(flat(), balance=1_000.0)  # 5x leverage: about 50 BTC at 100
    expect_reject(ex, market("a", Side.BUY, "60"), t(1), RejectReason.INSUFFICIENT_MARGIN)
    ex.handle(market("b", Side.BUY, "40"), t(1))
    expect_reject(ex, market("c", Side.BUY, "20"), t(2), RejectReason.INSUFFICIENT_MARGIN)


def test_reducing_order_needs_no_margin():
    ex = make_exchange(flat(), balance=1_000.0)
    ex.handle(market("b", Side.BUY, "45"), t(1))
    ex.handle(market("s", Side.SELL, "45"), t(2))  # closing frees margin: never rejected for it
    assert position(ex, t(2)) == 0


@pytest.mark.parametrize(
    ("kind", "side", "price"),
    [
        (OrderType.TAKE_PROFIT_MARKET, Side.SELL, "99"),  # long TP below the mark
        (OrderType.TAKE_PROFIT_MARKET, Side.SELL, "100"),  # exactly at the mark fires too
        (OrderType.STOP_MARKET, Side.SELL, "101"),  # long SL above the mark
        (OrderType.TAKE_PROFIT_MARKET, Side.BUY, "101"),  # short TP above the mark
        (OrderType.STOP_MARKET, Side.BUY, "99"),  # short SL below the mark
    ],
)
def test_trigger_that_would_fire_at_once_is_rejected_as_would_trigger_immediately(kind, side, price):
    ex = make_exchange(flat())
    ex.handle(market("open", side.opposite, "1"), t(1))
    expect_reject(ex, trigger("g", kind, side, "1", price), t(2), RejectReason.WOULD_TRIGGER_IMMEDIATELY)
    assert not ex.open_triggers


@pytest.mark.parametrize(("side", "price"), [(Side.BUY, "105.1"), (Side.SELL, "94.9")])
def test_limit_price_too_far_from_the_mark_is_rejected_as_price_out_of_band(side, price):
    ex = make_exchange(flat())  # PERCENT_PRICE: a buy at most 5 % above the mark, a sell at most 5 % below
    expect_reject(ex, limit("a", side, "1", price), t(1), RejectReason.PRICE_OUT_OF_BAND)


@pytest.mark.parametrize(("side", "price"), [(Side.BUY, "94.9"), (Side.SELL, "105.1")])
def test_percent_price_bounds_one_side_only(side, price):
    ex = make_exchange(flat())  # a passive limit far from the mark is allowed (Binance: one bound per side)
    assert ex.handle(limit("a", side, "1", price), t(1)).status is OrderStatus.ACKNOWLEDGED


@pytest.mark.parametrize(("side", "price"), [(Side.BUY, "100.01"), (Side.BUY, "101"), (Side.SELL, "99.99")])
def test_post_only_limit_that_would_take_is_rejected_as_post_only_would_take(side, price):
    ex = make_exchange(flat())  # touch: 99.995 / 100.005
    expect_reject(ex, limit("a", side, "1", price, TimeInForce.POST_ONLY), t(1), RejectReason.POST_ONLY_WOULD_TAKE)


def test_post_only_limit_inside_the_spread_rests():
    ex = make_exchange(flat())
    rep = ex.handle(limit("a", Side.BUY, "1", "99.999", TimeInForce.POST_ONLY), t(1))
    assert rep.status is OrderStatus.ACKNOWLEDGED
    assert rep.filled_qty == 0


def test_marketable_limit_takes_at_once_as_taker():
    ex = make_exchange(flat())
    rep = ex.handle(limit("a", Side.BUY, "1", "100.1"), t(1))  # 10 bps through the mid: 20 levels in reach
    assert rep.status is OrderStatus.FILLED
    (fill,) = fills(ex, t(1))
    assert fill.ts == t(1)
    assert float(fill.price) == pytest.approx(DEPTH.walk(True, 1.0, 100.0).avg_price, rel=1e-9)
    assert fill.fee == pytest.approx(float(fill.qty) * float(fill.price) * VenueRules().taker_fee)


# Orders priced exactly at the touch: the touch is computed in float (mid*(1+h) can round above a limit
# typed at the ask), so the venue compares with a tolerance; these guard that regression.


@pytest.mark.parametrize(
    ("level", "side", "price"),
    [(100.0, Side.BUY, "100.005"), (100.0, Side.SELL, "99.995"), (50_000.0, Side.SELL, "49997.5")],
)
def test_ioc_limit_priced_exactly_at_the_touch_fills_at_once(level, side, price):
    ex = make_exchange(flat(level=level))  # 1 bp spread: the touch is level * (1 -/+ 0.5e-4)
    bid, ask = DEPTH.touch(level)
    assert float(D(price)) == pytest.approx(ask if side is Side.BUY else bid, rel=1e-15)
    rep = ex.handle(limit("a", side, "0.1", price, TimeInForce.IOC), t(1))
    assert rep.status is OrderStatus.FILLED


def test_post_only_buy_priced_exactly_at_the_ask_is_rejected_as_post_only_would_take():
    ex = make_exchange(flat(level=50_000.0))
    expect_reject(ex, limit("a", Side.BUY, "0.1", "50002.5", TimeInForce.POST_ONLY), t(1),
                  RejectReason.POST_ONLY_WOULD_TAKE)


def test_post_only_sell_priced_exactly_at_the_bid_is_rejected_as_post_only_would_take():
    ex = make_exchange(flat(level=50_000.0))
    expect_reject(ex, limit("a", Side.SELL, "0.1", "49997.5", TimeInForce.POST_ONLY), t(1),
                  RejectReason.POST_ONLY_WOULD_TAKE)


def test_amend_of_an_unknown_order_is_rejected_as_unknown_order():
    ex = make_exchange(flat())
    expect_reject(ex, AmendOrder(SYM, ClientOrderId("nope"), qty=D("1")), t(1), RejectReason.UNKNOWN_ORDER)


def test_amend_of_a_trigger_to_a_price_that_would_fire_at_once_is_rejected():
    ex = make_exchange(flat())
    ex.handle(market("open", Side.BUY, "1"), t(1))
    ex.handle(trigger("tp", OrderType.TAKE_PROFIT_MARKET, Side.SELL, "1", "105"), t(1))
    expect_reject(ex, AmendOrder(SYM, ClientOrderId("tp"), trigger_price=D("99")), t(2),
                  RejectReason.WOULD_TRIGGER_IMMEDIATELY)
    assert ex.orders[ClientOrderId("tp")].trigger_price == D("105")


def test_amend_of_a_limit_outside_the_band_or_to_a_bad_quantity_is_rejected():
    ex = make_exchange(flat())
    ex.handle(limit("a", Side.BUY, "2", "99"), t(1))
    expect_reject(ex, AmendOrder(SYM, ClientOrderId("a"), price=D("106")), t(2), RejectReason.PRICE_OUT_OF_BAND)
    expect_reject(ex, AmendOrder(SYM, ClientOrderId("a"), qty=D("0")), t(2), RejectReason.INVALID)
    expect_reject(ex, AmendOrder(SYM, ClientOrderId("a"), qty=D("1.0001")), t(2), RejectReason.INVALID)
    assert (ex.orders[ClientOrderId("a")].price, ex.orders[ClientOrderId("a")].qty) == (D("99"), D("2"))


def test_cancel_of_an_unknown_order_is_rejected_as_unknown_order():
    ex = make_exchange(flat())
    expect_reject(ex, CancelOrder(SYM, ClientOrderId("nope")), t(1), RejectReason.UNKNOWN_ORDER)


def test_cancel_of_a_filled_order_is_rejected_as_unknown_order():
    ex = make_exchange(flat())
    ex.handle(market("a", Side.BUY, "1"), t(1))
    expect_reject(ex, CancelOrder(SYM, ClientOrderId("a")), t(2), RejectReason.UNKNOWN_ORDER)


def test_fetch_of_an_unknown_order_is_rejected_as_unknown_order():
    ex = make_exchange(flat())
    expect_reject(ex, FetchOrder(SYM, ClientOrderId("nope")), t(1), RejectReason.UNKNOWN_ORDER)


@pytest.mark.parametrize(
    "request_",
    [
        market("a", Side.BUY, "1.0005"),  # not a multiple of the lot
        market("a", Side.BUY, "0"),
        SubmitOrder(SYM, ClientOrderId("a"), Side.BUY, OrderType.LIMIT, D("1")),  # limit without a price
        SubmitOrder(SYM, ClientOrderId("a"), Side.SELL, OrderType.STOP_MARKET, D("1")),  # no trigger price
        SubmitOrder("ETHUSDT", ClientOrderId("a"), Side.BUY, OrderType.MARKET, D("1")),
        FetchCandles(SYM, 1500, 0),  # interval not a multiple of the tick
    ],
    ids=["off-lot", "zero", "limit-without-price", "no-trigger-price", "other-symbol", "odd-interval"],
)
def test_malformed_requests_are_rejected_as_invalid(request_):
    ex = make_exchange(flat())
    expect_reject(ex, request_, t(1), RejectReason.INVALID)


# ------------------------------------------------------------------------------ TP and SL


def _tp_sl_path(cross_index: int, cross_value: float, before: float, after: float) -> np.ndarray:
    mid = flat(4000)
    mid[100:cross_index] = before  # close to the trigger, never through it
    mid[cross_index] = cross_value
    mid[cross_index + 1:] = after
    return mid


@pytest.mark.parametrize(
    ("open_side", "kind", "trig", "cross_value", "before"),
    [
        (Side.BUY, OrderType.TAKE_PROFIT_MARKET, "105", 105.5, 104.9),  # long TP, price rises
        (Side.BUY, OrderType.STOP_MARKET, "95", 94.0, 95.1),  # long SL, price falls
        (Side.SELL, OrderType.TAKE_PROFIT_MARKET, "95", 94.5, 95.1),  # short TP, price falls
        (Side.SELL, OrderType.STOP_MARKET, "105", 106.0, 104.9),  # short SL, price rises
    ],
    ids=["long-tp", "long-sl", "short-tp", "short-sl"],
)
@pytest.mark.parametrize("cross_index", [150, 1023, 1024, 2600])
def test_trigger_fires_at_first_crossing_tick(open_side, kind, trig, cross_value, before, cross_index):
    wakes: list = []
    mid = _tp_sl_path(cross_index, cross_value, before, after=cross_value)
    ex = make_exchange(mid, wakes=wakes)
    ex.handle(market("open", open_side, "1"), t(1))
    ex.handle(trigger("g", kind, open_side.opposite, "1", trig), t(2))
    assert wakes[-1] == t(cross_index)  # the venue asked to be woken at the crossing

    # one millisecond before the crossing tick: nothing has happened
    assert ex.handle(FetchOrder(SYM, ClientOrderId("g")), t(cross_index) - 1).status is OrderStatus.ACKNOWLEDGED
    assert position(ex, t(cross_index) - 1) == D(1) * open_side.sign

    later = t(cross_index + 500)
    ex.catch_up(later)
    rep = ex.handle(FetchOrder(SYM, ClientOrderId("g")), later)
    assert rep.status is OrderStatus.FILLED
    fill = fills(ex, later)[-1]
    assert fill.client_id == "g"
    assert fill.ts == t(cross_index)
    walk = DEPTH.walk(open_side.opposite is Side.BUY, 1.0, cross_value)
    assert float(fill.price) == pytest.approx(walk.avg_price, rel=1e-9)  # filled off the crossing tick's mid
    assert position(ex, later) == 0
    assert ex.handle(FetchOpenOrders(SYM), later).orders == ()


@pytest.mark.parametrize("seed", range(8))
def test_take_profit_fires_at_first_crossing_tick_of_a_random_path(seed):
    rng = np.random.default_rng(seed)
    mid = 100.0 * np.exp(np.cumsum(np.concatenate([[0.0], 0.0002 + 0.003 * rng.standard_normal(5999)])))
    ex = make_exchange(mid)
    ex.handle(market("open", Side.BUY, "1"), t(0))
    start = 3
    now_mid, top = ex.path.mid_at(t(start)), mid[start:].max()
    assert top - now_mid > 1.0  # an upward drift makes sure the path rises
    trig = INST.price(now_mid + 0.2 + (top - now_mid - 0.4) * rng.uniform(0, 1))
    ex.handle(trigger("tp", OrderType.TAKE_PROFIT_MARKET, Side.SELL, "1", str(trig)), t(start))
    hits = np.flatnonzero(mid >= float(trig))
    first = int(hits[hits > start][0])
    fs = fills(ex, ex.path.end_ms)
    assert fs[-1].client_id == "tp"
    assert fs[-1].ts == t(first)


def test_stop_loss_fires_at_first_crossing_tick_even_when_the_take_profit_is_armed_too():
    mid = flat(3000)
    mid[500] = 103.0  # approaches but never reaches the TP
    mid[1700] = 96.0  # approaches but never reaches the SL
    mid[2100:] = 94.0  # SL crossing
    ex = make_exchange(mid)
    ex.handle(market("open", Side.BUY, "1"), t(1))
    ex.handle(trigger("tp", OrderType.TAKE_PROFIT_MARKET, Side.SELL, "1", "104"), t(2))
    ex.handle(trigger("sl", OrderType.STOP_MARKET, Side.SELL, "1", "95"), t(2))
    fs = fills(ex, t(2900))
    assert [(f.client_id, f.ts) for f in fs[1:]] == [("sl", t(2100))]
    assert ex.handle(FetchOrder(SYM, ClientOrderId("sl")), t(2900)).status is OrderStatus.FILLED
    # the TP is reduce-only and now has nothing to reduce: it stays armed until its price is crossed
    assert ex.handle(FetchOrder(SYM, ClientOrderId("tp")), t(2900)).status is OrderStatus.ACKNOWLEDGED


def test_amended_take_profit_fires_at_the_first_crossing_of_its_new_price():
    mid = flat(3000)
    mid[400] = 103.5  # crosses the amended price only
    mid[900:] = 106.0  # would cross the original price
    ex = make_exchange(mid)
    ex.handle(market("open", Side.BUY, "1"), t(1))
    ex.handle(trigger("tp", OrderType.TAKE_PROFIT_MARKET, Side.SELL, "1", "105"), t(2))
    ex.handle(AmendOrder(SYM, ClientOrderId("tp"), trigger_price=D("103")), t(3))
    fs = fills(ex, t(2000))
    assert [(f.client_id, f.ts) for f in fs[1:]] == [("tp", t(400))]


def test_stop_by_last_fires_on_a_bounce_that_a_stop_by_mark_ignores():
    mid = flat(3000)
    last = flat(3000)
    last[700] = 94.0  # one trade prints through the stop; the mark never moves
    path = PricePath(T0, TICK, mid, last=last)
    ex = SimExchange(INST, path, DEPTH, VenueRules(), 10_000.0, NullObserver())
    ex.handle(market("open", Side.BUY, "2"), t(1))
    by_mark = trigger("mk", OrderType.STOP_MARKET, Side.SELL, "1", "95")
    by_last = SubmitOrder(SYM, ClientOrderId("ls"), Side.SELL, OrderType.STOP_MARKET, D("1"), trigger_price=D("95"),
                          trigger_by=TriggerBy.LAST, reduce_only=True)
    ex.handle(by_mark, t(2))
    ex.handle(by_last, t(2))
    fs = fills(ex, t(2500))
    assert [(f.client_id, f.ts) for f in fs[1:]] == [("ls", t(700))]
    assert ex.orders[ClientOrderId("mk")].status is OrderStatus.ACKNOWLEDGED
    assert position(ex, t(2500)) == D("1")


def test_cancelled_trigger_never_fires():
    mid = _tp_sl_path(800, 106.0, 104.0, 106.0)
    ex = make_exchange(mid)
    ex.handle(market("open", Side.BUY, "1"), t(1))
    ex.handle(trigger("tp", OrderType.TAKE_PROFIT_MARKET, Side.SELL, "1", "105"), t(2))
    ex.handle(CancelOrder(SYM, ClientOrderId("tp")), t(3))
    assert len(fills(ex, t(3000))) == 1
    assert position(ex, t(3000)) == D("1")
    assert ex.handle(FetchOrder(SYM, ClientOrderId("tp")), t(3000)).status is OrderStatus.CANCELLED


def test_reduce_only_trigger_with_no_position_expires_when_it_fires():
    mid = _tp_sl_path(1200, 94.0, 96.0, 94.0)
    ex = make_exchange(mid)
    ex.handle(market("open", Side.BUY, "1"), t(1))
    ex.handle(trigger("sl", OrderType.STOP_MARKET, Side.SELL, "1", "95"), t(2))
    ex.handle(market("close", Side.SELL, "1"), t(3))  # flat before the stop is reached
    rep = ex.handle(FetchOrder(SYM, ClientOrderId("sl")), t(2000))
    assert rep.status is OrderStatus.EXPIRED
    assert rep.filled_qty == 0
    assert position(ex, t(2000)) == 0
    assert [f.client_id for f in fills(ex, t(2000))] == ["open", "close"]
    assert ex.open_triggers == []


def test_liquidation_closes_the_long_at_the_first_tick_through_the_liquidation_price():
    rules = VenueRules(taker_fee=0.0, leverage=20)
    mid = flat(3000)
    mid[1500:] = 80.0
    ex = make_exchange(mid, balance=600.0, rules=rules)
    ex.handle(market("open", Side.BUY, "100"), t(1))  # 10,000 notional on 600 of wallet
    liq = ex.liquidation_price()
    assert 80.0 < liq < 100.0
    fs = fills(ex, t(2500))
    assert fs[-1].kind is FillKind.LIQUIDATION
    assert fs[-1].ts == t(1500)
    assert position(ex, t(2500)) == 0


# ------------------------------------------------------------------------------- queries


def test_fetch_fills_returns_only_fills_at_or_after_since():
    ex = make_exchange(flat())
    for i, (cid, side) in enumerate([("a", Side.BUY), ("b", Side.BUY), ("c", Side.SELL), ("d", Side.SELL)]):
        ex.handle(market(cid, side, "1"), t(10 * (i // 2 * 2 + i % 2)))  # ticks 0, 10, 20, 30
    ex.handle(market("e", Side.BUY, "1"), t(30))  # two fills at the same time
    all_fills = fills(ex, t(40))
    assert [f.ts for f in all_fills] == [t(0), t(10), t(20), t(30), t(30)]
    for since in [0, t(0), t(0) + 1, t(10), t(10) + 1, t(20) - 1, t(30), t(30) + 1, t(1000)]:
        got = fills(ex, t(40), since)
        assert got == tuple(f for f in all_fills if f.ts >= since), since


def _brute_candle(mid: np.ndarray, open_ms: int, iv: int) -> tuple[float, float, float, float]:
    i0, per = (open_ms - T0) // TICK, iv // TICK
    seg = mid[i0: i0 + per]
    assert len(seg) == per
    return (seg[0], seg.max(), seg.min(), seg[-1])


@pytest.mark.parametrize("now_offset", [0, 59_999, 60_000, 150_500, 180_000, 299_000, 10_000_000])
def test_fetch_candles_returns_only_closed_candles(now_offset):
    rng = np.random.default_rng(now_offset)
    mid = 100.0 * np.exp(np.cumsum(0.001 * rng.standard_normal(270)))  # ticks up to T0 + 269 s
    ex = make_exchange(mid)
    iv = 60_000
    now = T0 + now_offset
    candles = ex.handle(FetchCandles(SYM, iv, 0), now).candles
    closed_by = min(now, ex.path.end_ms + TICK)  # a candle closes once its last tick has passed
    expected_opens = list(range(T0, closed_by - iv + 1, iv))
    assert [c.open_ms for c in candles] == expected_opens
    for c in candles:
        assert c.open_ms + iv <= now
        assert (c.open, c.high, c.low, c.close) == pytest.approx(_brute_candle(mid, c.open_ms, iv))


def test_fetch_candles_honours_since_and_keeps_the_newest_limit():
    ex = make_exchange(np.linspace(100, 130, 600))
    iv = 60_000
    now = T0 + 500_000  # closed candles open at T0 .. T0 + 420 s
    opens = [c.open_ms for c in ex.handle(FetchCandles(SYM, iv, T0 + 120_000), now).candles]
    assert opens == [T0 + k * iv for k in range(2, 8)]
    opens = [c.open_ms for c in ex.handle(FetchCandles(SYM, iv, T0 + 120_001), now).candles]
    assert opens == [T0 + k * iv for k in range(3, 8)]
    opens = [c.open_ms for c in ex.handle(FetchCandles(SYM, iv, 0, limit=3), now).candles]
    assert opens == [T0 + k * iv for k in range(5, 8)]
