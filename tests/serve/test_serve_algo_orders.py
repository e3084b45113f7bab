"""Conditional orders through Binance's algo API, as ccxt sends them: stop-loss, take-profit, open
orders of both kinds, cancel; a take-profit that triggers shows up in watch_orders with its child."""
from __future__ import annotations

import asyncio

import ccxt
import pytest
from serve_helpers import SYMBOL, client, run, served


def test_stop_loss_and_take_profit_are_algo_orders_listed_apart_and_cancelled():
    async def go():
        async with served() as srv, client(srv) as ex:
            await ex.load_markets()
            await ex.create_order(SYMBOL, "market", "buy", 0.02)
            last = (await ex.fetch_ticker(SYMBOL))["last"]
            sl = await ex.create_order(SYMBOL, "market", "sell", 0.02, None,
                                       {"stopPrice": round(last * 0.95, 1), "reduceOnly": True})
            tp = await ex.create_order(SYMBOL, "market", "sell", 0.02, None,
                                       {"takeProfitPrice": round(last * 1.05, 1), "reduceOnly": True,
                                        "workingType": "MARK_PRICE"})
            limit = await ex.create_order(SYMBOL, "limit", "buy", 0.01, round(last * 0.97, 1))
            assert sl["status"] == "open" and tp["status"] == "open"
            assert sl["info"]["algoType"] == "CONDITIONAL" and sl["info"]["orderType"] == "STOP_MARKET"
            assert tp["info"]["orderType"] == "TAKE_PROFIT_MARKET" and tp["info"]["workingType"] == "MARK_PRICE"
            algos = await ex.fetch_open_orders(SYMBOL, None, None, {"trigger": True})
            assert sorted(o["id"] for o in algos) == sorted([sl["id"], tp["id"]])
            assert [o["id"] for o in await ex.fetch_open_orders(SYMBOL)] == [limit["id"]]
            cancelled = await ex.cancel_order(sl["id"], SYMBOL, {"trigger": True})
            assert cancelled["info"]["code"] == "200"
            assert (await ex.fetch_order(sl["id"], SYMBOL, {"trigger": True}))["status"] == "canceled"
            assert (await ex.fetch_order(tp["id"], SYMBOL, {"trigger": True}))["status"] == "open"
            assert [o["id"] for o in await ex.fetch_open_orders(SYMBOL, None, None, {"trigger": True})] == [tp["id"]]
            with pytest.raises(ccxt.OrderNotFound):  # cancelled already
                await ex.cancel_order(sl["id"], SYMBOL, {"trigger": True})
            with pytest.raises(ccxt.InvalidOrder, match="-4120"):  # a stop on the order route
                await ex.fapiPrivatePostOrder({"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET",
                                               "quantity": "0.02", "stopPrice": str(round(last * 0.9, 1))})
            with pytest.raises(ccxt.ExchangeError, match="-2021"):  # a take-profit already through
                await ex.create_order(SYMBOL, "market", "sell", 0.02, None,
                                      {"takeProfitPrice": round(last * 0.9, 1), "reduceOnly": True})
    run(go())


