"""`[bot]`: strategy, cycle, limits, and the sizing, execution and protective policies."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from sim.scenario.schema.base import Bps, Duration, PositiveDuration, Strict


class Protective(Strict):
    enabled: bool = True
    take_profit_pct: Annotated[float | None, Field(gt=0, lt=1)] = 0.01
    stop_loss_pct: Annotated[float | None, Field(gt=0, lt=1)] = 0.005
    trigger_by: Literal["mark", "last"] = "mark"


class Sizing(Strict):
    mode: Literal["strategy", "fixed_qty", "fixed_notional", "equity_fraction", "risk"] = "strategy"
    value: Annotated[float | None, Field(gt=0, le=1e12)] = None

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
    max_position: Annotated[Decimal | None, Field(gt=0, le=1_000_000_000)] = None
    max_leverage: Annotated[float | None, Field(gt=0, le=200)] = None
    entry_tolerance_bps: Bps = 1.0
    protective: Protective = Protective()
    sizing: Sizing = Sizing()
    execution: ExecutionCfg = ExecutionCfg()

