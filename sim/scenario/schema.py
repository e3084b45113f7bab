"""The scenario schema (pydantic): every table, key, unit and default in one place.

Durations are strings with a unit (``"90s"``); fractions are plain numbers (0.01 = 1 %); money
is in the settlement currency; quantities in base units. Unknown keys are errors.
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from sim.core.units import parse_duration_ms
from sim.scenario.errors import KeyedProblems, event_key


def _duration(value: Any) -> str:
    parse_duration_ms(value)  # a number without a unit is refused here, naming the units
    return value


def _positive_duration(value: Any) -> str:
    if parse_duration_ms(value) <= 0:
        raise ValueError(f"must be longer than zero, got {value!r}")
    return value


Duration = Annotated[str, BeforeValidator(_duration)]
PositiveDuration = Annotated[str, BeforeValidator(_positive_duration)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


def ms(d: str) -> int:
    return parse_duration_ms(d)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioMeta(Strict):
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    duration: PositiveDuration
    seed: Annotated[int, Field(ge=0)] = 0
    start: datetime | None = None  # default: 2024-01-01 for synthetic markets, the data's start for replay

    @property
    def start_ms(self) -> int:
        """The run's start; for a replay without ``start`` the composition root uses the data's."""
        start = self.start or datetime(2024, 1, 1, tzinfo=UTC)
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        return int(start.timestamp() * 1000)


class Market(Strict):
    model: Literal["gbm", "replay"] = "gbm"
    # replay: a data file (path relative to the scenario file) and how to read it
    file: str | None = None
    format: Literal["kline_csv", "ccxt_csv", "freqtrade_json", "freqtrade_feather", "aggtrades_csv",
                    "freqtrade_trades_json", "csv", "parquet"] | None = None
    kind: Literal["ohlcv", "trades"] | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    time_unit: Literal["auto", "s", "ms", "us", "ns"] = "auto"
    resolution: PositiveDuration = "1s"
    intrabar: Literal["brownian_bridge", "linear"] = "brownian_bridge"
    gaps: Literal["error", "fill"] = "error"
    max_gap: Duration = "1m"
    exclude_trade_types: list[str] = Field(default_factory=list)
    symbol: str = "BTCUSDT"
    s0: Positive = 30_000.0
    sigma: NonNegative = 0.6
    drift: float = 0.0
    tick: PositiveDuration = "1s"
    tick_size: Annotated[Decimal, Field(gt=0)] = Decimal("0.1")
    # (gbm keys above: s0, sigma, drift, tick; replay keys: file ... exclude_trade_types)
    lot_size: Annotated[Decimal, Field(gt=0)] = Decimal("0.001")
    min_qty: Annotated[Decimal, Field(ge=0)] = Decimal("0.001")
    min_notional: Annotated[Decimal, Field(ge=0)] = Decimal("5")


class Liquidity(Strict):
    ideal: bool = False
    spread_bps: NonNegative = 1.0
    level_step_bps: NonNegative = 0.5
    level0_qty: Positive = 0.5
    levels: Annotated[int, Field(ge=1)] = 400
    depth_exponent: Annotated[float, Field(ge=1, le=4)] = 2.0
    resting_fill_fraction: Annotated[float, Field(gt=0, le=1)] = 0.5


class Latency(Strict):
    median_ms: NonNegative = 40.0
    sigma: NonNegative = 0.5
    floor_ms: Annotated[int, Field(ge=0)] = 1
    samples_ms: list[NonNegative] = Field(default_factory=list)  # measured legs to draw from (replaces lognormal)


class TransportCfg(Strict):
    timeout: PositiveDuration = "5s"
    recv_window: Duration | None = None  # default: the timeout
    request_loss_prob: Fraction = 0.0
    response_loss_prob: Fraction = 0.0


class RateLimitCfg(Strict):
    requests: Annotated[int, Field(ge=1)]
    per: PositiveDuration = "1s"


class UpdatesCfg(Strict):
    enabled: bool = True
    median_ms: NonNegative = 20.0
    sigma: NonNegative = 0.5
    drop_prob: Fraction = 0.0


class MarginTierCfg(Strict):
    notional_cap: Positive
    mmr: Fraction
    max_leverage: Annotated[int, Field(ge=1)]


class Exchange(Strict):
    taker_fee: Fraction = 0.0004
    maker_fee: Annotated[float, Field(ge=-0.01, le=1)] = 0.0002
    max_leverage: Annotated[int, Field(ge=1, le=200)] = 125
    maintenance_margin_rate: Fraction = 0.004
    liquidation_fee: Fraction = 0.0125
    margin_tiers: list[MarginTierCfg] = Field(default_factory=list)
    price_band_pct: Annotated[float, Field(gt=0, le=1)] = 0.05
    funding_interval: PositiveDuration = "8h"
    funding_rate: Annotated[float, Field(ge=-0.05, le=0.05)] = 0.0001
    funding_rate_sd: Annotated[float, Field(ge=0, le=0.05)] = 0.0
    # a recorded series, one rate per funding time in order; after its end, funding_rate (+ noise)
    funding_rates: list[Annotated[float, Field(ge=-0.05, le=0.05)]] = Field(default_factory=list)
    latency: Latency = Latency()
    transport: TransportCfg = TransportCfg()
    rate_limit: RateLimitCfg | None = None
    updates: UpdatesCfg = UpdatesCfg()


class Account(Strict):
    balance: Positive = 10_000.0
    leverage: Annotated[int, Field(ge=1)] = 5


class Protective(Strict):
    enabled: bool = True
    take_profit_pct: Annotated[float | None, Field(gt=0, lt=1)] = 0.01
    stop_loss_pct: Annotated[float | None, Field(gt=0, lt=1)] = 0.005
    trigger_by: Literal["mark", "last"] = "mark"


class Sizing(Strict):
    mode: Literal["strategy", "fixed_qty", "fixed_notional", "equity_fraction", "risk"] = "strategy"
    value: Annotated[float | None, Field(gt=0)] = None

    @model_validator(mode="after")
    def _needs_value(self) -> Sizing:
        if self.mode != "strategy" and self.value is None:
            raise ValueError(f"sizing mode {self.mode!r} needs a value")
        return self


class ExecutionCfg(Strict):
    flip: Literal["single", "close_then_open"] = "single"
    partial_fill: Literal["cancel", "chase", "complete", "unwind"] = "complete"
    chase_limit_bps: Annotated[float, Field(gt=0, le=500)] = 10.0
    chase_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    deadline: Duration = "5m"
    rate_limit_attempts: Annotated[int, Field(ge=1, le=50)] = 5
    unavailable_wait: PositiveDuration = "5s"


class Bot(Strict):
    strategy: str = "ma_crossover"
    params: dict[str, Any] = Field(default_factory=dict)
    cycle: PositiveDuration = "1m"
    bot_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")] = "ae"
    max_position: Annotated[Decimal | None, Field(gt=0)] = None
    max_leverage: Annotated[float | None, Field(gt=0)] = None
    entry_tolerance_bps: NonNegative = 1.0
    protective: Protective = Protective()
    sizing: Sizing = Sizing()
    execution: ExecutionCfg = ExecutionCfg()


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
    qty: Annotated[Decimal, Field(gt=0)]


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
    amount: Positive


class TransferIn(Strict):
    at: Duration
    kind: Literal["transfer_in"]
    amount: Positive


class ExternalOrder(Strict):
    """Another system trades on the same account: market, or a limit ``price_offset_pct`` from the mid."""

    at: Duration
    kind: Literal["external_order"]
    side: Literal["buy", "sell"]
    qty: Annotated[Decimal, Field(gt=0)]
    price_offset_pct: Annotated[float | None, Field(gt=-0.5, lt=0.5)] = None
    time_in_force: Literal["gtc", "ioc", "post_only"] = "gtc"  # of the limit (with price_offset_pct)
    reduce_only: bool = False


class LatencySpike(Strict):
    """Every leg's latency multiplied by ``factor`` for ``duration``."""

    at: Duration
    kind: Literal["latency_spike"]
    duration: PositiveDuration
    factor: Annotated[float, Field(ge=1)] = 10.0


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
    spread_factor: Annotated[float, Field(ge=1)] = 3.0


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
    rates: dict[Literal[FAULT_KINDS], NonNegative] = Field(default_factory=dict)  # type: ignore[valid-type]


