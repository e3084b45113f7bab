"""User-data stream payloads as Binance pushes them (ORDER_TRADE_UPDATE, ALGO_UPDATE, ACCOUNT_UPDATE ...).

Built at the venue's instant (``T``); ``E`` is stamped when the message leaves the server.
"""
from __future__ import annotations

from decimal import Decimal

from sim.core.messages import AlgoOrderReport, FillReport
from sim.core.types import OrderStatus, Side
from sim.serve.binance import ALGO_STATUS, SIDE, STATUS, TIF, TYPE, Wall, num, order_id, trade_id
from sim.world.venue_orders import VenueOrder

# the venue's words for what happened to an order -> Binance's execution type
_EXEC = {"accepted": "NEW", "cancelled": "CANCELED", "expired": "EXPIRED", "amended": "AMENDMENT",
         "triggered": "NEW"}
EXPIRY_REASON = {"expired: remainder cancelled (IOC)": 2, "expired: nothing to reduce": 4,
                 "expired: position closed (reduce-only)": 4, "cancelled by liquidation": 5}


def exec_type(what: str) -> str | None:
    """Binance's ``x`` for a venue order event (None: reported with its fill instead)."""
    head = what.split(":")[0]
    if head in ("filled", "partially_filled"):
        return None
    if head.startswith("cancelled"):
        return "CANCELED"
    return _EXEC.get(head, "NEW")


def order_update(o: VenueOrder, ts: int, wall: Wall, x: str, fill: FillReport | None = None,
                 realized: float = 0.0, what: str = "") -> dict:
    """ORDER_TRADE_UPDATE for one of the account's orders (a fill when ``fill`` is given)."""
    status = STATUS[o.status]
    if fill is not None:
        status = "FILLED" if o.remaining == 0 else "PARTIALLY_FILLED"
    elif o.status is OrderStatus.ACKNOWLEDGED and x == "NEW":
        status = "NEW"
    body = {
        "s": o.symbol, "c": o.client_id, "S": SIDE[o.side], "o": TYPE[o.type], "f": TIF[o.time_in_force],
        "q": num(o.qty), "p": num(o.price), "ap": num(o.avg_price), "sp": num(o.trigger_price), "x": x, "X": status,
        "i": order_id(o.venue_id), "l": num(fill.qty if fill else 0), "z": num(o.filled_qty),
        "L": num(fill.price if fill else 0), "N": "USDT", "n": num(fill.fee if fill else 0),
        "T": wall(ts), "t": trade_id(fill.trade_id) if fill else 0, "b": "0", "a": "0", "m": False,
        "R": o.reduce_only, "wt": "MARK_PRICE" if o.trigger_by == "mark" else "CONTRACT_PRICE",
        "ot": TYPE[o.type], "ps": "BOTH", "cp": False, "rp": num(realized), "pP": False, "si": 0, "ss": 0,
        "V": "NONE", "pm": "NONE", "gtd": 0,
    }
    if x == "EXPIRED" or x == "CANCELED":
        body["er"] = EXPIRY_REASON.get(what, 0)
    return {"e": "ORDER_TRADE_UPDATE", "T": wall(ts), "o": body}


def liquidation_update(fill: FillReport, wall: Wall, realized: float) -> dict:
    """The venue's liquidation order: ``autoclose-`` client id, type LIQUIDATION, execution CALCULATED."""
    t = wall(fill.ts)
    body = {
        "s": fill.symbol, "c": f"autoclose-{t}", "S": SIDE[fill.side], "o": "LIQUIDATION", "f": "IOC",
        "q": num(fill.qty), "p": num(fill.price), "ap": num(fill.price), "sp": "0", "x": "CALCULATED",
        "X": "FILLED", "i": 0, "l": num(fill.qty), "z": num(fill.qty), "L": num(fill.price), "N": "USDT",
        "n": num(fill.fee), "T": t, "t": trade_id(fill.trade_id), "b": "0", "a": "0", "m": False, "R": True,
        "wt": "CONTRACT_PRICE", "ot": "LIQUIDATION", "ps": "BOTH", "cp": False, "rp": num(realized), "pP": False,
        "si": 0, "ss": 0, "V": "NONE", "pm": "NONE", "gtd": 0,
    }
    return {"e": "ORDER_TRADE_UPDATE", "T": t, "o": body}


def algo_update(a: AlgoOrderReport, ts: int, wall: Wall) -> dict:
    body = {
        "caid": a.client_algo_id, "aid": order_id(a.algo_id), "at": "CONDITIONAL", "o": TYPE[a.type],
        "s": a.symbol, "S": SIDE[a.side], "ps": "BOTH", "f": "GTC", "q": num(a.qty), "X": ALGO_STATUS[a.status],
        "ai": str(order_id(a.actual_order_id)) if a.actual_order_id else "", "ap": num(a.actual_price),
        "aq": num(a.actual_qty),
        "act": "MARKET" if a.actual_order_id else "", "tp": num(a.trigger_price), "p": "0", "V": "NONE",
        "wt": "MARK_PRICE" if a.trigger_by.value == "mark" else "CONTRACT_PRICE", "pm": "NONE",
        "cp": a.close_position, "pP": False, "R": a.reduce_only,
        "tt": wall(a.trigger_ms) if a.trigger_ms is not None else 0, "gtd": 0, "rm": a.reason,
    }
    return {"e": "ALGO_UPDATE", "T": wall(ts), "o": body}


def account_update(reason: str, ts: int, wall: Wall, wallet: float, balance_change: float,
                   position: tuple[str, Decimal, float, float, float] | None) -> dict:
    """ACCOUNT_UPDATE with reason ``m``; ``position`` = (symbol, qty, entry, break-even, unrealized) or None."""
    a: dict = {"m": reason, "B": [{"a": "USDT", "wb": num(wallet), "cw": num(wallet), "bc": num(balance_change)}],
               "P": []}
    if position is not None:
        sym, qty, entry, bep, upnl = position
        a["P"].append({"s": sym, "pa": num(qty), "ep": num(entry), "bep": num(bep), "cr": "0", "up": num(upnl),
                       "mt": "cross", "iw": "0", "ps": "BOTH"})
    return {"e": "ACCOUNT_UPDATE", "T": wall(ts), "a": a}


def config_update(symbol: str, leverage: int, ts: int, wall: Wall) -> dict:
    return {"e": "ACCOUNT_CONFIG_UPDATE", "T": wall(ts), "ac": {"s": symbol, "l": leverage}}


def side_word(side: Side) -> str:
    return SIDE[side]
