"""Mutation testing of the checker on the algo route (Binance's algo service for TP/SL).

The same method as `tests/test_planted_bugs.py` (a bug planted by monkeypatching one part of the
bot or the venue, a small fixed set of runs, caught when a run breaks an invariant), over runs
whose conditional orders go through the venue's algo service (``exchange.conditional_orders =
"algo"``: `SubmitAlgoOrder`, a child market order at trigger). Each bug here lives in code only
the algo route runs, so the legacy runs cannot see it; each test names the invariant that must
catch it and the check that does (at acceptance, the grace period, duplicate exposure, the record
at a clean reconcile, reduce-only fills), so a catch by the end-of-run sweep alone does not count.

The runs: ``workout`` of the legacy suite on the algo route, with an operator who also moves the
bot's stop (on Binance: cancels it and places another of their own), and ``triggers`` (tight TP/SL
that fire often, so algo orders trigger and their children fill; an operator halves the position
between two cycles). Each planted bug also runs on the same scenarios with the legacy route, where
it must break nothing. Against the checker before the algo route was covered (main at 73bf721),
five of these seven passed every invariant and one was caught only by another invariant.

A bot bug on the algo route that the stronger checker found (not planted) is kept at the end as a
regression test with the runs that showed it; the bot is fixed.
"""
from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_planted_bugs import WORKOUT

import sim
import sim.bot.protection as protection
import sim.bot.reconciling as reconciling
from sim.batching import apply_overrides
from sim.bot.cycle import Bot
from sim.core.messages import AlgoOrderReport, SubmitOrder
from sim.core.types import AlgoStatus, OrderRole, OrderStatus
from sim.scenario.loader import parse_scenario
from sim.world.matching import VenueCore


def _algo(data: dict, name: str, events: list[dict]) -> dict:
    out = copy.deepcopy(data)
    out["scenario"]["name"] = name
    out["exchange"] = {**out.get("exchange", {}), "conditional_orders": "algo"}
    out["events"] = list(out.get("events", [])) + events
    return out


WORKOUT_ALGO = _algo(WORKOUT, "workout-algo", [
    {"at": "55m10s", "kind": "move_protective", "which": "sl", "by_pct": -0.005},  # cancel ours, place theirs
])

TRIGGERS = {
    "scenario": {"name": "triggers-algo", "description": "algo TP/SL that fire often", "duration": "3h", "seed": 3},
    "market": {"sigma": 1.0},
    "exchange": {"conditional_orders": "algo"},
    "bot": {"strategy": "scripted", "cycle": "1m",
            "params": {"targets": [{"at": f"{m}m", "side": ("long", "short")[i % 2], "qty": 0.1}
                                   for i, m in enumerate(range(1, 180, 6))]},
            "protective": {"take_profit_pct": 0.001, "stop_loss_pct": 0.001}},  # 9 fire over seed 3
    "events": [{"at": f"{m}m30s", "kind": "external_reduce", "fraction": 0.5} for m in (12, 44, 75, 101, 133)],
}

RUNS = [("workout-algo", WORKOUT_ALGO, 5), ("triggers", TRIGGERS, 3)]


def _broken(tmp_path, runs=RUNS) -> dict[str, list[str]]:
    """Every broken invariant's problems over the runs, by invariant (all runs: a catch names its check)."""
    found: dict[str, list[str]] = {}
    for name, data, seed in runs:
        result = sim.run(parse_scenario(data), seed=seed, out=tmp_path / f"{name}-{seed}", ideal_twin=False,
                         report=False)
        for k, v in result.summary["invariants"].items():
            if v["problems"]:
                found.setdefault(k, []).extend(f"{name} seed {seed}: {p}" for p in v["problems"])
    return found


