"""`aethersim live` against `aethersim serve`, end to end over loopback HTTP and WebSocket.

The server runs in this process (so the test can read the venue's ground truth afterwards); the
bot runs as the real command in a subprocess, is killed with SIGKILL mid-run (a crash: no settle,
no clean exit), and is started again on the same run directory. The served scenario
(``live-faults.toml``) loses answers (503 unknown status), has an outage and lost pushed updates;
the test reduces the position through the operator endpoint once the bot holds one, and closes it
while the bot is down. Bounded: about a minute of wall time, every wait under a hard timeout.
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


async def _operator(srv: ServeServer, body: dict) -> dict:
    async with aiohttp.ClientSession() as s, s.post(srv.base_url + "/operator/event", json=body,
                                                     headers={"Authorization": f"Bearer {srv.operator_token}"}) as r:
        assert r.status == 200, await r.text()
        return await r.json()


_PIDS: dict[Path, int] = {}


def _pid(out: Path) -> int:
    return _PIDS[out]


async def _live(srv: ServeServer, out: Path, duration: str) -> tuple[int, str]:
    env = dict(os.environ, AETHERSIM_API_KEY=srv.api_key.key, AETHERSIM_API_SECRET=srv.api_key.secret,
               AETHERSIM_OPERATOR_TOKEN=srv.operator_token)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sim", "live", str(HERE / "live-faults.toml"), "--venue", srv.base_url,
        "--duration", duration, "--out", str(out), cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    _PIDS[out] = proc.pid
    try:
        stdout, _ = await asyncio.wait_for(proc.communicate(), 120)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return proc.returncode or 0, stdout.decode()


def _lose_the_first_order_answer(srv: ServeServer) -> None:
    """The venue takes the bot's first order and the answer is lost (a 503 unknown status), through
    the server's own fault switch, so the unknown-status path is met on an order for certain."""
    link = srv.ctx.link
    real = link.call
    done = []

    async def call(action: object, label: str) -> object:
        if label == "order" and not done:
            done.append(label)
            link.lose_responses += 1
        return await real(action, label)

    link.call = call


async def _scenario(tmp: Path) -> dict:
    sc = sim.load_scenario(HERE / "live-faults.toml")
    srv = ServeServer(sc, host="127.0.0.1", port=0)
    await srv.start()
    _lose_the_first_order_answer(srv)
    try:
        out = tmp / "run"
        first_run = asyncio.create_task(_live(srv, out, "90s"))
        book = srv.ctx.world.venue.book
        for _ in range(300):  # the bot's first position (a few seconds, more on a loaded machine)
            if book.qty != 0 or first_run.done():
                break
            await asyncio.sleep(0.1)
        assert book.qty != 0, "the bot took no position"
        await asyncio.sleep(1.0)
        await _operator(srv, {"kind": "external_reduce", "fraction": 0.4})
        await asyncio.sleep(9.0)  # the bot finds the reduce; the outage and lost updates come meanwhile
        assert not first_run.done()
        os.kill(_pid(out), signal.SIGKILL)  # a crash: no settle, no clean exit
        code, first = await asyncio.wait_for(first_run, 30)
        assert code == -signal.SIGKILL, first
        closed = await _operator(srv, {"kind": "external_close"})  # while the bot is down
        await asyncio.sleep(1.0)
        second_run = asyncio.create_task(_live(srv, out, "24s"))  # its second target (32 s after the first start)
        await asyncio.sleep(8.0)
        await _operator(srv, {"kind": "disconnect_streams"})  # the user-data socket drops: ccxt.pro reconnects
        code, second = await asyncio.wait_for(second_run, 60)
        assert code == 0, second
        world = srv.ctx.world
        return {"key": srv.api_key.key, "secret": srv.api_key.secret, "token": srv.operator_token,
                "sc": sc, "srv": srv, "world": world, "out": out, "first": first, "second": second, "closed": closed,
                "wall": srv.ctx.clock.wall_ms}
    finally:
        await srv.stop()


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return asyncio.run(asyncio.wait_for(_scenario(tmp_path_factory.mktemp("live")), 240))


def _world_view(e2e: dict) -> SimpleNamespace:
    out: Path = e2e["out"]
    record = PlatformRecord.open(out / "record.sqlite", "BTCUSDT", e2e["sc"].bot.bot_id)
    w = e2e["world"]
    return SimpleNamespace(venue=w.venue, truth=w.truth, log=w.log, scenario=e2e["sc"], record=record)


