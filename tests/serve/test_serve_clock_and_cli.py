"""The clock: a request is handled when it arrives, not at the next scheduled event; wire times stay on
the wall clock at any speed. The command: bad arguments exit 2, a session writes its run directory."""
from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import textwrap
import time

import aiohttp
import ccxt
import pandas as pd
import pytest
import simpy
from serve_helpers import HERE, SYMBOL, client, operator, run, served

from sim.serve.clock import SimClock

ROOT = HERE.parent.parent


def test_a_request_is_handled_on_arrival_not_at_the_next_scheduled_event():
    async def go():
        env = simpy.Environment(initial_time=1_000_000)
        clock = SimClock(env, speed=1.0)
        seen: list[tuple[str, int]] = []
        env.timeout(60_000).callbacks.append(lambda _e: seen.append(("far", int(env.now))))
        task = asyncio.ensure_future(clock.run())
        await asyncio.sleep(0.2)  # the stepper is now waiting for the event a minute away
        done = asyncio.get_running_loop().create_future()
        at = clock.sim_now()
        clock.schedule(at, lambda: (seen.append(("request", int(env.now))), done.set_result(clock.sim_now())))
        handled_at = await asyncio.wait_for(done, 5)
        task.cancel()
        assert seen[0] == ("request", at)  # processed at its own time, before the far event
        assert handled_at - at < 60_000
        assert clock.sim_of_wall(clock.wall_ms(at)) == at
    run(go())


def test_server_time_stays_on_the_wall_clock_at_speed_60():
    async def go():
        async with served(speed=60.0) as srv, client(srv) as ex:
            await ex.load_markets()
            await asyncio.sleep(0.5)  # 30 simulated seconds
            server = await ex.fetch_time()
            assert abs(server - time.time() * 1000) < 2_000
            order = await ex.create_order(SYMBOL, "market", "buy", 0.01)
            assert abs(order["timestamp"] - time.time() * 1000) < 2_000
            assert srv.ctx.world.env.now - srv.ctx.world.open_ms >= 25_000
    run(go())


def test_the_command_refuses_bad_arguments_with_exit_2():
    base = [sys.executable, "-m", "sim", "serve"]
    for args, words in ((["quickstart", "--speed", "0"], "--speed"), (["quickstart", "--duration", "soon"],
                                                                      "--duration"),
                        (["quickstart", "--api-key", "k"], "--api-secret"), (["no-such-scenario"], "no such file"),
                        (["quickstart", "--limits", "1,2"], "--limits"), (["quickstart", "--history", "2d"],
                                                                          "--history")):
        r = subprocess.run(base + args, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert r.returncode == 2, (args, r.stderr)
        assert words in r.stderr and "Traceback" not in r.stderr


def test_a_served_session_writes_its_run_directory(tmp_path):
    async def go():
        async with served(out=tmp_path / "run") as srv, client(srv) as ex:
            await ex.load_markets()
            await ex.create_order(SYMBOL, "market", "buy", 0.02)
            await operator(srv, "POST", "/operator/event", {"kind": "external_reduce", "fraction": 0.5})
            await asyncio.sleep(0.2)
            await ex.fetch_positions([SYMBOL])  # the client notices
            await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})
            with pytest.raises(ccxt.InvalidOrder, match="-2022"):  # nothing left to reduce
                await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})
        return srv
    run(go())
    out = tmp_path / "run"
    for name in ("summary.json", "orders.parquet", "fills.parquet", "events.parquet", "timeline.parquet",
                 "report.html"):
        assert (out / name).is_file(), name
    s = json.loads((out / "summary.json").read_text())
    assert s["served"] is True and s["orders"]["submitted"] == 2 and s["orders"]["external"] == 1
    assert s["fills"] == 3 and float(s["position"]) == 0
    a = s["audit"]
    assert a["reduce_only_violations_attempted"] == 1 and a["requests_refused"] == {"400 -2022": 1}
    assert a["interventions"][0]["kind"] == "external_reduce" and a["interventions"][0]["noticed_by"] == "positionRisk"
    assert a["exposure_without_protection"]["episodes"] == 1  # long with no stop, until closed
    orders = pd.read_parquet(out / "orders.parquet")
    mine = orders[orders["source"] == "bot"]
    assert (mine["latency_ms"] >= 0).all() and mine["slippage_bps"].notna().all()
    events = pd.read_parquet(out / "events.parquet")
    assert {"intervention_external_reduce", "audit_intervention_noticed", "audit_reduce_only_violation"} <= \
        set(events["kind"])


def test_the_command_prints_a_snippet_that_works_and_stops_on_ctrl_c(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "sim", "serve", str(HERE / "serve.toml"), "--port", "0",
                             "--duration", "2m", "--out", str(tmp_path / "run")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline()]
        assert "aethersim serve: serve-test at http://127.0.0.1:" in lines[0], proc.stderr.read()
        while "exceptions['exact']" not in lines[-1] and lines[-1]:
            lines.append(proc.stdout.readline())
        out = "".join(lines)
        assert "api key" in out and "secret" in out and "Authorization: Bearer" in out
        snippet = textwrap.dedent(out.split("  ccxt:\n")[1])
        check = snippet + textwrap.dedent("""
            import asyncio
            async def main():
                await exchange.load_markets()
                print(int((await exchange.fetch_balance())["USDT"]["total"]))
                await exchange.close()
            asyncio.run(main())
            """)
        r = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.strip() == "10000", r.stderr  # pasted as printed, it works
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped (Ctrl-C); run directory:" in rest
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["stopped"] == "Ctrl-C"


def test_the_command_serves_until_its_duration_and_says_where_the_run_is(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "sim", "serve", str(HERE / "serve.toml"), "--port", "0",
                             "--duration", "3s", "--out", str(tmp_path / "run")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert "aethersim serve: serve-test at http://127.0.0.1:" in first
    url = first.split(" at ")[1].split(" ")[0]

    async def ping():
        async with aiohttp.ClientSession() as s, s.get(url + "/fapi/v1/ping") as r:
            return r.status
    assert run(ping(), 10) == 200
    lines = [first]
    while "run directory:" not in lines[-1] and lines[-1]:
        lines.append(proc.stdout.readline())
    proc.wait(timeout=60)
    out = "".join(lines)
    assert proc.returncode == 0, proc.stderr.read()
    assert "'apiKey'" in out and "api key" in out and "run directory:" in out
    assert (tmp_path / "run" / "summary.json").is_file()