# -------------------------------------------------------------------------------- the bot
def _algo_tp_sized_to_target(mp: pytest.MonkeyPatch) -> None:
    """On the algo route the bot sizes its take-profit to the strategy's target, not the live position."""
    pure = Bot.send

    def send(self: Bot, role: OrderRole, side, qty: Decimal, **kwargs: Any):
        if role is OrderRole.TAKE_PROFIT and kwargs.get("algo"):
            qty = abs(self.record.state.target_qty or qty)
        return (yield from pure(self, role, side, qty, **kwargs))

    mp.setattr(Bot, "send", send)


def _algo_cancel_patch(kind: str) -> Callable[[pytest.MonkeyPatch], None]:
    """The protection pass's cancel of an algo stop-loss goes wrong (the last pass before stopping is
    left alone, so only a check made during the run can see it)."""
    def plant(mp: pytest.MonkeyPatch) -> None:
        pure = protection.cancel

        def cancel(record, instrument, order, reason, session, algo=False) -> Generator[Any, Any, bool]:
            if algo and order.role is OrderRole.STOP_LOSS:
                if kind == "kept_when_flat" and record.state.position.qty == 0:
                    return False  # "nothing to protect, nothing to do": the stop stays at the venue
                if kind == "forgotten":  # cancel-and-replace that forgot the cancel: only the record says so
                    record.update_order(order, OrderStatus.CANCELLED, session.now, f"{reason} (cancel never sent)")
                    return True
            if algo and kind == "wrong_id_space":  # a legacy CancelOrder: the venue knows no such order
                return (yield from pure(record, instrument, order, reason, session, False))
            return (yield from pure(record, instrument, order, reason, session, algo))

        mp.setattr(protection, "cancel", cancel)

    return plant


def _algo_cancelled_read_as_live(mp: pytest.MonkeyPatch) -> None:
    """Reconcile reads a looked-up algo order that someone else cancelled as still waiting: a stop the
    operator moved (cancelled and placed anew under their own id) is never replaced, and the record
    keeps the old trigger."""
    pure = reconciling.as_report

    def as_report(answer: Any):
        if isinstance(answer, AlgoOrderReport) and answer.status is AlgoStatus.CANCELLED:
            answer = replace(answer, status=AlgoStatus.NEW)
        return pure(answer)

    mp.setattr(reconciling, "as_report", as_report)


def _unlisted_and_kept_when_flat(mp: pytest.MonkeyPatch) -> None:
    """Reconcile never lists the algo service (it looks each TP/SL of its record up instead), and the
    protection pass keeps an algo stop once flat: the misfit is seen through lookups only."""
    pure = reconciling.Reconciler.__init__

    def init(self: reconciling.Reconciler, *args: Any, **kwargs: Any) -> None:
        pure(self, *args, **kwargs)
        self.algo = False  # the listing is skipped; lookups still go by client algo id

    mp.setattr(reconciling.Reconciler, "__init__", init)
    _algo_cancel_patch("kept_when_flat")(mp)


# ------------------------------------------------------------------------------ the venue
def _algo_child_not_reduce_only(mp: pytest.MonkeyPatch) -> None:
    """The algo service sends a triggered order's child without reduce-only and for twice its size:
    a stop-loss firing flips the position (the child's own flag says it may)."""
    pure = VenueCore.submit

    def submit(self: VenueCore, req: SubmitOrder, now: int, source: str, parent=None):
        if parent is not None:
            req = replace(req, qty=req.qty * 2, reduce_only=False)
        return pure(self, req, now, source, parent)

    mp.setattr(VenueCore, "submit", submit)


@dataclass(frozen=True)
class Planted:
    name: str
    plant: Callable[[pytest.MonkeyPatch], None]
    invariant: str
    says: str  # what the problem must say: the check that caught it


