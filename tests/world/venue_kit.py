"""A small venue for the contract tests: a flat or scripted price path, BTCUSDT's filters, and an
observer that keeps everything the venue says (orders, algo orders, fills, refusals) in order."""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from sim.core.instrument import Instrument
from sim.core.messages import SubmitAlgoOrder, SubmitOrder
from sim.core.types import ClientOrderId, OrderType, Side, TimeInForce, TriggerBy
from sim.world.exchange import SimExchange
from sim.world.liquidity import DepthProfile
from sim.world.market import PricePath
from sim.world.venue_rules import VenueRules

D = Decimal
SYM = "BTCUSDT"
T0 = 60_000_000
TICK = 1000
BTCUSDT = Instrument(SYM, tick_size=D("0.1"), lot_size=D("0.001"), min_qty=D("0.001"), min_notional=D("100"))
DEPTH = DepthProfile(spread_bps=1.0, level_step_bps=0.5, level0_qty=0.5, levels=400)


class Recorder:
    """Every venue callback, in order: ("order", ts, what, client id, status), ("algo", ...), ..."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.algo_reports: list = []
        self.fills: list = []

    def on_order(self, ts, order, what, detail=""):
        self.events.append(("order", ts, what, order.client_id, order.status))

    def on_reject(self, ts, request, reason, detail):
        self.events.append(("reject", ts, detail))

    def on_fill(self, fill, order):
        self.fills.append(fill)
        self.events.append(("fill", fill.ts, fill.client_id, fill.qty))

    def on_position(self, ts, qty):
        pass

    def on_algo(self, ts, report, what):
        self.algo_reports.append(report)
        self.events.append(("algo", ts, what, report.client_algo_id, report.status))


def t(i: int) -> int:
    return T0 + i * TICK


def flat(n: int = 3000, level: float = 30_000.0) -> np.ndarray:
    return np.full(n, level)


def venue(mid: np.ndarray | None = None, balance: float = 100_000.0, last: np.ndarray | None = None,
          wakes: list | None = None, tick_ms: int = TICK, instrument: Instrument = BTCUSDT,
          depth: DepthProfile = DEPTH, **rules) -> SimExchange:
    m = flat() if mid is None else np.asarray(mid, dtype=float)
    path = PricePath(T0, tick_ms, m, last=last) if last is not None else PricePath(T0, tick_ms, m)
    kwargs = {} if wakes is None else {"scheduler": wakes.append}
    return SimExchange(instrument, path, depth, VenueRules(**rules), balance, Recorder(),
                       matching_rng=np.random.default_rng(7), **kwargs)


def market(cid: str, side: Side, qty: str, reduce_only: bool = False) -> SubmitOrder:
    return SubmitOrder(SYM, ClientOrderId(cid), side, OrderType.MARKET, D(qty), reduce_only=reduce_only)


def limit(cid: str, side: Side, qty: str, price: str, tif: TimeInForce = TimeInForce.GTC,
          reduce_only: bool = False) -> SubmitOrder:
    return SubmitOrder(SYM, ClientOrderId(cid), side, OrderType.LIMIT, D(qty), price=D(price), time_in_force=tif,
                       reduce_only=reduce_only)


def stop(cid: str, side: Side, qty: str | None, trigger: str, kind: OrderType = OrderType.STOP_MARKET,
         reduce_only: bool = True, close_position: bool = False,
         trigger_by: TriggerBy = TriggerBy.LAST) -> SubmitAlgoOrder:
    return SubmitAlgoOrder(SYM, ClientOrderId(cid), side, kind, D(trigger), None if qty is None else D(qty),
                           trigger_by, reduce_only, close_position)
