"""The scenario schema (pydantic): every table, key, unit and default, one module a table.

Durations are strings with a unit (``"90s"``); fractions are plain numbers (0.01 = 1 %); money
is in the settlement currency; quantities in base units. Unknown keys are errors.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field, PrivateAttr, field_validator, model_validator

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

EARLIEST_START = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_START = datetime(2100, 1, 1, tzinfo=UTC)
LATEST_END = datetime(2200, 1, 1, tzinfo=UTC)
# a scenario's name becomes a folder name (reports/runs/NAME-seedN, a batch's runs/NAME-sN-...):
# no path separators, no "..", nothing that would write outside the output folder
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class ScenarioMeta(Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1)
    duration: PositiveDuration
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    start: datetime | None = None  # default: 2024-01-01 for synthetic markets, the data's start for replay

    @field_validator("name")
    @classmethod
    def _a_folder_name(cls, name: str) -> str:
        if not re.match(NAME_PATTERN, name) or ".." in name:
            raise ValueError(f"{name!r} is used as a folder name: use letters, digits, '.', '_' and '-' only "
                             "(no '/', '\\', '..', spaces, and not starting with '.' or '-')")
        return name

    @field_validator("start")
    @classmethod
    def _a_sensible_start(cls, start: datetime | None) -> datetime | None:
        if start is None:
            return None
        aware = start if start.tzinfo else start.replace(tzinfo=UTC)
        if not EARLIEST_START <= aware < LATEST_START:
            raise ValueError(f"{start.isoformat()} is not between 1970-01-01 and 2100-01-01")
        return start

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
        if ms(self.bot.cycle) > duration:
            problems.append(("bot.cycle", f"{self.bot.cycle} is longer than the run (scenario.duration = "
                                          f"{self.scenario.duration}): the bot would never decide"))
        if self.scenario.start_ms + duration >= int(LATEST_END.timestamp() * 1000):
            problems.append(("scenario.duration", f"{self.scenario.duration} from the start would end after "
                                                  f"{LATEST_END:%Y-%m-%d}"))
        if m.model == "gbm" and m.s0 < 100 * float(m.tick_size):
            problems.append(("market.s0", f"{m.s0} is {m.s0 / float(m.tick_size):.3g} ticks of market.tick_size "
                                          f"{m.tick_size}: it must be at least 100 ticks, or prices round to nothing"))
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