PLANTED = [
    Planted("bot_algo_tp_sized_to_target", _algo_tp_sized_to_target, "reduce_only_and_protection",
            "sent when the bot could know a position"),
    Planted("bot_algo_sl_kept_after_close", _algo_cancel_patch("kept_when_flat"), "reduce_only_and_protection",
            "the cycle ended with no cancel sent"),
    Planted("bot_algo_unlisted_sl_kept_after_close", _unlisted_and_kept_when_flat, "reduce_only_and_protection",
            "the cycle ended with no cancel sent"),
    Planted("bot_algo_replace_forgets_cancel", _algo_cancel_patch("forgotten"), "one_live_order_per_intent",
            "two live sl orders"),
    Planted("bot_algo_cancel_in_the_wrong_id_space", _algo_cancel_patch("wrong_id_space"),
            "reduce_only_and_protection", "the cycle ended with no cancel sent"),
    Planted("bot_algo_moved_stop_never_replaced", _algo_cancelled_read_as_live, "record_matches_truth",
            "after a clean reconcile the record's live orders differ"),
    Planted("venue_algo_child_not_reduce_only", _algo_child_not_reduce_only, "reduce_only_and_protection",
            "took the position from"),
]


def test_the_algo_runs_keep_every_invariant_without_a_planted_bug(tmp_path):
    assert _broken(tmp_path) == {}


def _legacy(data: dict) -> dict:
    out = copy.deepcopy(data)
    out["exchange"]["conditional_orders"] = "legacy"
    return out


@pytest.mark.parametrize("bug", PLANTED, ids=[b.name for b in PLANTED])
def test_a_planted_algo_bug_does_not_show_on_the_legacy_route(bug: Planted, monkeypatch, tmp_path):
    """The same runs with TP/SL as ordinary trigger orders: the planted code never runs, nothing breaks
    (so each catch below is the algo route's, not a bug the legacy suite already sees)."""
    bug.plant(monkeypatch)
    assert _broken(tmp_path, [(name, _legacy(data), seed) for name, data, seed in RUNS]) == {}


@pytest.mark.parametrize("bug", PLANTED, ids=[b.name for b in PLANTED])
def test_a_planted_algo_bug_breaks_its_invariant(bug: Planted, monkeypatch, tmp_path):
    bug.plant(monkeypatch)
    found = _broken(tmp_path)
    named = found.get(bug.invariant, [])
    assert any(bug.says in p for p in named), \
        f"planted bug {bug.name!r} ({bug.plant.__doc__ or bug.name}) not caught as {bug.invariant}: {found}"


REGRESSIONS = Path(__file__).resolve().parent / "regressions"
CHAOS = Path(__file__).resolve().parent.parent / "scenarios" / "basics" / "chaos.toml"
LOSSY_ALGO = [("exchange.conditional_orders", "algo"), ("exchange.transport.request_loss_prob", 0.2),
              ("exchange.transport.response_loss_prob", 0.2), ("exchange.transport.timeout", "1s")]


def _known_property_seed0() -> tuple[dict, int]:
    return tomllib.loads((REGRESSIONS / "algo-sl-on-a-straddled-reconcile.toml").read_text()), 0


def _known_lossy_chaos_seed78() -> tuple[dict, int]:
    return apply_overrides(tomllib.loads(CHAOS.read_text()), LOSSY_ALGO), 78


@pytest.mark.parametrize("known", [_known_property_seed0, _known_lossy_chaos_seed78], ids=["property-seed0",
                                                                                         "lossy-chaos-seed78"])
def test_a_stop_is_never_sized_on_a_position_read_older_than_the_stop_fill_its_lookup_saw(known, tmp_path):
    """Was a bot bug (the reconcile's lookup saw the stop filled after its position read, and the bot sent a
    new stop for the old size on a flat position); fixed in sim/bot/reconciling.py."""
    data, seed = known()
    result = sim.run(parse_scenario(data), seed=seed, out=tmp_path / "r", ideal_twin=False, report=False)
    verdict = result.summary["invariants"]["reduce_only_and_protection"]
    assert verdict["held"], verdict["problems"]
