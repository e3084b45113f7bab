"""The scenario schema (pydantic): every table, key, unit and default, one module a table.

Durations are strings with a unit (``"90s"``); fractions are plain numbers (0.01 = 1 %); money
is in the settlement currency; quantities in base units. Unknown keys are errors.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field, PrivateAttr, model_validator

from sim.scenario.errors import KeyedProblems, event_key
from sim.scenario.schema.base import (
    Duration,
    Fraction,
    NonNegative,
    Positive,
    PositiveDuration,
    Strict,
    ms,
)
from sim.scenario.schema.bot import Bot, ExecutionCfg, Protective, Sizing
from sim.scenario.schema.events import (
    FAULT_KINDS,
    INTERVENTIONS,
    REJECT_REASONS,
    WINDOWS,
    BotCrash,
    CancelProtective,
    DropUpdates,
    Event,
    ExternalAdd,
    ExternalClose,
    ExternalOrder,
    ExternalReduce,
    Faults,
    LatencySpike,
    MoveProtective,
    Outage,
    PriceGap,
    RejectOrders,
    SetLeverage,
    ThinLiquidity,
    TransferIn,
    TransferOut,
)
from sim.scenario.schema.exchange import (
    Account,
    Exchange,
    Latency,
    MarginTierCfg,
    RateLimitCfg,
    TransportCfg,
    UpdatesCfg,
)
from sim.scenario.schema.market import Liquidity, Market


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
        if m.model in ("replay", "bootstrap"):
            for key in ("file", "format"):
                if not getattr(m, key):
                    problems.append((f"market.{key}", f'required when market.model = "{m.model}"'))
            if m.format in ("csv", "parquet") and m.kind is None:
                problems.append(("market.kind", f'"ohlcv" or "trades" is needed with market.format = "{m.format}"'))
        if lev > ex.max_leverage:
            problems.append(("account.leverage", f"{lev} exceeds the venue's exchange.max_leverage {ex.max_leverage}"))
        elif ex.margin_tiers and lev > ex.margin_tiers[0].max_leverage:
            problems.append(("account.leverage", f"{lev} exceeds the first margin tier's max_leverage "
                                                 f"{ex.margin_tiers[0].max_leverage} (exchange.margin_tiers[1])"))
        if ms(m.vol_longest) < ms(m.vol_shortest):
            problems.append(("market.vol_longest", f"{m.vol_longest} is shorter than market.vol_shortest "
                                                   f"{m.vol_shortest}"))
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


__all__ = [
    "Account",
    "Bot",
    "BotCrash",
    "CancelProtective",
    "DropUpdates",
    "Duration",
    "Event",
    "Exchange",
    "ExecutionCfg",
    "ExpectValue",
    "ExternalAdd",
    "ExternalClose",
    "ExternalOrder",
    "ExternalReduce",
    "FAULT_KINDS",
    "Faults",
    "Fraction",
    "INTERVENTIONS",
    "Latency",
    "LatencySpike",
    "Liquidity",
    "MarginTierCfg",
    "Market",
    "MoveProtective",
    "NonNegative",
    "Outage",
    "Positive",
    "PositiveDuration",
    "PriceGap",
    "Protective",
    "REJECT_REASONS",
    "RateLimitCfg",
    "RejectOrders",
    "Scenario",
    "ScenarioMeta",
    "SetLeverage",
    "Sizing",
    "Strict",
    "ThinLiquidity",
    "TransferIn",
    "TransferOut",
    "TransportCfg",
    "UpdatesCfg",
    "WINDOWS",
    "ms",
]