def test_the_run_directory_is_a_run_directory(e2e: dict) -> None:
    out: Path = e2e["out"]
    for name in ("summary.json", "orders.parquet", "fills.parquet", "drift_episodes.parquet", "timeline.parquet",
                 "events.parquet", "report.html", "record.sqlite"):
        assert (out / name).is_file(), name
    s = json.loads((out / "summary.json").read_text())
    assert s["mode"] == "live" and s["live"]["restarted"] is True
    assert s["orders"]["submitted"] >= 2
    assert s["venue_truth"] is not None  # fetched from the operator endpoint at the end
    loaded = sim.load_run(out) if hasattr(sim, "load_run") else None
    assert loaded is None or len(loaded.orders) >= 2


def test_invariants_on_the_venue_truth(e2e: dict) -> None:
    view = _world_view(e2e)
    try:
        assert conservation(view) == []  # 1
        assert record_matches_truth(view) == []  # 2: the record equals the venue at the end
        assert one_live_order_per_intent(view, e2e["out"] / "record.sqlite") == []  # 3
        assert reduce_only_and_protection(view) == []  # 4
        assert exposure_limits(view) == []  # 5
    finally:
        view.record.close()


def test_no_fill_missing_from_the_record(e2e: dict) -> None:
    """7 (the venue names its trades ``T<n>``, Binance's wire ``<n>``: the record keeps the wire's)."""
    with sqlite3.connect(e2e["out"] / "record.sqlite") as conn:
        recorded = {r[0] for r in conn.execute("SELECT trade_id FROM fills")}
    venue = {str(trade_id(f.trade_id)) for f in e2e["world"].venue.fills}
    assert venue and venue <= recorded


def test_every_intervention_was_detected_as_drift(e2e: dict) -> None:
    w, wall = e2e["world"], e2e["wall"]
    cols = w.log.events.cols
    changes = [wall(ts) for ts, kind in zip(cols["ts"], cols["kind"], strict=True)
               if kind in ("intervention_external_reduce", "intervention_external_close")]
    assert len(changes) == 2
    with sqlite3.connect(e2e["out"] / "record.sqlite") as conn:
        episodes = conn.execute("SELECT detected_ms, cause FROM drift_episodes ORDER BY detected_ms").fetchall()
    for t in changes:
        after = [d for d, _ in episodes if d >= t]
        assert after, f"the change at {t} was never detected (episodes {episodes})"
        assert after[0] - t < 15_000  # within a few 2 s cycles, or once restarted (the close came while it was down)
    causes = {c for _, c in episodes}
    assert causes & {"external_change", "restart"}


def test_no_duplicates_and_no_unintended_exposure(e2e: dict) -> None:
    s = json.loads((e2e["out"] / "summary.json").read_text())
    assert s["duplicates"] == 0 and s["unintended_exposure"] == 0 and s["stale_actions"] == 0
    audit = s["venue_truth"]["audit"]
    assert audit["second_orders_same_client_id"] == 0
    limit = Decimal("0.1")  # the largest target the script states
    pos = Decimal(0)
    for f in e2e["world"].venue.fills:
        before, pos = pos, pos + f.qty * f.side.sign
        if f.client_id and f.client_id.startswith(e2e["sc"].bot.bot_id + "-"):
            assert abs(pos) <= limit or abs(pos) <= abs(before), f"bot fill {f.client_id} took the position to {pos}"


def test_unknown_status_was_met_and_resolved_by_lookup(e2e: dict) -> None:
    s = json.loads((e2e["out"] / "summary.json").read_text())
    assert s["orders"]["unknown_resolved"] >= 1  # the first order's answer was lost, then looked up
    audit = s["venue_truth"]["audit"]
    assert audit["requests_refused"].get("503", 0) >= 1
    assert audit["unknown_never_resolved"] == 0 and audit["orders_while_unknown"] == 0


def test_keys_never_reach_the_output_or_the_run_directory(e2e: dict) -> None:
    secrets = [e2e["key"], e2e["secret"], e2e["token"]]
    assert all(len(x) >= 8 for x in secrets)
    for text in (e2e["first"], e2e["second"]):
        assert not any(x in text for x in secrets)
        assert "Traceback" not in text and "never retrieved" not in text
    for f in e2e["out"].rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert not any(x.encode() in data for x in secrets), f


def test_a_dropped_stream_was_reconnected(e2e: dict) -> None:
    s = json.loads((e2e["out"] / "summary.json").read_text())
    assert s["live"]["stream_reconnects"] >= 1 and s["live"]["updates_received"] >= 1