ExpectValue = float | int | bool | str | None | dict[str, float | int | bool | str | None]


class Scenario(Strict):
    scenario: ScenarioMeta
    market: Market = Market()
    liquidity: Liquidity = Liquidity()
    exchange: Exchange = Exchange()
    account: Account = Account()
    bot: Bot = Bot()
    events: list[Event] = Field(default_factory=list)
    faults: Faults = Faults()
    expect: dict[str, ExpectValue] = Field(default_factory=dict)
    _source: str = PrivateAttr(default="<memory>")

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems = self.cross_field_problems()
        if problems:
            raise KeyedProblems(problems)
        return self

    def cross_field_problems(self) -> list[tuple[str, str]]:
        """Problems that involve more than one key, each under the key to change (key, message)."""
        problems: list[tuple[str, str]] = []
        duration = ms(self.scenario.duration)
        m, ex, lev = self.market, self.exchange, self.account.leverage
        if m.model == "replay":
            for key in ("file", "format"):
                if not getattr(m, key):
                    problems.append((f"market.{key}", 'required when market.model = "replay"'))
            if m.format in ("csv", "parquet") and m.kind is None:
                problems.append(("market.kind", f'"ohlcv" or "trades" is needed with market.format = "{m.format}"'))
        if lev > ex.max_leverage:
            problems.append(("account.leverage", f"{lev} exceeds the venue's exchange.max_leverage {ex.max_leverage}"))
        elif ex.margin_tiers and lev > ex.margin_tiers[0].max_leverage:
            problems.append(("account.leverage", f"{lev} exceeds the first margin tier's max_leverage "
                                                 f"{ex.margin_tiers[0].max_leverage} (exchange.margin_tiers[1])"))
        if ms(self.bot.cycle) < ms(m.tick):
            problems.append(("bot.cycle", f"{self.bot.cycle} is shorter than market.tick {m.tick}"))
        venue_max = max(t.max_leverage for t in ex.margin_tiers) if ex.margin_tiers else ex.max_leverage
        venue_max_key = ("the highest max_leverage in exchange.margin_tiers" if ex.margin_tiers
                         else "exchange.max_leverage")
        for i, ev in enumerate(self.events):
            if ms(ev.at) > duration:
                problems.append((event_key(i, ev.kind, "at"), f"{ev.at} is after the end of the run "
                                                              f"(scenario.duration = {self.scenario.duration})"))
            if isinstance(ev, SetLeverage) and ev.leverage > venue_max and not ev.expect_refused:
                problems.append((event_key(i, ev.kind, "leverage"),
                                 f"{ev.leverage} is above the venue's maximum ({venue_max_key} = {venue_max}), so "
                                 "the venue would refuse it whatever the position; to model an operator's refused "
                                 "attempt, add expect_refused = true to this event"))
        return problems

    @property
    def duration_ms(self) -> int:
        return ms(self.scenario.duration)

    @property
    def source(self) -> str:
        """The file this scenario was read from (``<memory>`` when built in code)."""
        return self._source
