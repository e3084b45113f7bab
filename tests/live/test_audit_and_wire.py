"""A live run's stale actions, duplicates and unintended exposure (from the record and the trade
history), and Binance's JSON read into the port's reports (exact decimals, algo orders)."""
from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from sim.bot.record import PlatformRecord
from sim.core.messages import FillReport, OrderReport
from sim.core.types import AlgoStatus, ClientOrderId, FillKind, OrderStatus, OrderType, Side, TradeId, VenueOrderId
from sim.live.audit import duplicates, stale_actions, unintended_exposure
from sim.live.streams import order_update, trade_update
from sim.live.wire import algo_as_order, algo_report, fill_report, order_report, position_report


def fill(tid: str, cid: str | None, side: Side, qty: str, ts: int) -> FillReport:
    return FillReport(TradeId(tid), "BTCUSDT", None, ClientOrderId(cid) if cid else None, side, Decimal(qty),
                      Decimal(30000), 0.0, FillKind.TRADE, ts)


def record(tmp: Path, positions: list[tuple[int, str]], sent: list[tuple[str, int]],
           decisions: list[tuple[int, str]]) -> Path:
    path = tmp / "record.sqlite"
    PlatformRecord.open(path, "BTCUSDT", "b").close()
    with sqlite3.connect(path) as c:
        c.executemany("INSERT INTO position_history (symbol, ts, qty, entry, reason) "
                      "VALUES ('BTCUSDT', ?, ?, '0', 'x')", positions)
        c.executemany("INSERT INTO order_transitions (client_id, ts, from_status, to_status, filled_qty, reason) "
                      "VALUES (?, ?, 'new', 'sent', '0', 'x')", sent)
        c.executemany("INSERT INTO decisions (ts, action, side, qty, position_before, target_qty, reason) "
                      "VALUES (?, 'open', 'buy', '0.1', '0', ?, 'x')", decisions)
    return path


def test_stale_action_counted_when_the_record_lagged_the_venue(tmp_path: Path) -> None:
    fills = [fill("1", "b-1-en-0", Side.BUY, "0.1", 100), fill("2", "ext-1", Side.SELL, "0.04", 200)]
    # the record learnt the operator's reduce at 400; an order sent at 300 was sent on a stale picture
    path = record(tmp_path, [(100, "0.1"), (400, "0.06")], [("b-1-en-0", 50), ("b-2-ex-0", 300), ("b-3-ex-0", 500)],
                  [])
    assert stale_actions(path, fills) == 1


def test_unintended_exposure_is_a_bot_fill_past_its_target(tmp_path: Path) -> None:
    path = record(tmp_path, [], [], [(50, "0.1")])
    ok = [fill("1", "b-1-en-0", Side.BUY, "0.1", 100)]
    assert unintended_exposure(path, ok, "b") == 0
    twice = ok + [fill("2", "b-1-en-1", Side.BUY, "0.1", 150)]  # a resend that also filled: long 0.2
    assert unintended_exposure(path, twice, "b") == 1
    operator = ok + [fill("3", "ext-1", Side.BUY, "0.5", 150)]  # someone else's: not the bot's exposure
    assert unintended_exposure(path, operator, "b") == 0


def test_duplicates_are_second_live_or_filled_orders_of_one_intent() -> None:
    def rep(cid: str, status: OrderStatus) -> OrderReport:
        return OrderReport("BTCUSDT", ClientOrderId(cid), VenueOrderId("1"), Side.BUY, OrderType.MARKET,
                           Decimal("0.1"), None, None, False, status, Decimal(0), None, 0)

    orders = {"b-1-en-0": rep("b-1-en-0", OrderStatus.FILLED), "b-1-en-1": rep("b-1-en-1", OrderStatus.FILLED),
              "b-2-en-0": rep("b-2-en-0", OrderStatus.FILLED), "b-2-en-1": rep("b-2-en-1", OrderStatus.REJECTED)}
    fills = [fill("1", "b-1-en-0", Side.BUY, "0.1", 1), fill("2", "b-1-en-1", Side.BUY, "0.1", 2),
             fill("3", "b-2-en-0", Side.BUY, "0.1", 3)]
    assert duplicates(orders, fills) == 1


ORDER = {"orderId": 7, "symbol": "BTCUSDT", "status": "PARTIALLY_FILLED", "clientOrderId": "b-1-en-0",
         "price": "30000.1", "avgPrice": "30000.10000000", "origQty": "0.3", "executedQty": "0.1", "type": "LIMIT",
         "origType": "LIMIT", "reduceOnly": False, "side": "SELL", "stopPrice": "0", "updateTime": 1700000000123}
