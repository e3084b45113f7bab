"""`aethersim live` against `aethersim serve` with protection: TP/SL as Binance algo orders.

The bot goes long and protects the position; a price gap fires the take-profit between two cycles
(its child market order closes the position); the bot must see the close as the TP's, withdraw
the stop-loss, and later find and protect a position an operator adds; Ctrl-C then stops it. Bounded: about 40 s.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

import sim
from sim.bot.record import PlatformRecord
from sim.serve import ServeServer
from sim.serve.binance import trade_id
from sim.world.invariants import (
    conservation,
    exposure_limits,
    one_live_order_per_intent,
    record_matches_truth,
    reduce_only_and_protection,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


async def _scenario(tmp: Path) -> dict:
    sc = sim.load_scenario(HERE / "live-protect.toml")
    srv = ServeServer(sc, host="127.0.0.1", port=0)
    await srv.start()
    out = tmp / "run"
    env = dict(os.environ, AETHERSIM_API_KEY=srv.api_key.key, AETHERSIM_API_SECRET=srv.api_key.secret,
               AETHERSIM_OPERATOR_TOKEN=srv.operator_token)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sim", "live", str(HERE / "live-protect.toml"), "--venue", srv.base_url,
            "--duration", "120s", "--out", str(out), cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        world = srv.ctx.world
        for _ in range(400):  # the TP fired: flat again after the gap
            if any(f.client_id and f.client_id.startswith("algo-") for f in world.venue.fills):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(4.0)
        async with aiohttp.ClientSession() as s, s.post(
                srv.base_url + "/operator/event", json={"kind": "external_add", "qty": "0.05"},
                headers={"Authorization": f"Bearer {srv.operator_token}"}) as r:
            assert r.status == 200, await r.text()
        await asyncio.sleep(8.0)  # the bot finds the add and protects it
        proc.send_signal(signal.SIGINT)  # Ctrl-C: stop at the next sleep, settle, write the run directory
        stdout, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, stdout.decode()
        return {"sc": sc, "world": world, "out": out, "stdout": stdout.decode(), "wall": srv.ctx.clock.wall_ms}
    finally:
        await srv.stop()


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return asyncio.run(asyncio.wait_for(_scenario(tmp_path_factory.mktemp("live-protect")), 240))


def test_protection_went_through_the_algo_service_and_the_tp_fired(e2e: dict) -> None:
    w = e2e["world"]
    children = [f for f in w.venue.fills if f.client_id and f.client_id.startswith("algo-")]
    assert children, ("no conditional order triggered: the gap did not fire the TP", e2e["stdout"][-2000:])
    with sqlite3.connect(e2e["out"] / "record.sqlite") as conn:
        roles = dict(conn.execute("SELECT client_id, role FROM orders").fetchall())
        causes = [c for (c,) in conn.execute("SELECT cause FROM drift_episodes")]
    assert "tp" in roles.values() and "sl" in roles.values()
    with sqlite3.connect(e2e["out"] / "record.sqlite") as conn:
        booked = conn.execute("SELECT client_id, qty, ts, attributed_to FROM fills").fetchall()
    # the close was attributed to our TP through its child order
    assert "take_profit_fill" in causes, (causes, booked, e2e["stdout"][-2000:])


def test_invariants_and_record_equals_venue(e2e: dict) -> None:
    record = PlatformRecord.open(e2e["out"] / "record.sqlite", "BTCUSDT", e2e["sc"].bot.bot_id)
    w = e2e["world"]
    view = SimpleNamespace(venue=w.venue, truth=w.truth, log=w.log, scenario=e2e["sc"], record=record)
    try:
        assert conservation(view) == []
        assert record_matches_truth(view) == []
        assert one_live_order_per_intent(view, e2e["out"] / "record.sqlite") == []
        assert reduce_only_and_protection(view) == []  # nothing protective left beyond the position
        assert exposure_limits(view) == []
    finally:
        record.close()
    with sqlite3.connect(e2e["out"] / "record.sqlite") as conn:
        recorded = {r[0] for r in conn.execute("SELECT trade_id FROM fills")}
    assert {str(trade_id(f.trade_id)) for f in e2e["world"].venue.fills} <= recorded


def test_the_operators_add_was_found_and_protected(e2e: dict) -> None:
    s = json.loads((e2e["out"] / "summary.json").read_text())
    brief = {k: s[k] for k in ("drift", "final", "duplicates", "stale_actions", "unintended_exposure")}
    assert s["drift"]["by_cause"].get("external_change", 0) >= 1, brief
    assert s["final"]["record_position"] == s["final"]["exchange_position"] == 0.05, brief
    assert s["duplicates"] == 0 and s["unintended_exposure"] == 0, brief
    # an order sent while the record lagged the venue: only when the operator's add raced the bot's own
    # protection pass (the add comes at a wall-clock moment, not between two cycles): at most that one
    assert s["stale_actions"] <= 1, brief
    venue = e2e["world"].venue
    assert [o.client_id for o in venue.resting] == []
    protection = venue.algo.open_orders()
    assert sorted(a.client_algo_id.split("-")[2] for a in protection) == ["sl", "tp"]  # the added 0.05, protected
    assert all(a.qty is None or a.qty <= Decimal("0.05") for a in protection)


def test_ctrl_c_stopped_it_cleanly(e2e: dict) -> None:
    s = json.loads((e2e["out"] / "summary.json").read_text())
    assert s["live"]["stopped_by"] == "SIGINT" and "stopped" not in s
    assert (e2e["out"] / "report.html").is_file()
