"""`ServeThread`: the venue on its own loop, driven from blocking code (ccxt's synchronous client)."""
from __future__ import annotations

import json

import ccxt
from serve_helpers import SYMBOL, scenario

from sim.serve import ServeThread


def test_a_blocking_client_trades_against_a_served_thread(tmp_path):
    with ServeThread(scenario(), port=0, out=tmp_path / "run") as server:
        ex = ccxt.binanceusdm(server.ccxt_config())
        ex.timeout = 10_000
        ex.load_markets()
        order = ex.create_order(SYMBOL, "market", "buy", 0.01)
        assert order["status"] == "closed"
        assert ex.fetch_positions([SYMBOL])[0]["contracts"] == 0.01
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["orders"]["submitted"] == 1 and summary["stopped"] == "stopped by the caller"
