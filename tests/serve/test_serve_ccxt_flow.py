"""ccxt's async binanceusdm, configured as a user would, trades against the served venue."""
from __future__ import annotations

import asyncio

import ccxt
import pytest
from serve_helpers import SYMBOL, client, operator, run, served


def test_a_ccxt_session_from_markets_to_income():
    async def go():
        async with served() as srv, client(srv) as ex:
            markets = await ex.load_markets()
            assert SYMBOL in markets
            m = markets[SYMBOL]
            assert m["precision"]["amount"] == 0.001 and m["precision"]["price"] == 0.1
            bal = await ex.fetch_balance()
            assert bal["USDT"]["total"] == pytest.approx(10_000.0)
            assert (await ex.set_leverage(10, SYMBOL))["leverage"] == 10
            mkt = await ex.create_order(SYMBOL, "market", "buy", 0.01)
            assert mkt["status"] == "closed" and mkt["filled"] == pytest.approx(0.01)
            last = (await ex.fetch_ticker(SYMBOL))["last"]
            lim = await ex.create_order(SYMBOL, "limit", "buy", 0.01, round(last * 0.98, 1))
            assert lim["status"] == "open"
            opens = await ex.fetch_open_orders(SYMBOL)
            assert [o["id"] for o in opens] == [lim["id"]]
            assert (await ex.cancel_order(lim["id"], SYMBOL))["status"] == "canceled"
            assert await ex.fetch_open_orders(SYMBOL) == []
            pos = await ex.fetch_positions([SYMBOL])
            assert [(p["contracts"], p["side"]) for p in pos] == [(0.01, "long")]
            trades = await ex.fetch_my_trades(SYMBOL)
            assert len(trades) == 1 and trades[0]["order"] == mkt["id"]
            assert trades[0]["price"] == pytest.approx(mkt["average"])
            income = await ex.fapiPrivateGetIncome({"incomeType": "COMMISSION"})
            assert len(income) == 1 and float(income[0]["income"]) == pytest.approx(-trades[0]["fee"]["cost"])
            # the order is known by its client id too (how a bot reconciles)
            again = await ex.fetch_order(None, SYMBOL, {"clientOrderId": mkt["clientOrderId"]})
            assert again["id"] == mkt["id"] and again["status"] == "closed"
            # ccxt refuses an order without markets' order types: all seven are listed
            assert set(m["info"]["orderTypes"]) >= {"LIMIT", "MARKET", "STOP_MARKET", "TAKE_PROFIT_MARKET"}
    run(go())


def test_wrong_secret_and_stale_timestamp_are_refused_as_binance_does():
    async def go():
        async with served() as srv:
            async with client(srv, secret="not-the-secret") as ex:
                await ex.load_markets()
                with pytest.raises(ccxt.AuthenticationError, match="-1022"):
                    await ex.fetch_balance()
            async with client(srv) as ex:
                await ex.load_markets()
                ex.options["timeDifference"] = 30_000  # the client's clock 30 s behind
                with pytest.raises(ccxt.InvalidNonce, match="-1021"):
                    await ex.fetch_balance()
            async with client(srv, apiKey="unknown-key") as ex:
                await ex.load_markets()
                with pytest.raises(ccxt.AuthenticationError, match="-2015"):
                    await ex.fetch_positions([SYMBOL])
            async with client(srv) as ex:  # the right pair still works
                await ex.load_markets()
                assert (await ex.fetch_balance())["USDT"]["free"] > 0
    run(go())


def test_an_operator_close_reaches_the_client_as_account_update():
    async def go():
        async with served() as srv, client(srv) as ex:
            await ex.load_markets()
            await ex.create_order(SYMBOL, "market", "buy", 0.02)
            first = await ex.watch_positions([SYMBOL])  # a snapshot, then ACCOUNT_UPDATE on the stream
            assert first[0]["contracts"] == pytest.approx(0.02)
            raw = await _raw_user_stream(srv)
            only_accounts = await _raw_user_stream(srv, "&events=ACCOUNT_UPDATE")
            nxt = asyncio.ensure_future(ex.watch_positions([SYMBOL]))
            await asyncio.sleep(0.3)
            result = await operator(srv, "POST", "/operator/event", {"kind": "external_close"})
            assert result["detail"] == "closed 0.02"
            update = await asyncio.wait_for(nxt, 10)
            assert update[0]["contracts"] == 0
            events = await _collect(raw, 2.0)
            accounts = [e for e in events if e["e"] == "ACCOUNT_UPDATE"]
            assert accounts and accounts[-1]["a"]["m"] == "ORDER" and accounts[-1]["a"]["P"][0]["pa"] == "0"
            orders = [e["o"] for e in events if e["e"] == "ORDER_TRADE_UPDATE"]
            assert orders and all(o["c"].startswith("ext-") for o in orders)  # not the client's order
            assert orders[-1]["X"] == "FILLED" and orders[-1]["R"] is True
            filtered = await _collect(only_accounts, 1.0)
            assert filtered and {e["e"] for e in filtered} == {"ACCOUNT_UPDATE"}  # ?events= filters
            truth = await operator(srv, "GET", "/operator/truth")
            assert float(truth["position"]["qty"]) == 0
            assert any(e["kind"] == "intervention_external_close" for e in truth["events"])
            await raw.close()
    run(go())


async def _raw_user_stream(srv, query: str = ""):
    import aiohttp

    session = aiohttp.ClientSession()
    async with session.post(srv.base_url + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": srv.api_key.key}) as r:
        key = (await r.json())["listenKey"]
    ws = await session.ws_connect(f"ws://127.0.0.1:{srv.port}/private/ws?listenKey={key}{query}")
    ws._session_to_close = session
    return ws


async def _collect(ws, seconds: float, until=lambda events: False) -> list:
    """Messages until ``seconds`` pass with none, or ``until(messages)`` holds."""
    import json

    out: list = []
    try:
        while not until(out):
            msg = await asyncio.wait_for(ws.receive(), seconds)
            out.append(json.loads(msg.data))
    except TimeoutError:
        pass
    await ws._session_to_close.close()
    return out


def test_a_liquidation_reaches_the_client_as_binance_shows_it():
    async def go():
        from serve_helpers import scenario
        async with served(scenario=scenario("liquidation.toml")) as srv, client(srv) as ex:
            await ex.load_markets()
            await ex.create_order(SYMBOL, "market", "buy", 1.5)
            raw = await _raw_user_stream(srv)
            events = await _collect(raw, 8.0, until=lambda ev: any(  # the gap comes 6 s into the scenario
                e["e"] == "ACCOUNT_UPDATE" and e["a"]["P"] and e["a"]["P"][0]["pa"] == "0" for e in ev))
            orders = [e["o"] for e in events if e["e"] == "ORDER_TRADE_UPDATE"]
            assert orders and orders[-1]["c"].startswith("autoclose-") and orders[-1]["x"] == "CALCULATED"
            assert orders[-1]["o"] == "LIQUIDATION" and orders[-1]["X"] == "FILLED" and orders[-1]["z"] == "1.5"
            assert any(e["e"] == "ACCOUNT_UPDATE" and e["a"]["P"][0]["pa"] == "0" for e in events)
            pos = await ex.fetch_positions([SYMBOL])
            assert pos == [] or pos[0]["contracts"] == 0
            trades = await ex.fetch_my_trades(SYMBOL)
            assert len(trades) == 2 and trades[-1]["side"] == "sell"
    run(go())
