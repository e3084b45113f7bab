"""`[[events]]` (scheduled interventions and fault windows) and `[faults]` (random fault mode)."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from sim.scenario.schema.base import Duration, Money, PositiveDuration, Strict


class ExternalClose(Strict):
    """An operator closes the whole position on the venue (a market order of someone else's)."""

    at: Duration
    kind: Literal["external_close"]


class ExternalReduce(Strict):
    """An operator reduces the position by a fraction of its size."""

    at: Duration
    kind: Literal["external_reduce"]
    fraction: Annotated[float, Field(gt=0, le=1)]


class ExternalAdd(Strict):
    """Another system adds ``qty`` (base units) on the position's side (or buys, when flat)."""

    at: Duration
    kind: Literal["external_add"]
    qty: Annotated[Decimal, Field(gt=0, le=1_000_000_000)]


class CancelProtective(Strict):
    """An operator cancels the bot's take-profit and/or stop-loss on the venue."""

    at: Duration
    kind: Literal["cancel_protective"]
    which: Literal["tp", "sl", "both"] = "both"


class MoveProtective(Strict):
    """An operator moves the bot's TP and/or SL trigger by ``by_pct`` (e.g. -0.01: 1 % lower)."""

    at: Duration
    kind: Literal["move_protective"]
    which: Literal["tp", "sl", "both"] = "both"
    by_pct: Annotated[float, Field(gt=-0.5, lt=0.5)]


class SetLeverage(Strict):
    """An operator changes the account's leverage.

    The venue refuses a leverage above its tier's maximum for the position at that moment. One
    above the venue's highest maximum is refused whatever the position, so the scenario must say
    that this is what it models (``expect_refused = true``): otherwise it is taken for a typo.
    """

    at: Duration
    kind: Literal["set_leverage"]
    leverage: Annotated[int, Field(ge=1)]
    expect_refused: bool = False


class TransferOut(Strict):
    """Margin moved out of the account (at most what is available), in quote currency."""

    at: Duration
    kind: Literal["transfer_out"]
    amount: Money


class TransferIn(Strict):
    at: Duration
    kind: Literal["transfer_in"]
    amount: Money


class ExternalOrder(Strict):
    """Another system trades on the same account: market, or a limit ``price_offset_pct`` from the mid."""

    at: Duration
    kind: Literal["external_order"]
    side: Literal["buy", "sell"]
    qty: Annotated[Decimal, Field(gt=0, le=1_000_000_000)]
    price_offset_pct: Annotated[float | None, Field(gt=-0.5, lt=0.5)] = None
    time_in_force: Literal["gtc", "ioc", "post_only"] = "gtc"  # of the limit (with price_offset_pct)
    reduce_only: bool = False


class LatencySpike(Strict):
    """Every leg's latency multiplied by ``factor`` for ``duration``."""

    at: Duration
    kind: Literal["latency_spike"]
    duration: PositiveDuration
    factor: Annotated[float, Field(ge=1, le=1000)] = 10.0


class Outage(Strict):
    """The venue answers every request with `Unavailable` (and pushes nothing) for ``duration``."""

    at: Duration
    kind: Literal["outage"]
    duration: PositiveDuration


class DropUpdates(Strict):
    """Pushed updates are lost for ``duration`` (a stream disconnect)."""

    at: Duration
    kind: Literal["drop_updates"]
    duration: PositiveDuration


class ThinLiquidity(Strict):
    """Depth scaled by ``depth_factor`` and spread by ``spread_factor`` for ``duration``."""

    at: Duration
    kind: Literal["thin_liquidity"]
    duration: PositiveDuration
    depth_factor: Annotated[float, Field(gt=0, le=1)] = 0.2
    spread_factor: Annotated[float, Field(ge=1, le=1000)] = 3.0


REJECT_REASONS = ("insufficient_margin", "price_out_of_band", "below_min_notional", "leverage_too_high",
                  "reduce_only_would_increase", "invalid")


class RejectOrders(Strict):
    """The venue refuses every order of the bot with ``reason`` for ``duration`` (a margin-engine
    glitch, a tightened price band, a venue-side risk limit): the bot must handle each reason."""

    at: Duration
    kind: Literal["reject_orders"]
    duration: PositiveDuration
    reason: Literal[REJECT_REASONS] = "insufficient_margin"  # type: ignore[valid-type]


class PriceGap(Strict):
    """The price jumps by ``pct`` (e.g. -0.03) between two ticks."""

    at: Duration
    kind: Literal["price_gap"]
    pct: Annotated[float, Field(gt=-0.9, lt=10)]


class BotCrash(Strict):
    """The bot process dies: ``now`` (at ``at``), or at the first named point after ``at``:
    ``after_submit`` (an order sent, no answer seen) or ``after_fill`` (a fill recorded, before the
    next request). A new bot starts from the platform record alone after ``restart_after``
    (``"never"``: it stays down)."""

    at: Duration
    kind: Literal["bot_crash"]
    point: Literal["now", "after_submit", "after_fill"] = "now"
    restart_after: Duration | Literal["never"] = "30s"


INTERVENTIONS = (ExternalClose, ExternalReduce, ExternalAdd, CancelProtective, MoveProtective, SetLeverage,
                 TransferOut, TransferIn, ExternalOrder)
WINDOWS = (LatencySpike, Outage, DropUpdates, ThinLiquidity, RejectOrders, PriceGap, BotCrash)

Event = Annotated[ExternalClose | ExternalReduce | ExternalAdd | CancelProtective | MoveProtective | SetLeverage
                  | TransferOut | TransferIn | ExternalOrder | LatencySpike | Outage | DropUpdates | ThinLiquidity
                  | RejectOrders | PriceGap | BotCrash, Field(discriminator="kind")]

FAULT_KINDS = ("external_close", "external_reduce", "external_add", "cancel_protective", "move_protective",
               "transfer_out", "external_order", "latency_spike", "outage", "drop_updates", "thin_liquidity",
               "price_gap", "bot_crash", "set_leverage", "transfer_in", "reject_orders")


class Faults(Strict):
    """Random fault mode: events drawn as Poisson arrivals, ``rates`` per simulated day per kind.

    ``preset = "chaos"`` starts from a rate for every kind (rates given here override it).
    """

    preset: Literal["none", "chaos"] = "none"
    rates: dict[Literal[FAULT_KINDS], Annotated[float, Field(ge=0, le=10_000)]] = Field(default_factory=dict)  # type: ignore[valid-type]


