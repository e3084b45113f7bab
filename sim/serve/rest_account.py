"""Account routes: positions, account, balance, income, leverage, margin and position modes, listenKey.

One account, one-way (BOTH) positions, cross margin: what the venue models. Hedge mode,
isolated margin and multi-assets mode are refused with a code and a message saying so.
"""
from __future__ import annotations

from typing import Any

from sim.core.messages import AccountReport, FetchAccount, FetchPositions, PositionsReport
from sim.serve.binance import num
from sim.serve.context import Ctx
from sim.serve.errors import bad, invalid_value
from sim.serve.params import Params

INCOME_TYPES = ("TRANSFER", "WELCOME_BONUS", "REALIZED_PNL", "FUNDING_FEE", "COMMISSION", "INSURANCE_CLEAR",
                "REFERRAL_KICKBACK", "COMMISSION_REBATE", "API_REBATE", "CONTEST_REWARD", "CROSS_COLLATERAL_TRANSFER",
                "OPTIONS_PREMIUM_FEE", "OPTIONS_SETTLE_PROFIT", "INTERNAL_TRANSFER", "AUTO_EXCHANGE",
                "DELIVERED_SETTELMENT", "COIN_SWAP_DEPOSIT", "COIN_SWAP_WITHDRAW", "POSITION_LIMIT_INCREASE_FEE")


def _max_notional(ctx: Ctx, leverage: int) -> str:
    caps = [t.notional_cap for t in ctx.world.venue.margin.tiers if t.max_leverage >= leverage]
    cap = max(caps) if caps else 0.0
    return "9223372036854775807" if cap == float("inf") else num(cap)


def position_row(ctx: Ctx, now: int, v2: bool) -> dict:
    v = ctx.world.venue
    rep = v.handle(FetchPositions(ctx.world.symbol), now)
    assert isinstance(rep, PositionsReport)
    qty = rep.qty(ctx.world.symbol)
    p = rep.get(ctx.world.symbol)
    entry = float(p.entry_price) if p is not None else 0.0
    mark = v.path.mid_at(now)
    notional = float(qty) * mark
    liq = v.liquidation_price()
    im = abs(notional) / v.leverage
    row = {"symbol": ctx.world.symbol, "positionSide": "BOTH", "positionAmt": num(qty), "entryPrice": num(entry),
           "breakEvenPrice": num(entry), "markPrice": num(mark), "unRealizedProfit": num(v.book.unrealized(mark)),
           "liquidationPrice": num(liq or 0.0), "isolatedMargin": "0", "notional": num(notional),
           "marginAsset": "USDT", "isolatedWallet": "0", "initialMargin": num(im), "maintMargin":
           num(abs(notional) * v.maintenance_rate()), "positionInitialMargin": num(im),
           "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0", "askNotional": "0",
           "updateTime": ctx.wall(now)}
    if v2:
        row.update(leverage=str(v.leverage), marginType="cross", isAutoAddMargin="false",
                   maxNotionalValue=_max_notional(ctx, v.leverage), isolated=False)
    return row


async def position_risk(ctx: Ctx, p: Params, v2: bool) -> Any:
    ctx.symbol(p, required=False)

    def act(now: int) -> list:
        row = position_row(ctx, now, v2)
        open_orders = bool(ctx.world.venue.open_orders()) or bool(ctx.world.venue.algo.armed)
        return [row] if v2 or row["positionAmt"] != "0" or open_orders else []

    body = await ctx.link.call(act, "positionRisk")
    ctx.audit.noticed("positionRisk")
    return body


async def position_risk_v2(ctx: Ctx, p: Params) -> Any:
    return await position_risk(ctx, p, True)


async def position_risk_v3(ctx: Ctx, p: Params) -> Any:
    return await position_risk(ctx, p, False)


