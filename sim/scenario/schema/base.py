"""Shared building blocks of the scenario schema: strict models, duration and number types."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sim.core.units import parse_duration_ms


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

