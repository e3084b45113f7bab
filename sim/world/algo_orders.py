"""The venue's algo service: conditional orders (stop-loss, take-profit) in their own id space.

Binance USD-M has taken conditional orders only through its algo API since 2025-12-09. An algo
order waits in the service (NEW) for its trigger price, by the contract (last) price unless it
says the mark; when the price reaches it, the service sends a *child* market order to the
matching engine (TRIGGERING, then TRIGGERED once the child exists), with the venue's own ids
(``algo-<algo_id>``), and is FINISHED when the child has filled or ended. ``close_position``
orders carry no quantity: the child closes whatever the position is at trigger, and the order
expires when the position is closed first. Algo orders cannot be amended. Every change is pushed.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sim.core import venue_codes as vc
from sim.core.errors import Rejected
from sim.core.instrument import Instrument
from sim.core.messages import AlgoOrderReport, SubmitAlgoOrder, SubmitOrder
from sim.core.types import AlgoOrderId, AlgoStatus, ClientOrderId, OrderType, Side, TriggerBy
from sim.world.accounting import PositionBook
from sim.world.market import PricePath
from sim.world.order_checks import Check, check_price, check_qty, trigger_would_fire
from sim.world.order_registry import Registry, valid_client_id
from sim.world.venue_orders import TRIGGER_TYPES, VenueObserver, VenueOrder, quote_price, trigger_fires_on_rise


@dataclass(slots=True)
class AlgoOrder:
    """A conditional order as the algo service holds it (mutable, world-internal)."""

    client_algo_id: ClientOrderId
    algo_id: AlgoOrderId
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal | None
    trigger_price: Decimal
    trigger_by: str  # "mark" or "last"
    reduce_only: bool
    close_position: bool
    status: AlgoStatus
    ts_created: int
    ts_updated: int
    source: str = "bot"
    trigger_ms: int | None = None
    child: VenueOrder | None = None
    reason: str = ""

    is_trigger = True  # watched like a legacy trigger order (`threshold_bands`)

    @property
    def key(self) -> str:
        return self.client_algo_id

    @property
    def id(self) -> str:
        return self.algo_id

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def dropped_unfilled(self) -> bool:
        filled = self.child is not None and self.child.filled_qty > 0
        return not filled and self.status in (AlgoStatus.CANCELLED, AlgoStatus.EXPIRED, AlgoStatus.REJECTED)

    @property
    def fires_on_rise(self) -> bool:
        return trigger_fires_on_rise(self.type, self.side)

    def report(self, ts: int) -> AlgoOrderReport:
        c = self.child
        avg = None if c is None or c.avg_price is None else quote_price(c.avg_price)
        return AlgoOrderReport(self.symbol, self.client_algo_id, self.algo_id, self.side, self.type, self.qty,
                               self.trigger_price, _TRIGGER_BY[self.trigger_by], self.reduce_only, self.close_position,
                               self.status, None if c is None else c.venue_id, None if c is None else c.client_id,
                               ts, self.ts_updated, self.trigger_ms, self.reason,
                               Decimal(0) if c is None else c.filled_qty, avg)


_TRIGGER_BY = {t.value: t for t in TriggerBy}


class AlgoHost(Protocol):
    """What the algo service needs of the venue: prices, the position, and the matching engine."""

    instrument: Instrument
    path: PricePath
    book: PositionBook
    observer: VenueObserver

    def submit(self, req: SubmitOrder, now: int, source: str, parent: AlgoOrder | None = None) -> VenueOrder: ...
    def rearm(self) -> None: ...


class AlgoService:
    def __init__(self, host: AlgoHost) -> None:
        self.host = host
        self.registry: Registry[AlgoOrder] = Registry()
        self.armed: list[AlgoOrder] = []  # NEW orders, in placement order
        self._seq = 0

    # ----------------------------------------------------------------------- requests
    def check(self, req: SubmitAlgoOrder, now: int) -> Check:
        inst = self.host.instrument
        if req.type not in TRIGGER_TYPES:
            return vc.INVALID_ORDER_TYPE, f"{req.type.value} is not a conditional order type"
        if not valid_client_id(req.client_algo_id):
            return vc.INVALID_CLIENT_ID, f"client algo id {req.client_algo_id!r} must match ^[.A-Z:/a-z0-9_-]{{1,36}}$"
        if self.registry.open_with(req.client_algo_id):
            return vc.DUPLICATED_CLIENT_ID, f"client algo id {req.client_algo_id} is used by an open algo order"
        if req.close_position:
            if req.qty is not None:
                return vc.QTY_WITH_CLOSE_POSITION, "closePosition takes no quantity"
            if req.reduce_only:
                return vc.PARAM_NOT_REQUIRED, vc.PARAM_NOT_REQUIRED.text("reduceonly")
        else:
            code, detail = check_qty(inst, req.qty, market=True)
            if code is not None:
                return code, detail
        code, detail = check_price(inst, req.trigger_price, "triggerPrice")
        if code is not None:
            return code, detail
        fire = trigger_would_fire(self.host.path, req.type, req.side, float(req.trigger_price), req.trigger_by.value,
                                  now)
        if fire:
            return vc.WOULD_TRIGGER, fire
        if not (req.reduce_only or req.close_position) and \
                float(req.qty) * float(req.trigger_price) < float(inst.min_notional):  # type: ignore[arg-type]
            return vc.MIN_NOTIONAL, vc.MIN_NOTIONAL.text(inst.min_notional)
        return None, ""

    def place(self, req: SubmitAlgoOrder, now: int, source: str) -> AlgoOrder:
        """Accept a conditional order (the caller has checked it)."""
        self._seq += 1
        algo = AlgoOrder(req.client_algo_id, AlgoOrderId(f"A{self._seq}"), req.symbol, req.side, req.type, req.qty,
                         req.trigger_price, req.trigger_by.value, req.reduce_only, req.close_position, AlgoStatus.NEW,
                         now, now, source)
        self.registry.add(algo)
        self.armed.append(algo)
        self._changed(algo, now, "accepted")
        self.host.rearm()
        return algo

    def find(self, now: int, cid: str, algo_id: str | None = None) -> AlgoOrder:
        algo = self.registry.find(now, cid, algo_id)
        if algo is None:
            raise Rejected(vc.NO_SUCH_ORDER.reason, f"no algo order {algo_id or cid}", now, vc.NO_SUCH_ORDER.code,
                           vc.NO_SUCH_ORDER.name)
        return algo

    def cancel(self, now: int, cid: str, algo_id: str | None = None) -> AlgoOrder:
        algo = self.registry.find(now, cid, algo_id)
        if algo is None or algo.status is not AlgoStatus.NEW:
            raise Rejected(vc.CANCEL_REJECTED.reason, f"no open algo order {algo_id or cid}", now,
                           vc.CANCEL_REJECTED.code, vc.CANCEL_REJECTED.name)
        self._end(algo, AlgoStatus.CANCELLED, now, "cancelled")
        return algo

    def open_orders(self) -> list[AlgoOrder]:
        return [a for a in self.registry.by_client.values() if a.is_open]

    # ----------------------------------------------------------------------- venue events
    def fire(self, algo: AlgoOrder, t: int) -> None:
        """The trigger price was reached: send the child market order to the matching engine."""
        self.armed.remove(algo)
        algo.trigger_ms = t
        self._set(algo, AlgoStatus.TRIGGERING, t, "triggering")
        pos = self.host.book.qty
        qty = abs(pos) if algo.close_position else algo.qty
        if algo.close_position and (pos == 0 or (pos > 0) == (algo.side is Side.BUY)):
            algo.reason = "Reduce Only reject"
            self._set(algo, AlgoStatus.REJECTED, t, "rejected: no position to close")
            return
        child = SubmitOrder(algo.symbol, ClientOrderId(f"algo-{algo.algo_id}"), algo.side, OrderType.MARKET,
                            qty,  # type: ignore[arg-type]
                            reduce_only=algo.reduce_only or algo.close_position)
        try:
            algo.child = self.host.submit(child, t, source="algo", parent=algo)
        except Rejected as exc:
            algo.reason = "Reduce Only reject" if exc.code == vc.REDUCE_ONLY_REJECT.code else str(exc)
            self._set(algo, AlgoStatus.REJECTED, t, f"rejected: {exc}")
            return
        self._set(algo, AlgoStatus.TRIGGERED, t, "triggered")
        self.child_changed(algo.child, t)

    def child_changed(self, child: VenueOrder, t: int) -> None:
        """The child order changed: its algo order is FINISHED once the child is final."""
        algo = self.registry.find(t, child.client_algo_id or "")
        if algo is not None and algo.child is child and child.status.is_final and \
                algo.status is AlgoStatus.TRIGGERED:
            self._set(algo, AlgoStatus.FINISHED, t, "finished")

    def position_closed(self, t: int) -> None:
        """The position went flat: close-position orders expire (Binance's GTE_GTC)."""
        for algo in [a for a in self.armed if a.close_position]:
            algo.reason = "position closed"
            self._end(algo, AlgoStatus.EXPIRED, t, "expired: position closed")

    def cancel_all(self, t: int, what: str) -> None:
        for algo in list(self.armed):
            self._end(algo, AlgoStatus.CANCELLED, t, what)

    def _end(self, algo: AlgoOrder, status: AlgoStatus, t: int, what: str) -> None:
        self.armed.remove(algo)
        self._set(algo, status, t, what)
        self.host.rearm()

    def _set(self, algo: AlgoOrder, status: AlgoStatus, t: int, what: str) -> None:
        algo.status = status
        algo.ts_updated = t
        self._changed(algo, t, what)

    def _changed(self, algo: AlgoOrder, t: int, what: str) -> None:
        self.host.observer.on_algo(t, algo.report(t), what)
