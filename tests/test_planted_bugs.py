"""Mutation testing of the checker: each planted bug must break an invariant (DESIGN.md section 8).

A bug is planted by monkeypatching one part of the bot or the venue (never by editing product
code), then a small fixed set of runs goes through `sim.run`; the bug counts as caught when any
run's ``summary["invariants"]`` reports a problem. The same runs without a planted bug keep every
invariant (`test_the_runs_keep_every_invariant_without_a_planted_bug`), so a catch is the bug's
doing, not noise. The strength of the checker is measured here, not assumed: a new invariant
earns its place by catching a planted bug the others miss (README, "Invariants").

The runs: ``workout`` (scripted targets, protection, pushed updates off, and an operator who
reduces, adds, closes, trades reduce-only and moves margin, with funding every 30 minutes) and
``lossy`` (the same bot over a transport that loses a quarter of the answers, two seeds).
"""
from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

import sim
import sim.bot.acting as acting
import sim.bot.cycle as cycle
import sim.bot.protection as protection
import sim.bot.reconciling as reconciling
import sim.bot.refusals as refusals
import sim.world.exchange as exchange
from sim.bot.cycle import Bot
from sim.core.errors import RequestTimeout
from sim.core.ids import parse_client_id
from sim.core.messages import SubmitOrder
from sim.core.types import OrderRole, OrderStatus, Side
from sim.scenario.loader import parse_scenario
from sim.world.accounting import PositionBook
from sim.world.exchange import SimExchange

WORKOUT = {
    "scenario": {"name": "workout", "description": "an operator at work on the bot's account", "duration": "2h",
                 "seed": 5},
    "market": {"sigma": 0.6},
    "exchange": {"funding_interval": "30m", "funding_rate": 0.0005, "updates": {"enabled": False}},
    "bot": {"strategy": "scripted", "cycle": "1m", "max_position": "0.25",
            "params": {"targets": [{"at": "1m", "side": "long", "qty": 0.1}, {"at": "15m", "side": "short", "qty": 0.1},
                                   {"at": "28m", "side": "long", "qty": 0.2}, {"at": "50m", "side": "long", "qty": 0.3},
                                   {"at": "70m", "side": "long", "qty": 0.1}]},
            "protective": {"take_profit_pct": 0.02, "stop_loss_pct": 0.02}},
    "events": [
        {"at": "10m10s", "kind": "external_reduce", "fraction": 0.5},
        {"at": "10m20s", "kind": "price_gap", "pct": 0.004},
        {"at": "10m30s", "kind": "external_add", "qty": "0.05"},  # same size, another entry: an entry gap
        {"at": "20m", "kind": "transfer_in", "amount": 1000.0},
        {"at": "35m", "kind": "transfer_out", "amount": 500.0},
        {"at": "40m", "kind": "external_order", "side": "sell", "qty": "0.3", "reduce_only": True},
        {"at": "44m", "kind": "external_add", "qty": "0.2"},
        {"at": "75m10s", "kind": "external_add", "qty": "0.05"},
        {"at": "85m10s", "kind": "external_reduce", "fraction": 0.5},  # protection now larger than the position
        {"at": "99m30s", "kind": "external_close"},  # protection orphaned; the strategy does not re-enter
    ],
}

LOSSY = {
    "scenario": {"name": "lossy", "description": "a quarter of the answers lost", "duration": "1h", "seed": 1},
    "market": {"sigma": 0.6},
    "exchange": {"transport": {"timeout": "1s", "response_loss_prob": 0.25, "request_loss_prob": 0.05}},
    "bot": {"strategy": "scripted", "cycle": "30s",
            "params": {"targets": [{"at": f"{m}m", "side": side, "qty": qty} for m, side, qty in
                                   [(1, "long", 0.1), (6, "short", 0.1), (11, "flat", 0), (16, "long", 0.2),
                                    (21, "short", 0.1), (26, "long", 0.1), (31, "flat", 0), (36, "short", 0.2),
                                    (41, "long", 0.1), (46, "short", 0.1), (51, "flat", 0)]]},
            "protective": {"take_profit_pct": 0.02, "stop_loss_pct": 0.02}},
}

RUNS = [("workout", WORKOUT, 5), ("lossy", LOSSY, 1), ("lossy", LOSSY, 2)]


def _problems(tmp_path, runs=RUNS) -> dict[str, list[str]]:
    """Every invariant problem of the runs, by run; stops at the first run that breaks one."""
    found: dict[str, list[str]] = {}
    for name, data, seed in runs:
        result = sim.run(parse_scenario(data), seed=seed, out=tmp_path / f"{name}-{seed}", ideal_twin=False,
                         report=False)
        problems = [f"{k}: {p}" for k, v in result.summary["invariants"].items() for p in v["problems"]]
        if problems:
            found[f"{name} seed {seed}"] = problems
            break
    return found


