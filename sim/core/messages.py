"""Requests the bot yields and the reports it gets back.

Commands are imperative (`SubmitOrder`), venue state comes back as noun reports
(`PositionReport`). Every report carries ``ts``: the venue's time in integer milliseconds when
it answered; that is how the bot learns the time (it never reads a clock).

Two times, as on Binance: ``ts`` is the *event* time (when the venue sent the report: its answer,
or the pushed update; Binance ``E``), ``updated_ms`` on an order, algo order or position the
*transaction* time (when it last changed at the venue; Binance ``T`` / ``updateTime``). A fill's
``ts`` is its trade time, its ``event_ms`` when the venue pushed it (a query's answer carries
its own ``ts``).
``0`` in these added fields means "not given" (reports built outside a venue, e.g. test fakes).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sim.core.errors import ExchangeError
from sim.core.types import (
    AlgoOrderId,
    AlgoStatus,
    ClientOrderId,
    FillKind,
    OrderStatus,
    OrderType,
    RejectReason,
    Side,
    TimeInForce,
    TradeId,
    TriggerBy,
    VenueOrderId,
)

# ---------------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class FetchPositions:
    symbol: str


@dataclass(frozen=True, slots=True)
class FetchOpenOrders:
    symbol: str


@dataclass(frozen=True, slots=True)
class FetchAccount:
    pass


@dataclass(frozen=True, slots=True)
class FetchOrder:
    """Look an order up by our client id (how a timeout is resolved), or by the venue's id.

    A client id is unique among *open* orders only (Binance): a closed order's id may be used
    again, and then the lookup answers the newest order with it. With ``venue_id`` the lookup is by
    the venue's id (how a triggered algo order's child, ``actual_order_id``, is found) and
    ``client_id`` is ignored. An order is no longer found (UNKNOWN_ORDER, -2013) once it is
    cancelled or expired with no fills and 3 days old, or any order 90 days old: "unknown order"
    alone does not prove "never arrived".
    """

    symbol: str
    client_id: ClientOrderId
    venue_id: VenueOrderId | None = None


@dataclass(frozen=True, slots=True)
class FetchFills:
    """The account's fills with ``ts >= since_ms`` (the venue's trade history)."""

    symbol: str
    since_ms: int


@dataclass(frozen=True, slots=True)
class FetchTicker:
    symbol: str


@dataclass(frozen=True, slots=True)
class FetchCandles:
    """Closed candles of ``interval_ms`` whose open time is ``>= since_ms``."""

    symbol: str
    interval_ms: int
    since_ms: int
    limit: int = 1000


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    """A new order. Its answer depends on the venue's ``exchange.order_response``:

    ``"result"`` (what ccxt asks for): the order as it stands after matching (a market or IOC order
    FILLED or EXPIRED with what it got). ``"ack"``: a market, IOC or FOK order is answered
    ACKNOWLEDGED (Binance NEW) with nothing filled; it fills after the venue's matching delay, and
    the bot learns that from a pushed update or a later query. Limit GTC orders are answered as
    they rest either way.

    STOP_MARKET / TAKE_PROFIT_MARKET here is Binance's legacy route: accepted while the venue's
    ``exchange.conditional_orders = "legacy"``, refused -4120 under ``"algo"`` (use
    `SubmitAlgoOrder`). ``trigger_by`` defaults to the contract (last) price, as on Binance.
    """

    symbol: str
    client_id: ClientOrderId
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None = None  # limit price
    trigger_price: Decimal | None = None  # TP / SL trigger
    trigger_by: TriggerBy = TriggerBy.LAST
    reduce_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC


@dataclass(frozen=True, slots=True)
class CancelOrder:
    symbol: str
    client_id: ClientOrderId


@dataclass(frozen=True, slots=True)
class AmendOrder:
    """Change a resting *limit* order in place (quantity or price); it loses its queue place.

    Conditional orders cannot be amended (Binance): cancel and place another. A legacy-route
    trigger order (venue ``conditional_orders = "legacy"``) may still have its ``trigger_price``
    amended, as before.
    """

    symbol: str
    client_id: ClientOrderId
    qty: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SubmitAlgoOrder:
    """A conditional order (stop-loss or take-profit) for the venue's algo service.

    Binance USD-M takes conditional orders only through its algo API since 2025-12-09: they
    have their own ids (``client_algo_id``, the venue's ``algo_id``), statuses, listing and lookup,
    and on trigger the venue creates a separate market order (the *child*, with its own ids) whose
    fills carry the child's ids. ``qty`` is None with ``close_position`` (close whatever the
    position is at trigger). ``trigger_by`` defaults to the contract (last) price, as on Binance.
    """

    symbol: str
    client_algo_id: ClientOrderId
    side: Side
    type: OrderType  # STOP_MARKET or TAKE_PROFIT_MARKET
    trigger_price: Decimal
    qty: Decimal | None
    trigger_by: TriggerBy = TriggerBy.LAST
    reduce_only: bool = False
    close_position: bool = False


@dataclass(frozen=True, slots=True)
class CancelAlgoOrder:
    """Cancel an open conditional order (by client algo id, or by the venue's ``algo_id``)."""

    symbol: str
    client_algo_id: ClientOrderId
    algo_id: AlgoOrderId | None = None


@dataclass(frozen=True, slots=True)
class FetchAlgoOrder:
    """Look a conditional order up by our client algo id (its child order, once triggered, too)."""

    symbol: str
    client_algo_id: ClientOrderId
    algo_id: AlgoOrderId | None = None


@dataclass(frozen=True, slots=True)
class FetchOpenAlgoOrders:
    symbol: str


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait until the venue time ``until_ms``; answered by the driver, not the venue."""

    until_ms: int


Request = (
    FetchPositions
    | FetchOpenOrders
    | FetchAccount
    | FetchOrder
    | FetchFills
    | FetchTicker
    | FetchCandles
    | SubmitOrder
    | CancelOrder
    | AmendOrder
    | SubmitAlgoOrder
    | CancelAlgoOrder
    | FetchAlgoOrder
    | FetchOpenAlgoOrders
    | Sleep
)

# ----------------------------------------------------------------------------------- reports


@dataclass(frozen=True, slots=True)
class PositionReport:
    """A one-way position: ``qty`` is signed (positive long); entry is the average entry price."""

    symbol: str
    qty: Decimal
    entry_price: Decimal
    ts: int
    updated_ms: int = 0  # when the position last changed (transaction time)


@dataclass(frozen=True, slots=True)
class PositionsReport:
    ts: int
    positions: tuple[PositionReport, ...]

    def qty(self, symbol: str) -> Decimal:
        for p in self.positions:
            if p.symbol == symbol:
                return p.qty
        return Decimal(0)

    def get(self, symbol: str) -> PositionReport | None:
        for p in self.positions:
            if p.symbol == symbol:
                return p
        return None


@dataclass(frozen=True, slots=True)
class OrderReport:
    symbol: str
    client_id: ClientOrderId
    venue_id: VenueOrderId
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    reduce_only: bool
    status: OrderStatus
    filled_qty: Decimal
    avg_price: Decimal | None
    ts: int  # event time: when the venue sent this report
    updated_ms: int = 0  # transaction time: when the order last changed at the venue
    client_algo_id: ClientOrderId | None = None  # a triggered algo order's child: the algo order that made it
    time_in_force: TimeInForce = TimeInForce.GTC


@dataclass(frozen=True, slots=True)
class OpenOrdersReport:
    ts: int
    orders: tuple[OrderReport, ...]


@dataclass(frozen=True, slots=True)
class AlgoOrderReport:
    """A conditional order as the venue's algo service reports it.

    Once triggered, ``actual_order_id`` / ``actual_client_id`` name the child market order the venue
    created (look it up with `FetchOrder`; its fills carry its ids, not the algo order's; the
    child's `OrderReport.client_algo_id` names this order back). The child's client id is the
    venue's, ``algo-<algo_id>``: never one of the bot's.
    ``ts`` is when the venue sent this report, ``updated_ms`` when the order last changed there.

    Lifecycle in this venue: NEW (waiting) -> on trigger TRIGGERING -> TRIGGERED (the child exists)
    -> FINISHED (the child filled or expired); or CANCELLED (by request, or when a liquidation
    cancels every open order); REJECTED when the child is refused at trigger (``reason``: e.g.
    "Reduce Only reject" when nothing is left to reduce); EXPIRED for a ``close_position`` order
    whose position was gone when it triggered. Every change is pushed (in `Woke.updates`). An
    algo order is found by `FetchAlgoOrder` under the same retention rules as orders.
    """

    symbol: str
    client_algo_id: ClientOrderId
    algo_id: AlgoOrderId
    side: Side
    type: OrderType
    qty: Decimal | None
    trigger_price: Decimal
    trigger_by: TriggerBy
    reduce_only: bool
    close_position: bool
    status: AlgoStatus
    actual_order_id: VenueOrderId | None
    actual_client_id: ClientOrderId | None
    ts: int
    updated_ms: int
    trigger_ms: int | None = None
    reason: str = ""  # why it was rejected or expired (Binance's ``rm``)
    actual_qty: Decimal = Decimal(0)  # what the child order filled (Binance ``aq``)
    actual_price: Decimal | None = None  # its average price (Binance ``ap``)


@dataclass(frozen=True, slots=True)
class OpenAlgoOrdersReport:
    ts: int
    orders: tuple[AlgoOrderReport, ...]


@dataclass(frozen=True, slots=True)
class AccountReport:
    """Margin figures in the settlement currency, unrealized PnL on the mark price."""

    ts: int
    wallet: float
    unrealized_pnl: float
    equity: float
    initial_margin: float
    available_margin: float
    leverage: int


@dataclass(frozen=True, slots=True)
class FillReport:
    trade_id: TradeId
    symbol: str
    venue_order_id: VenueOrderId | None
    client_id: ClientOrderId | None  # None: not an order of ours (liquidation, another system)
    side: Side
    qty: Decimal
    price: Decimal
    fee: float
    kind: FillKind
    ts: int  # trade (transaction) time
    event_ms: int = 0  # when the venue pushed it (at once: the trade time); a query's answer time is FillsReport.ts
    maker: bool = False


@dataclass(frozen=True, slots=True)
class FillsReport:
    ts: int
    fills: tuple[FillReport, ...]


@dataclass(frozen=True, slots=True)
class Ticker:
    ts: int
    bid: float
    ask: float
    last: float
    mark: float

    @property
    def mid(self) -> float:
        return 0.5 * (self.bid + self.ask)


@dataclass(frozen=True, slots=True)
class Candle:
    open_ms: int
    open: float
    high: float
    low: float
    close: float


@dataclass(frozen=True, slots=True)
class CandlesReport:
    ts: int
    candles: tuple[Candle, ...]


@dataclass(frozen=True, slots=True)
class Woke:
    """The driver's answer to `Sleep`: the time, and any pushed updates that arrived meanwhile.

    Pushed updates (order, fill and position reports from the venue's stream) can be late or
    lost, so the bot treats them as a reason to reconcile early, never as the truth itself.
    A sleep ends early when an update arrives.
    """

    ts: int
    updates: tuple[OrderReport | AlgoOrderReport | FillReport | PositionReport, ...] = ()


Response = (
    PositionsReport
    | OpenOrdersReport
    | AccountReport
    | OrderReport
    | AlgoOrderReport
    | OpenAlgoOrdersReport
    | FillsReport
    | Ticker
    | CandlesReport
    | Woke
)



@dataclass(frozen=True, slots=True)
class Reply:
    """What a driver sends into the bot's generator for each request it yielded: the venue's answer
    (a report, or `Woke` for a `Sleep`) or its refusal (an `ExchangeError`), and ``received_ms``, when
    the answer reached the bot: simulated time in simulation, the local clock at receipt live.

    This is the whole driver protocol: ``request = bot.send(Reply(...))`` (``next(bot)`` to start)
    until the generator returns. The driver never throws into the bot, sets no clock and calls no
    hook: the bot takes its time from each reply and makes its record durable itself before it
    yields a request that acts on the venue.
    """

    received_ms: int
    answer: Response | ExchangeError


__all__ = [
    "AccountReport", "AlgoOrderReport", "AmendOrder", "CancelAlgoOrder", "FetchAlgoOrder", "FetchOpenAlgoOrders",
    "OpenAlgoOrdersReport", "SubmitAlgoOrder", "CancelOrder", "Candle", "CandlesReport", "FetchAccount", "FetchCandles",
    "FetchFills", "FetchOpenOrders", "FetchOrder", "FetchPositions", "FetchTicker", "FillReport",
    "FillsReport", "OpenOrdersReport", "OrderReport", "PositionReport", "PositionsReport", "Reply", "Request",
    "Response", "RejectReason", "Sleep", "SubmitOrder", "Ticker", "Woke",
]
