"""The watch's rules for protective orders (sim/world/watch.py), on hand-made request/answer streams.

Issue 15 bug 3: protection larger than the position after an operator's change. The invariant
tolerates the change the bot could not know (it landed after the bot's last position read, while
the bot acted or while its order was on the wire) and flags the one it could have known (its read
had gone stale: a request of the bot timed out, or it slept, before it sent the order). Chaos
seeds 2802, 3670, 4804, 8789 and 8895 are of the first kind, seed 3050 of the second (its SL went
out after a timed-out TP submit, 2.3 s after the operator's reduce, without a fresh read).
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

import sim
from sim.core.errors import RequestTimeout
from sim.core.messages import (
    AlgoOrderReport,
    FetchPositions,
    FillReport,
    PositionReport,
    PositionsReport,
    Sleep,
    SubmitAlgoOrder,
    SubmitOrder,
)
from sim.core.types import AlgoOrderId, AlgoStatus, FillKind, OrderRole, OrderType, Side, TradeId, TriggerBy
from sim.world.ledger import Ledger
from sim.world.watch import Watch

D = Decimal
CHAOS = Path(__file__).resolve().parent.parent / "scenarios" / "basics" / "chaos.toml"


def _world(qty: str) -> SimpleNamespace:
    venue = SimpleNamespace(fills=[], book=SimpleNamespace(qty=D(qty)), resting=[], orders={})
    return SimpleNamespace(exchange=venue, record=None, ledger=Ledger(), entry_tolerance_bps=1.0, venue_changes=0)


def _fill(truth: SimpleNamespace, cid: str | None, side: Side, qty: str, ts: int) -> None:
    f = FillReport(TradeId(f"T{len(truth.exchange.fills) + 1}"), "BTCUSDT", None, cid, side, D(qty), D(30000), 0.0,
                   FillKind.TRADE, ts)
    truth.exchange.fills.append(f)
    truth.exchange.book.qty += D(qty) * side.sign
    truth.ledger.add(f)


def _read(watch: Watch, qty: str, ts: int) -> None:
    watch.request(ts, FetchPositions("BTCUSDT"))
    watch.received(ts, PositionsReport(ts, (PositionReport("BTCUSDT", D(qty), D(30000), ts),)), None)


def _tp(watch: Watch, truth: SimpleNamespace, qty: str, ts: int) -> None:
    """The bot sends a take-profit (sell) of ``qty``; it is accepted as the venue stands then."""
    req = SubmitOrder("BTCUSDT", "ae-9-tp-0", Side.SELL, OrderType.TAKE_PROFIT_MARKET, D(qty), None, D(31000),
                      reduce_only=True)
    watch.request(ts, req)
    watch.before_submit(req)
    order = SimpleNamespace(client_id=req.client_id, side=Side.SELL, remaining=D(qty))
    watch.accepted(ts + 50, order, OrderRole.TAKE_PROFIT)


def test_an_operator_reduce_after_the_bots_read_is_tolerated_at_acceptance():
    truth = _world("0.1")
    watch = Watch(truth)
    _read(watch, "0.1", 1_000)
    _fill(truth, "ext-1", Side.SELL, "0.05", 1_020)  # the operator, after the read
    _tp(watch, truth, "0.1", 1_030)
    assert watch.protection_problems.count == 0


def test_the_bots_own_entry_since_its_read_counts_as_known():
    truth = _world("0")
    watch = Watch(truth)
    _read(watch, "0", 1_000)
    _fill(truth, "ae-8-en-0", Side.BUY, "0.1", 1_010)  # its own entry, answered to it
    _tp(watch, truth, "0.1", 1_030)
    assert watch.protection_problems.count == 0


@pytest.mark.parametrize("silence", ["timeout", "back-off"])
def test_a_read_gone_stale_makes_the_operators_earlier_change_knowable(silence):
    truth = _world("0.1")
    watch = Watch(truth)
    _read(watch, "0.1", 1_000)
    _fill(truth, "ext-1", Side.SELL, "0.05", 2_000)  # the operator reduces
    if silence == "timeout":
        watch.request(2_100, SubmitOrder("BTCUSDT", "ae-8-sl-0", Side.SELL, OrderType.STOP_MARKET, D("0.1")))
        watch.received(3_100, None, RequestTimeout("no answer", 3_100))
    else:
        watch.request(2_100, Sleep(3_100))
    _tp(watch, truth, "0.1", 3_200)  # sized on the read of t=1000, sent 1.2 s after the reduce
    assert watch.protection_problems.count == 1
    assert "could know a position of 0.05" in watch.protection_problems.items[0]


def test_protection_sized_past_what_the_bot_read_is_flagged():
    truth = _world("0.1")
    watch = Watch(truth)
    _read(watch, "0.1", 1_000)
    _tp(watch, truth, "0.2", 1_030)
    assert watch.protection_problems.count == 1


@pytest.mark.parametrize("seed", [2802, 3670, 4804, 8789, 8895])
def test_chaos_seeds_where_the_operator_lands_within_the_bots_latency_window_keep_the_invariant(seed, tmp_path):
    result = sim.run(sim.load_scenario(CHAOS), seed=seed, out=tmp_path / "r", ideal_twin=False, report=False)
    assert result.summary["invariants"]["reduce_only_and_protection"]["held"], \
        result.summary["invariants"]["reduce_only_and_protection"]["problems"]


def test_a_protective_algo_order_left_on_a_flat_position_breaks_the_invariant(tmp_path):
    """The venue's algo service holds conditional orders apart from its resting orders: an orphan
    there is an orphan too."""
    from sim.core.messages import SubmitAlgoOrder
    from sim.runner import _simulate
    from sim.scenario.loader import parse_scenario
    from sim.world.build import build_world
    from sim.world.invariants import reduce_only_and_protection

    sc = parse_scenario({"scenario": {"name": "flat", "description": "no trading", "duration": "10m", "seed": 1},
                         "bot": {"strategy": "scripted", "params": {"targets": []}}})
    world = build_world(sc, 1, tmp_path / "record.sqlite")
    _simulate(world)
    assert world.venue.book.qty == 0 and reduce_only_and_protection(world) == []
    mid = world.venue.path.mid_at(world.end_ms)
    world.venue.handle(SubmitAlgoOrder("BTCUSDT", "ae-1-tp-0", Side.SELL, OrderType.TAKE_PROFIT_MARKET,
                                       D(str(round(mid * 1.05))), D("0.1")), world.end_ms)
    world.record.close()
    assert any("ae-1-tp-0 live on a flat position" in p for p in reduce_only_and_protection(world))


# ------------------------------------------------------------------------------ the algo route
def _algo_world(qty: str) -> SimpleNamespace:
    truth = _world(qty)
    truth.exchange.algo = SimpleNamespace(armed=[], registry=SimpleNamespace(by_client={}))
    return truth


def _algo(watch: Watch, truth: SimpleNamespace, cid: str, qty: str | None, sent: int, arrives: int,
          side: Side = Side.SELL) -> None:
    """The bot sends an algo stop (``qty`` None: closePosition); the algo service accepts it at ``arrives``."""
    size = None if qty is None else D(qty)
    req = SubmitAlgoOrder("BTCUSDT", cid, side, OrderType.STOP_MARKET, D(29000), size, close_position=size is None,
                          reduce_only=size is not None)
    watch.request(sent, req)
    held = SimpleNamespace(client_algo_id=cid, side=side, qty=size, close_position=size is None,
                           status=AlgoStatus.NEW, child=None, is_open=True)
    report = AlgoOrderReport("BTCUSDT", cid, AlgoOrderId(f"A{cid}"), side, OrderType.STOP_MARKET, size, D(29000),
                             TriggerBy.LAST, size is not None, size is None, AlgoStatus.NEW, None, None,
                             arrives, arrives, None, "", D(0), None)
    watch.algo_accepted(arrives, report)
    truth.exchange.algo.armed.append(held)
    truth.exchange.algo.registry.by_client[cid] = held


def test_an_algo_order_is_judged_on_the_position_when_it_was_sent_not_when_it_arrived():
    """Its read gone stale, the bot sends a stop for 0.1 after the operator halved the position; the
    operator adds back before the order arrives. The venue's position at acceptance fits; the one
    the bot could know when it sent the order (the checker's ledger at that instant) did not."""
    truth = _algo_world("0")
    watch = Watch(truth)
    _fill(truth, "ae-1-en-0", Side.BUY, "0.1", 500)
    _read(watch, "0.1", 1_000)
    _fill(truth, "ext-1", Side.SELL, "0.05", 2_000)
    watch.request(2_100, Sleep(3_000))  # a back-off: the read is stale
    _fill(truth, "ext-2", Side.BUY, "0.05", 3_020)  # while the order is on the wire
    assert truth.exchange.book.qty == D("0.1")
    _algo(watch, truth, "ae-2-sl-0", "0.1", sent=3_000, arrives=3_050)
    assert watch.protection_problems.count == 1
    assert "algo protective ae-2-sl-0 (sell 0.1) sent when the bot could know a position of 0.05" in \
        watch.protection_problems.items[0]


def test_a_close_position_algo_order_fits_any_position_on_the_other_side_and_none_when_flat():
    truth = _algo_world("0")
    watch = Watch(truth)
    _read(watch, "0", 1_000)
    _fill(truth, "ae-1-en-0", Side.BUY, "0.3", 1_010)  # its own entry: known
    _algo(watch, truth, "ae-2-sl-0", None, sent=1_020, arrives=1_070)
    assert watch.protection_problems.count == 0
    _read(watch, "0.3", 2_000)
    _fill(truth, "ae-3-ex-0", Side.SELL, "0.3", 2_010)  # its own exit: flat, and it knows it
    _algo(watch, truth, "ae-4-tp-0", None, sent=2_020, arrives=2_070)
    assert watch.protection_problems.count == 1
    assert "(sell closePosition) sent when the bot could know a position of 0" in watch.protection_problems.items[0]


def test_a_second_live_algo_stop_is_duplicate_exposure_whatever_its_intent():
    truth = _algo_world("0.1")
    watch = Watch(truth)
    _read(watch, "0.1", 1_000)
    _algo(watch, truth, "ae-2-sl-0", "0.1", sent=1_010, arrives=1_060)
    _algo(watch, truth, "ae-5-sl-0", "0.1", sent=1_100, arrives=1_150)  # a replacement, the old never cancelled
    assert watch.duplicate_problems.count == 1
    assert "ae-5-sl-0 live beside ae-2-sl-0 (algo sell 0.1), two live sl orders" in watch.duplicate_problems.items[0]
    truth.exchange.algo.registry.by_client["ae-2-sl-0"].status = AlgoStatus.CANCELLED
    truth.exchange.algo.armed.pop(0)
    _algo(watch, truth, "ae-6-tp-0", "0.1", sent=1_200, arrives=1_250)
    assert watch.duplicate_problems.count == 1