# ------------------------------------------------------------------------------ the venue
def _realized_x1_5(mp: pytest.MonkeyPatch) -> None:
    """The venue books realized PnL x1.5 (in the wallet and in its realized-PnL total alike)."""
    pure = PositionBook.apply_fill

    def apply_fill(self: PositionBook, signed_qty: Decimal, price: float, fee: float) -> float:
        realized = pure(self, signed_qty, price, fee)
        self.realized_pnl += 0.5 * realized
        self.wallet += 0.5 * realized
        return 1.5 * realized

    mp.setattr(PositionBook, "apply_fill", apply_fill)


def _fees_doubled(mp: pytest.MonkeyPatch) -> None:
    """The venue charges every fee twice (its fee total agrees; the fill reports the fee once)."""
    pure = PositionBook.apply_fill
    mp.setattr(PositionBook, "apply_fill", lambda self, q, price, fee: pure(self, q, price, 2 * fee))


def _funding_wrong_sign(mp: pytest.MonkeyPatch) -> None:
    """Funding flows the wrong way (longs receive when the rate is positive)."""
    mp.setattr(exchange, "funding_payment", lambda qty, mark, rate: qty * mark * rate)


def _transfer_doubled(mp: pytest.MonkeyPatch) -> None:
    """A transfer moves twice the amount in the venue's books (it says it moved the amount)."""
    pure = SimExchange.transfer

    def transfer(self: SimExchange, amount: float, now: int) -> float:
        moved = pure(self, amount, now)
        self.book.wallet += moved
        self.book.transfers += moved
        return moved

    mp.setattr(SimExchange, "transfer", transfer)


def _external_fill_booked_twice(mp: pytest.MonkeyPatch) -> None:
    """The venue books another system's fill twice in the position (the fill is reported once)."""
    pure = SimExchange._fill

    def fill(self: SimExchange, order, qty, price, now, kind, side=None, fee_rate=None):
        report = pure(self, order, qty, price, now, kind, side, fee_rate)
        if order is not None and order.source == "external":
            self.book.qty += qty * report.side.sign
        return report

    mp.setattr(SimExchange, "_fill", fill)


def _reduce_only_flips(mp: pytest.MonkeyPatch) -> None:
    """A reduce-only order may trade more than the position: it flips it (+0.2 -> -0.1)."""
    def reducible(self: SimExchange, order, qty: Decimal) -> Decimal:
        pos = self.book.qty
        if order.reduce_only and (pos == 0 or (pos > 0) == (order.side is Side.BUY)):
            return Decimal(0)
        return qty

    mp.setattr(SimExchange, "_reducible", reducible)


def _cancel_not_done(mp: pytest.MonkeyPatch) -> None:
    """The venue acknowledges a cancel of a protective order without cancelling it."""
    pure = SimExchange.cancel

    def cancel(self: SimExchange, cid, now: int):
        order = self.orders.get(cid)
        parsed = parse_client_id(cid)
        if order is not None and order.status.is_open and parsed is not None and \
                parsed.role in (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS):
            return _Reported(order.report(now))
        return pure(self, cid, now)

    mp.setattr(SimExchange, "cancel", cancel)


@dataclass
class _Reported:
    """A venue order whose report says cancelled (while the venue keeps it live)."""

    _report: Any

    def report(self, ts: int) -> Any:
        from dataclasses import replace

        return replace(self._report, status=OrderStatus.CANCELLED, ts=ts)


# -------------------------------------------------------------------------------- the bot
def _stale_protection_kept(mp: pytest.MonkeyPatch) -> None:
    """The protection pass never cancels a TP/SL that no longer fits (orphaned, too large)."""
    def cancel(*args: Any, **kwargs: Any) -> Generator[Any, Any, bool]:
        return False
        yield  # a generator, like the real one

    mp.setattr(protection, "cancel", cancel)  # the protection pass and the last pass before stopping
    mp.setattr(cycle, "cancel", cancel)


def _blind_retry(new_intent: bool) -> Callable[[pytest.MonkeyPatch], None]:
    def plant(mp: pytest.MonkeyPatch) -> None:
        pure = refusals.submit

        def submit(record, instrument, role, side, qty, *, intent=None, attempt=0, **kwargs):
            gen = pure(record, instrument, role, side, qty, intent=intent, attempt=attempt, **kwargs)
            reply: Any = None
            while True:
                try:
                    request = gen.send(reply)
                except StopIteration as stop:
                    return stop.value
                reply = yield request  # a Reply: the venue's answer or its error, and when it came
                if isinstance(reply.answer, RequestTimeout) and isinstance(request, SubmitOrder):
                    gen.close()  # no answer: just send it again
                    again = dict(intent=None, attempt=0) if new_intent else \
                        dict(intent=parse_client_id(request.client_id).intent, attempt=attempt + 1)
                    return (yield from pure(record, instrument, role, side, qty, **again, **kwargs))

        mp.setattr(refusals, "submit", submit)

    plant.__doc__ = ("A submit that timed out is sent again at once under a new intent (a blind retry)"
                     if new_intent else "A submit that timed out is sent again at once as the same intent's "
                                        "next attempt, without asking the venue")
    return plant