def account_body(ctx: Ctx, now: int, v2: bool) -> dict:
    v = ctx.world.venue
    a = v.handle(FetchAccount(), now)
    assert isinstance(a, AccountReport)
    t = ctx.wall(now)
    avail = max(a.available_margin, 0.0)
    asset = {"asset": "USDT", "walletBalance": num(a.wallet), "unrealizedProfit": num(a.unrealized_pnl),
             "marginBalance": num(a.equity), "maintMargin": num(v.book.maintenance_margin(v.path.mid_at(now),
                                                                                         v.maintenance_rate())),
             "initialMargin": num(a.initial_margin), "positionInitialMargin": num(a.initial_margin),
             "openOrderInitialMargin": "0", "crossWalletBalance": num(a.wallet), "crossUnPnl": num(a.unrealized_pnl),
             "availableBalance": num(avail), "maxWithdrawAmount": num(avail), "marginAvailable": True,
             "updateTime": t}
    pos = position_row(ctx, now, v2)
    body = {"totalInitialMargin": asset["initialMargin"], "totalMaintMargin": asset["maintMargin"],
            "totalWalletBalance": asset["walletBalance"], "totalUnrealizedProfit": asset["unrealizedProfit"],
            "totalMarginBalance": asset["marginBalance"], "totalPositionInitialMargin": asset["initialMargin"],
            "totalOpenOrderInitialMargin": "0", "totalCrossWalletBalance": asset["walletBalance"],
            "totalCrossUnPnl": asset["unrealizedProfit"], "availableBalance": asset["availableBalance"],
            "maxWithdrawAmount": asset["maxWithdrawAmount"], "assets": [asset],
            "positions": [pos] if v2 or pos["positionAmt"] != "0" else []}
    if v2:
        body.update(feeTier=0, feeBurn=False, canTrade=True, canDeposit=True, canWithdraw=True, updateTime=t,
                    multiAssetsMargin=False, tradeGroupId=-1)
    return body


async def account_v2(ctx: Ctx, p: Params) -> Any:
    body = await ctx.link.call(lambda now: account_body(ctx, now, True), "account")
    ctx.audit.noticed("account")
    return body


async def account_v3(ctx: Ctx, p: Params) -> Any:
    body = await ctx.link.call(lambda now: account_body(ctx, now, False), "account")
    ctx.audit.noticed("account")
    return body


async def balance(ctx: Ctx, p: Params) -> Any:
    def act(now: int) -> list:
        a = account_body(ctx, now, False)["assets"][0]
        return [{"accountAlias": "aethersim", "asset": "USDT", "balance": a["walletBalance"],
                 "crossWalletBalance": a["crossWalletBalance"], "crossUnPnl": a["crossUnPnl"],
                 "availableBalance": a["availableBalance"], "maxWithdrawAmount": a["maxWithdrawAmount"],
                 "marginAvailable": True, "updateTime": a["updateTime"]}]
    body = await ctx.link.call(act, "balance")
    ctx.audit.noticed("balance")
    return body


async def income(ctx: Ctx, p: Params) -> Any:
    ctx.symbol(p, required=False)
    kind = p.choice("incomeType", INCOME_TYPES)
    start, end = p.int("startTime"), p.int("endTime")
    limit = p.int("limit", default=100, lo=1, hi=1000)

    def act(now: int) -> list:
        rows = []
        for r in ctx.world.tap.income:
            t = ctx.wall(r["ts"])
            if (kind is None or r["incomeType"] == kind) and (start is None or t >= start) and \
                    (end is None or t <= end):
                rows.append({"symbol": r["symbol"], "incomeType": r["incomeType"], "income": num(r["income"]),
                             "asset": "USDT", "info": r["info"], "time": t, "tranId": r["tranId"],
                             "tradeId": r["tradeId"]})
        return rows[:limit] if start is not None else rows[-limit:]
    body = await ctx.link.call(act, "income")
    ctx.audit.noticed("income")
    return body


async def leverage(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p)
    lev = p.int("leverage", required=True, lo=1, hi=125)
    assert lev is not None

    def act(now: int) -> dict:
        v = ctx.world.venue
        refused = v.set_leverage(lev, now)
        if refused is not None:
            raise bad(refused.code, refused.message)
        ctx.world.log.event(now, "client_set_leverage", "venue", detail=f"leverage {lev}")
        from sim.serve.wire_events import config_update
        ctx.world.tap.publish(now, config_update(ctx.world.symbol, lev, now, ctx.wall))
        return {"leverage": lev, "maxNotionalValue": _max_notional(ctx, lev), "symbol": sym}
    return await ctx.link.call(act, "leverage")