def test_a_take_profit_that_triggers_shows_up_in_watch_orders_with_its_child_order():
    async def go():
        async with served(speed=20.0) as srv, client(srv) as ex:
            await ex.load_markets()
            await ex.create_order(SYMBOL, "market", "buy", 0.02)
            seen: dict[str, dict] = {}

            async def watch():
                while True:
                    for o in await ex.watch_orders(SYMBOL):
                        seen[o["clientOrderId"] or o["id"]] = o
            watcher = asyncio.ensure_future(watch())
            await asyncio.sleep(0.3)
            tp = None
            for _attempt in range(5):  # just above the price, so that it fires soon (at x20)
                last = (await ex.fetch_ticker(SYMBOL))["last"]
                try:
                    tp = await ex.create_order(SYMBOL, "market", "sell", 0.02, None,
                                               {"takeProfitPrice": round(last * 1.0005, 1), "reduceOnly": True,
                                                "clientOrderId": "bot-1-tp-0"})
                    break
                except ccxt.OrderImmediatelyFillable:  # the price got there before the order did
                    continue
            assert tp is not None
            for _ in range(300):
                await asyncio.sleep(0.1)
                child = next((o for k, o in seen.items() if k.startswith("algo-")), None)
                if child is not None and child["status"] == "closed" and seen.get("bot-1-tp-0", {}).get(
                        "status") == "closed":
                    break
            watcher.cancel()
            algo = seen["bot-1-tp-0"]
            assert algo["status"] == "closed" and algo["info"]["X"] in ("TRIGGERED", "FINISHED")
            assert child is not None and child["filled"] == pytest.approx(0.02) and child["side"] == "sell"
            assert algo["info"]["ai"] == child["id"]  # the algo order names its child
            # and by REST: the algo order names its child, the child is an ordinary order
            rest = await ex.fetch_order(tp["id"], SYMBOL, {"trigger": True})
            assert rest["info"]["algoStatus"] == "FINISHED" and rest["info"]["actualOrderId"] == child["id"]
            assert (await ex.fetch_order(child["id"], SYMBOL))["status"] == "closed"
            assert (await ex.fetch_positions([SYMBOL]) or [{"contracts": 0}])[0]["contracts"] == 0
            assert srv.ctx.audit.summary(0)["protective_left_after_position"]["episodes"] == 0
    run(go(), timeout=90)


def test_legacy_stops_take_a_stop_market_on_the_order_route_when_asked():
    async def go():
        async with served(legacy_stops=True) as srv, client(srv) as ex:
            await ex.load_markets()
            await ex.create_order(SYMBOL, "market", "buy", 0.02)
            last = (await ex.fetch_ticker(SYMBOL))["last"]
            stop = await ex.fapiPrivatePostOrder({"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET",
                                                  "quantity": "0.02", "stopPrice": str(round(last * 0.95, 1)),
                                                  "reduceOnly": "true", "workingType": "MARK_PRICE"})
            assert stop["status"] == "NEW" and stop["type"] == "STOP_MARKET" and stop["workingType"] == "MARK_PRICE"
            opens = await ex.fetch_open_orders(SYMBOL)
            assert [o["id"] for o in opens] == [str(stop["orderId"])] and opens[0]["triggerPrice"] > 0
            assert await ex.fetch_open_orders(SYMBOL, None, None, {"trigger": True}) == []
            assert srv.ctx.audit.summary(0)["exposure_without_protection"]["episodes"] == 1  # until the stop
            assert (await ex.cancel_order(str(stop["orderId"]), SYMBOL))["status"] == "canceled"
    run(go())


def test_the_audit_sees_a_stop_left_behind_after_an_operator_closes_the_position():
    from serve_helpers import operator

    async def go():
        async with served() as srv, client(srv) as ex:
            await ex.load_markets()
            await ex.create_order(SYMBOL, "market", "buy", 0.02)
            last = (await ex.fetch_ticker(SYMBOL))["last"]
            sl = await ex.create_order(SYMBOL, "market", "sell", 0.02, None,
                                       {"stopPrice": round(last * 0.95, 1), "reduceOnly": True})
            await operator(srv, "POST", "/operator/event", {"kind": "external_close"})
            audit = srv.ctx.audit
            assert audit.summary(0)["protective_left_after_position"]["episodes"] == 1
            assert audit.left_behind[-1].ended is None  # the stop is still there, the position is not
            await ex.fetch_positions([SYMBOL])  # the client looks ...
            await ex.cancel_order(sl["id"], SYMBOL, {"trigger": True})  # ... and cleans up
            assert audit.left_behind[-1].ended is not None
            s = audit.summary(srv.ctx.clock.sim_now())
            assert s["exposure_without_protection"]["episodes"] == 1  # from the entry to the stop
            assert s["interventions"][0]["noticed_by"] == "positionRisk"
    run(go())