def _reconcile_patch(change: Callable[[Any, Any], None]) -> Callable[[pytest.MonkeyPatch], None]:
    def plant(mp: pytest.MonkeyPatch) -> None:
        pure = reconciling.reconcile

        def reconcile(state, *args: Any, **kwargs: Any):
            result = pure(state, *args, **kwargs)
            change(state, result)
            return result

        mp.setattr(reconciling, "reconcile", reconcile)

    return plant


def _never_corrects_entry(state: Any, result: Any) -> None:
    if result.position is not None and result.position[0] == state.position.qty:
        result.position = None
        result.findings = [f for f in result.findings if f.kind != "entry_gap"]


def _never_corrects_position(state: Any, result: Any) -> None:
    result.position = None


def _drops_others_fills(state: Any, result: Any) -> None:
    result.new_fills = [(f, c) for f, c in result.new_fills if parse_client_id(f.client_id) is not None]


def _ignores_max_position(mp: pytest.MonkeyPatch) -> None:
    """The bot's exposure cap does nothing (max_position and max_leverage ignored)."""
    mp.setattr(acting, "cap_exposure", lambda signed, **kwargs: (signed, ""))


def _protection_sized(factor: str) -> Callable[[pytest.MonkeyPatch], None]:
    def plant(mp: pytest.MonkeyPatch) -> None:
        pure = Bot.send

        def send(self: Bot, role: OrderRole, side: Side, qty: Decimal, **kwargs: Any):
            if role in (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS):
                qty = qty * 2 if factor == "double" else abs(self.record.state.target_qty or qty)
            return (yield from pure(self, role, side, qty, **kwargs))

        mp.setattr(Bot, "send", send)

    plant.__doc__ = "Protection sized twice the position" if factor == "double" else \
        "Protection sized to the strategy's target instead of the live position"
    return plant


@dataclass(frozen=True)
class Planted:
    name: str
    plant: Callable[[pytest.MonkeyPatch], None]
    what: str


PLANTED = [
    Planted("venue_realized_pnl_x1_5", _realized_x1_5, "venue books realized PnL x1.5"),
    Planted("venue_fees_doubled", _fees_doubled, "venue charges each fee twice"),
    Planted("venue_funding_wrong_sign", _funding_wrong_sign, "funding flows the wrong way"),
    Planted("venue_transfer_doubled", _transfer_doubled, "a transfer moves twice the amount"),
    Planted("venue_external_fill_booked_twice", _external_fill_booked_twice, "position != signed sum of fills"),
    Planted("venue_reduce_only_flips", _reduce_only_flips, "a reduce-only fill flips the position"),
    Planted("venue_cancel_not_done", _cancel_not_done, "a protective cancel acknowledged, not done"),
    Planted("bot_stale_protection_kept", _stale_protection_kept, "stale TP/SL never cancelled during the run"),
    Planted("bot_blind_retry_new_intent", _blind_retry(True), "blind retry under a new intent"),
    Planted("bot_blind_retry_same_intent", _blind_retry(False), "blind retry as the same intent's next attempt"),
    Planted("bot_reconcile_never_corrects_entry", _reconcile_patch(_never_corrects_entry),
            "reconcile never corrects the entry"),
    Planted("bot_reconcile_never_corrects_position", _reconcile_patch(_never_corrects_position),
            "reconcile never corrects the position"),
    Planted("bot_reconcile_drops_others_fills", _reconcile_patch(_drops_others_fills),
            "reconcile never records other systems' fills"),
    Planted("bot_ignores_max_position", _ignores_max_position, "max_position ignored"),
    Planted("bot_protection_double", _protection_sized("double"), "protection twice the position"),
    Planted("bot_protection_from_target", _protection_sized("target"), "protection sized to the target"),
]


def test_the_runs_keep_every_invariant_without_a_planted_bug(tmp_path):
    assert _problems(tmp_path, RUNS) == {}


@pytest.mark.parametrize("bug", PLANTED, ids=[b.name for b in PLANTED])
def test_a_planted_bug_breaks_an_invariant(bug: Planted, monkeypatch, tmp_path):
    bug.plant(monkeypatch)
    found = _problems(tmp_path)
    assert found, f"planted bug {bug.name!r} ({bug.what}) passed every invariant over {len(RUNS)} runs"
