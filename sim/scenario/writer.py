"""Write a scenario back out as TOML: how a failing random case becomes a regression scenario.

Covers what scenarios hold: tables, strings, numbers, booleans, lists of scalars and lists of
inline tables, and ``[[events]]``. Reading the output with `load_scenario` gives the same scenario.
"""
from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write {v} to TOML")
        return repr(v)
    if isinstance(v, Decimal):
        return str(v) if v == v.to_integral_value() or "E" not in str(v) else repr(float(v))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_scalar(x)}" for k, x in v.items() if x is not None) + " }"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if hasattr(v, "isoformat"):
        return v.isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def _table(name: str, data: dict[str, Any], out: list[str]) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict) or k in ("params", "rates")}
    tables = {k: v for k, v in data.items() if isinstance(v, dict) and k not in ("params", "rates")}
    if scalars or not tables:
        out.append(f"[{name}]")
        out.extend(f"{_key(k)} = {_scalar(v)}" for k, v in scalars.items() if v is not None)
        out.append("")
    for k, v in tables.items():
        _table(f"{name}.{k}", v, out)


def dump_scenario(data: dict[str, Any] | BaseModel, header: str = "") -> str:
    """TOML text for a scenario given as a dict (as parsed) or a `Scenario`."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="python", exclude_none=True)
    out = [f"# {line}" for line in header.splitlines()] + ([""] if header else [])
    for name, value in data.items():
        if name in ("events", "expect"):
            continue
        _table(name, value, out)
    for event in data.get("events", []):
        out.append("[[events]]")
        out.extend(f"{_key(k)} = {_scalar(v)}" for k, v in event.items() if v is not None)
        out.append("")
    if data.get("expect"):
        out.append("[expect]")
        out.extend(f"{_key(k)} = {_scalar(v)}" for k, v in data["expect"].items())
        out.append("")
    return "\n".join(out)
