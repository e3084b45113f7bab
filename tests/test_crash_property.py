"""Invariant 7: a crash at any request boundary, then a restart from the record alone, converges to
the truth by the next reconcile, with no fill missing from the record and no duplicate order.

The crash is placed at the k-th request the bot makes (not at a random time, when the bot almost
always sleeps), in each mode: ``now`` (the bot dies before the k-th request leaves, losing what it
had not committed), ``after_submit`` (the next order is sent, then the bot dies before any answer)
and ``after_fill`` (the next filled order's answer is recorded, then the bot dies). The restarted
bot's first completed reconcile must leave the record equal to the venue as of that reconcile's
snapshot: the same position, and every fill up to then in the record.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
import sim.bot.reconciling as reconciling_module
from sim.bot.reconciling import Reconciler
from sim.runner import _simulate
from sim.scenario.loader import parse_scenario
from sim.world.build import build_world
from sim.world.driver import Crash, _Crashed
from sim.world.invariants import check_all


def crash_scenario(seed: int, flip: str) -> sim.Scenario:
    return parse_scenario({
        "scenario": {"name": "crash-property", "description": "crash at a request boundary", "duration": "30m",
                     "seed": seed},
        "market": {"sigma": 1.2},
        "bot": {"strategy": "ma_crossover", "params": {"fast": 2, "slow": 5, "qty": 0.1, "interval": "1m"},
                "protective": {"take_profit_pct": 0.003, "stop_loss_pct": 0.003},
                "execution": {"flip": flip}},
    })


def crash_at_request(world, k: int, point: str, restart_ms: int) -> None:
    """Crash the first bot at its k-th request boundary (the restarted bot replaces this hook)."""
    driver, seen = world.driver, [0]

    def boundary(request) -> None:
        seen[0] += 1
        if seen[0] == k:
            crash = Crash(point, restart_ms)
            if point == "now":
                raise _Crashed(crash)  # before the request leaves (the bot committed only if it acts)
            driver.armed = crash

    driver.on_request = boundary


@pytest.fixture
def first_reconcile_after_restart(monkeypatch):
    """Record, for the restarted bot's first completed reconcile, the record and the venue as of its
    position snapshot: (record position, venue position then, venue trade ids then, record trade ids)."""
    snapshots: list[int] = []
    checks: list[tuple] = []
    pure = reconciling_module.reconcile

    def reconcile_seeing_the_snapshot(state, positions, *args, **kwargs):
        snapshots.append(positions.ts)
        return pure(state, positions, *args, **kwargs)

    monkeypatch.setattr(reconciling_module, "reconcile", reconcile_seeing_the_snapshot)
    original = Reconciler.reconcile
    state = {"world": None}

    def reconcile(self):
        after_restart = self.restarted
        result = yield from original(self)
        if after_restart and result is not None and not checks:
            world, asof = state["world"], snapshots[-1]
            venue_fills = [f for f in world.venue.fills if f.ts <= asof]
            venue_qty = sum((f.qty * f.side.sign for f in venue_fills), Decimal(0))
            recorded = {r[0] for r in self.record.conn.execute("SELECT trade_id FROM fills")}
            checks.append((self.record.state.position.qty, venue_qty, {f.trade_id for f in venue_fills}, recorded))
        return result

    monkeypatch.setattr(Reconciler, "reconcile", reconcile)
    return state, checks


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), k=st.integers(1, 150), point=st.sampled_from(["now", "after_submit", "after_fill"]),
       restart_s=st.integers(1, 120), flip=st.sampled_from(["single", "close_then_open"]))
def test_a_crash_at_any_request_boundary_converges_at_the_first_reconcile_with_no_fill_missing_or_doubled(
        tmp_path, first_reconcile_after_restart, seed, k, point, restart_s, flip):
    state, checks = first_reconcile_after_restart
    checks.clear()
    record_path = tmp_path / f"r{seed}-{k}-{point}-{restart_s}-{flip}.sqlite"
    world = build_world(crash_scenario(seed, flip), seed, record_path)
    state["world"] = world
    crash_at_request(world, k, point, restart_s * 1000)
    stopped, error = _simulate(world)
    assert error is None, error
    if world.driver.crashes:
        assert checks, "the restarted bot never completed a reconcile"
        record_qty, venue_qty, venue_trades, recorded = checks[0]
        assert record_qty == venue_qty, f"after the restart's first reconcile: record {record_qty} vs venue {venue_qty}"
        assert venue_trades <= recorded, f"fills missing after the restart: {sorted(venue_trades - recorded)}"
    assert world.truth.duplicates == 0
    assert world.record.state.position.qty == world.venue.book.qty
    problems = check_all(world, record_path)
    world.record.close()
    assert not problems["no_fill_missing"] and not problems["one_live_order_per_intent"], problems