async def margin_type(ctx: Ctx, p: Params) -> Any:
    ctx.symbol(p)
    mt = p.choice("marginType", ("ISOLATED", "CROSSED"), required=True)

    def act(now: int) -> dict:
        if mt == "CROSSED":
            raise bad(-4046, "No need to change margin type.")
        raise invalid_value("marginType", "aethersim serves cross margin only (ISOLATED is not modelled).")
    return await ctx.link.call(act, "marginType")


async def leverage_bracket(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p, required=False)

    def act(now: int) -> Any:
        brackets, floor, cum, prev_mmr = [], 0.0, 0.0, None
        for i, t in enumerate(ctx.world.venue.margin.tiers, 1):
            cum += floor * (t.mmr - prev_mmr) if prev_mmr is not None else 0.0
            cap = t.notional_cap if t.notional_cap != float("inf") else 9.0e18
            brackets.append({"bracket": i, "initialLeverage": t.max_leverage, "notionalCap": cap,
                             "notionalFloor": floor, "maintMarginRatio": t.mmr, "cum": cum})
            floor, prev_mmr = cap, t.mmr
        body = {"symbol": ctx.world.symbol, "notionalCoef": 1.0, "brackets": brackets}
        return body if sym else [body]
    return await ctx.link.call(act, "leverageBracket")


async def position_side_get(ctx: Ctx, p: Params) -> Any:
    return await ctx.link.call(lambda now: {"dualSidePosition": False}, "positionSide/dual")


async def position_side_set(ctx: Ctx, p: Params) -> Any:
    dual = p.bool("dualSidePosition")
    if "dualSidePosition" not in p:
        raise bad(-1102, "Mandatory parameter 'dualSidePosition' was not sent, was empty/null, or malformed.")
    if dual:
        raise invalid_value("dualSidePosition", "aethersim serves one-way positions only (hedge mode is not modelled).")
    def act(now: int) -> dict:
        raise bad(-4059, "No need to change position side.")  # one-way already
    return await ctx.link.call(act, "positionSide/dual")


async def multi_assets_get(ctx: Ctx, p: Params) -> Any:
    return await ctx.link.call(lambda now: {"multiAssetsMargin": False}, "multiAssetsMargin")


async def multi_assets_set(ctx: Ctx, p: Params) -> Any:
    if "multiAssetsMargin" not in p:
        raise bad(-1102, "Mandatory parameter 'multiAssetsMargin' was not sent, was empty/null, or malformed.")
    if p.bool("multiAssetsMargin"):
        raise invalid_value("multiAssetsMargin", "aethersim serves single-asset margin only.")
    return await ctx.link.call(lambda now: {"code": 200, "msg": "success"}, "multiAssetsMargin")


async def commission_rate(ctx: Ctx, p: Params) -> Any:
    sym = ctx.symbol(p)
    r = ctx.world.venue.rules
    return await ctx.link.call(lambda now: {"symbol": sym, "makerCommissionRate": num(r.maker_fee),
                                            "takerCommissionRate": num(r.taker_fee)}, "commissionRate")


async def symbol_config(ctx: Ctx, p: Params) -> Any:
    ctx.symbol(p, required=False)

    def act(now: int) -> list:
        lev = ctx.world.venue.leverage
        return [{"symbol": ctx.world.symbol, "marginType": "CROSSED", "isAutoAddMargin": "false", "leverage": lev,
                 "maxNotionalValue": _max_notional(ctx, lev)}]
    return await ctx.link.call(act, "symbolConfig")


async def listen_key_new(ctx: Ctx, p: Params) -> Any:
    return await ctx.link.call(lambda now: {"listenKey": ctx.listen_keys.create()}, "listenKey")


async def listen_key_keepalive(ctx: Ctx, p: Params) -> Any:
    key = p.str("listenKey")
    return await ctx.link.call(lambda now: {"listenKey": ctx.listen_keys.keepalive(key)}, "listenKey")


async def listen_key_close(ctx: Ctx, p: Params) -> Any:
    def act(now: int) -> dict:
        ctx.listen_keys.close()
        return {}
    return await ctx.link.call(act, "listenKey")