ALGO = {"algoId": 3, "clientAlgoId": "b-2-tp-0", "orderType": "TAKE_PROFIT_MARKET", "symbol": "BTCUSDT",
        "side": "SELL", "quantity": "0.1", "algoStatus": "FINISHED", "triggerPrice": "31000.5",
        "workingType": "MARK_PRICE", "closePosition": False, "reduceOnly": True, "updateTime": 1700000001000,
        "triggerTime": 1700000000900, "actualOrderId": "8", "actualQty": "0.1", "actualPrice": "31010.2"}


def test_orders_positions_and_trades_are_read_exactly() -> None:
    o = order_report(ORDER, 5)
    assert (o.qty, o.filled_qty, o.avg_price, o.price) == (Decimal("0.3"), Decimal("0.1"), Decimal("30000.1"),
                                                          Decimal("30000.1"))
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.side is Side.SELL and o.trigger_price is None
    assert o.ts == 1700000000123  # never earlier than the venue's own update time
    p = position_report([{"symbol": "BTCUSDT", "positionAmt": "-0.043", "entryPrice": "29999.9",
                          "positionSide": "BOTH", "updateTime": 9}], "BTCUSDT", 10)
    assert p.qty == Decimal("-0.043") and p.entry_price == Decimal("29999.9")
    assert position_report([], "BTCUSDT", 10).qty == 0
    f = fill_report({"id": 12, "orderId": 7, "symbol": "BTCUSDT", "side": "BUY", "qty": "0.001", "price": "30000.2",
                     "commission": "0.012", "time": 44}, ClientOrderId("autoclose-1"))
    assert f.kind is FillKind.LIQUIDATION and f.qty == Decimal("0.001") and f.trade_id == "12"


def test_a_finished_algo_order_reads_as_its_child_did() -> None:
    a = algo_report(ALGO, 1)
    assert a.status is AlgoStatus.FINISHED and a.actual_order_id == "8" and a.trigger_price == Decimal("31000.5")
    assert a.actual_qty == Decimal("0.1") and a.actual_price == Decimal("31010.2")  # what the child filled
    child = order_report({**ORDER, "orderId": 8, "clientOrderId": "algo-3", "status": "FILLED", "type": "MARKET",
                          "origType": "MARKET", "executedQty": "0.1", "origQty": "0.1"}, 2)
    as_order = algo_as_order(a, child)
    assert as_order.client_id == "b-2-tp-0" and as_order.status is OrderStatus.FILLED
    assert as_order.type is OrderType.TAKE_PROFIT_MARKET and as_order.filled_qty == Decimal("0.1")
    assert algo_as_order(algo_report({**ALGO, "algoStatus": "NEW", "actualOrderId": ""}, 1), None).status \
        is OrderStatus.ACKNOWLEDGED
    assert algo_as_order(algo_report({**ALGO, "algoStatus": "CANCELED", "actualOrderId": ""}, 1), None).status \
        is OrderStatus.CANCELLED


def test_stream_payloads() -> None:
    o = {"s": "BTCUSDT", "c": "b-1-en-0", "S": "BUY", "o": "MARKET", "ot": "MARKET", "q": "0.1", "p": "0",
         "ap": "30000", "sp": "0", "x": "TRADE", "X": "FILLED", "i": 7, "l": "0.1", "z": "0.1", "L": "30000",
         "n": "1.2", "T": 55, "t": 99, "R": False}
    up = order_update(o, "BTCUSDT", True, 50)
    assert isinstance(up, OrderReport) and up.status is OrderStatus.FILLED and up.ts == 55
    tr = trade_update(o, "BTCUSDT")
    assert tr is not None and tr.trade_id == "99" and tr.qty == Decimal("0.1")
    assert order_update({**o, "s": "ETHUSDT"}, "BTCUSDT", True, 1) is None
    algo = {"s": "BTCUSDT", "caid": "b-2-sl-0", "aid": 4, "o": "STOP_MARKET", "S": "SELL", "q": "0.1",
            "X": "TRIGGERED", "ai": "9", "aq": "0", "tp": "29000", "wt": "CONTRACT_PRICE", "R": True}
    up = order_update(algo, "BTCUSDT", True, 60)
    assert isinstance(up, OrderReport) and up.client_id == "b-2-sl-0" and up.status is OrderStatus.ACKNOWLEDGED
    raw = order_update({**algo, "X": "FINISHED", "aq": "0.1", "ap": "29001"}, "BTCUSDT", False, 60)
    assert raw is not None and getattr(raw, "status", None) is AlgoStatus.FINISHED
    assert getattr(raw, "actual_qty", None) == Decimal("0.1")
