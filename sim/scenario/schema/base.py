"""Shared building blocks of the scenario schema: strict models, duration and number types.

Every number in a scenario must be finite (``nan`` and ``inf`` are refused everywhere), and every
duration at most `MAX_DURATION` (a century: anything longer is a typo, and would overflow the
millisecond arithmetic of the world and the report).
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sim.core.units import format_duration_ms, parse_duration_ms

MAX_DURATION = "36500d"
MAX_DURATION_MS = parse_duration_ms(MAX_DURATION)


def _duration(value: Any) -> str:
    if parse_duration_ms(value) > MAX_DURATION_MS:  # a number without a unit is refused here, naming the units
        raise ValueError(f"{value!r} is longer than the longest accepted duration ({MAX_DURATION}, a century)")
    return value


def _positive_duration(value: Any) -> str:
    if parse_duration_ms(_duration(value)) <= 0:
        raise ValueError(f"must be longer than zero, got {value!r}")
    return value


def duration_at_least(minimum: str, why: str) -> Any:
    """A duration type of at least ``minimum``; ``why`` ends the message of a shorter one."""
    floor = parse_duration_ms(minimum)

    def check(value: Any) -> str:
        if parse_duration_ms(_duration(value)) < floor:
            raise ValueError(f"must be at least {format_duration_ms(floor)} ({why}), got {value!r}")
        return value

    return Annotated[str, BeforeValidator(check)]


Duration = Annotated[str, BeforeValidator(_duration)]
PositiveDuration = Annotated[str, BeforeValidator(_positive_duration)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
# bounds far past anything real, so that a typo (an extra zero, a unit slip) is refused, not run
Money = Annotated[float, Field(gt=0, le=1e12)]  # a balance or a transfer, in quote currency
Qty = Annotated[float, Field(gt=0, le=1e9)]  # a size in base units (float-valued keys)
LatencyMs = Annotated[float, Field(ge=0, le=600_000)]  # one leg: at most ten minutes
LogSigma = Annotated[float, Field(ge=0, le=3)]  # lognormal shape: 3 already puts p99 at 1000x the median
Bps = Annotated[float, Field(ge=0, le=10_000)]  # basis points: at most 100 %


def ms(d: str) -> int:
    return parse_duration_ms(d)


class Strict(BaseModel):
    """Unknown keys are errors, models are frozen values, and no number is ``nan`` or ``inf``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
