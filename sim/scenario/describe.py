"""Pydantic's validation errors turned into sentences a user can act on, each under its scenario key.

A key is written the way the file reads (``market.sigma``, ``events[2].duration``); list entries
are counted from 1, in file order, as a person counts ``[[events]]`` tables. An unknown key or
value comes with the nearest valid name. A union's several complaints about one value become one
line, and a cross-field problem (`KeyedProblems`) is reported under the key it names.
"""
from __future__ import annotations

import difflib
import re
import types
import typing
from datetime import date
from typing import Any

from pydantic import BaseModel

from sim.scenario.errors import KeyedProblems, event_key, ordinal
from sim.scenario.schema import INTERVENTIONS, WINDOWS, Scenario

EVENT_MODELS: dict[str, type[BaseModel]] = {
    m.model_fields["kind"].annotation.__args__[0]: m for m in (*INTERVENTIONS, *WINDOWS)  # type: ignore[union-attr]
}
EVENT_KINDS = tuple(EVENT_MODELS)


def _shape(ann: Any) -> tuple[str, Any]:
    """What a field holds: ("model", cls), ("events", None), ("list", item), ("dict", None) or ("leaf", None)."""
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _shape(typing.get_args(ann)[0])
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "model", ann
    if origin in (typing.Union, types.UnionType):
        members = typing.get_args(ann)
        if all(isinstance(m, type) and m.__name__ in {c.__name__ for c in EVENT_MODELS.values()} for m in members):
            return "events", None
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        return ("model", models[0]) if len(models) == 1 else ("leaf", None)
    if origin is list:
        item = _shape(typing.get_args(ann)[0])
        return ("events", None) if item[0] == "events" else ("list", typing.get_args(ann)[0])
    if origin is dict:
        return "dict", None
    return "leaf", None


def _locate(loc: tuple[Any, ...]) -> tuple[list[str | int], type[BaseModel] | None, str | None, bool]:
    """The user's key path in ``loc`` (union-member tags dropped), the model owning its last part,
    the event kind if it is inside an event, and whether the error is about a dict key itself."""
    path: list[str | int] = []
    shape: tuple[str, Any] = ("model", Scenario)
    owner: type[BaseModel] | None = Scenario
    kind: str | None = None
    on_key = False
    for part in loc:
        what, arg = shape
        if what == "model" and isinstance(part, str) and part in arg.model_fields:
            owner = arg
            path.append(part)
            shape = _shape(arg.model_fields[part].annotation)
        elif what == "model" and isinstance(part, str):
            owner = arg  # an unknown key: keep it; its owner suggests the nearest name
            path.append(part)
            shape = ("leaf", None)
        elif what in ("list", "events") and isinstance(part, int):
            path.append(part)
            shape = ("event", None) if what == "events" else _shape(arg)
        elif what == "event" and isinstance(part, str) and part in EVENT_MODELS:
            kind = part
            owner = EVENT_MODELS[part]
            shape = ("model", EVENT_MODELS[part])
        elif what == "dict":
            path.append(str(part))
            shape = ("dict-value", None)
        elif what == "dict-value" and part == "[key]":
            on_key = True
        # anything else is a union member's tag (``float``, ``function-before[...]``): not the user's key
    return path, owner, kind, on_key


def format_key(path: list[str | int], kind: str | None = None) -> str:
    """``exchange.latency.median_ms``; an event as ``events[2].duration (the 2nd [[events]] entry, outage)``."""
    if len(path) >= 2 and path[0] == "events" and isinstance(path[1], int):
        rest = ".".join(str(p) for p in path[2:]) or None
        return event_key(path[1], kind, rest)
    out, note = "", ""
    for p in path:
        if isinstance(p, int):
            note = f" (the {ordinal(p + 1)} entry of {out})"
            out += f"[{p + 1}]"
        else:
            out += f".{p}" if out else p
    return (out or "scenario") + note


def _nearest(got: str, names: list[str] | tuple[str, ...]) -> str:
    near = difflib.get_close_matches(got, list(names), n=1)
    return f"; did you mean {near[0]!r}?" if near else ""


def _shown(got: Any, msg: str) -> str:
    if isinstance(got, dict | list | date) or got is None or repr(got) in msg:  # a date: the message shows it
        return ""
    return f" (got {got!r})"


def _one(err: dict[str, Any]) -> tuple[str, str]:
    """(key, message) for one pydantic error."""
    path, owner, kind, on_key = _locate(tuple(err["loc"]))
    etype, got = err["type"], err.get("input")
    if etype == "union_tag_invalid":
        got_kind = str(got.get("kind", "")) if isinstance(got, dict) else ""
        key = format_key([*path, "kind"], None)
        hint = _nearest(got_kind, EVENT_KINDS)
        return key, f"unknown event kind {got_kind!r}{hint} (kinds: {', '.join(EVENT_KINDS)})"
    if etype == "union_tag_not_found":
        return format_key([*path, "kind"], None), f"required key is missing (kinds: {', '.join(EVENT_KINDS)})"
    key = format_key(path, kind)
    if etype == "extra_forbidden":
        names = list(owner.model_fields) if owner else []
        hint = _nearest(str(path[-1]), names) or (f"; valid keys: {', '.join(names)}" if names else "")
        return key, f"unknown key{hint}"
    if etype == "missing":
        field = owner.model_fields.get(str(path[-1])) if owner and path else None
        what, table = _shape(field.annotation) if field else ("leaf", None)
        if what == "model":
            needed = [n for n, f in table.model_fields.items() if f.is_required()]
            return key, f"required table [{key}] is missing (it needs {', '.join(needed)})"
        return key, "required key is missing"
    if etype == "literal_error":
        valid = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        if on_key:
            return key, f"unknown key{_nearest(str(path[-1]), valid)} (valid keys: {', '.join(valid)})"
        wanted = f"one of {', '.join(valid)}" if len(valid) > 1 else repr(valid[0]) if valid else "another value"
        return key, f"expected {wanted} (got {got!r}){_nearest(str(got), valid)}"
    msg = err["msg"].removeprefix("Value error, ")
    return key, f"{msg}{_shown(got, msg)}"


def describe_errors(errors: list[dict[str, Any]]) -> list[str]:
    """One line per key: ``"key: what is wrong (got ...)"``."""
    by_key: dict[str, list[str]] = {}
    for err in errors:
        error = err.get("ctx", {}).get("error")
        if isinstance(error, KeyedProblems):
            for key, msg in error.problems:
                by_key.setdefault(key, []).append(msg)
            continue
        key, msg = _one(err)
        if msg not in by_key.setdefault(key, []):
            by_key[key].append(msg)
    lines = []
    for key, msgs in by_key.items():
        if len(msgs) > 1 and all(m.startswith("Input should be") for m in msgs):  # a union: say what it takes
            got = re.search(r" \(got (.*)\)$", msgs[0])
            wants = [m.removeprefix("Input should be ").split(" (got ")[0] for m in msgs]
            lines.append(f"{key}: should be {' or '.join(wants)}" + (f" (got {got.group(1)})" if got else ""))
        else:
            lines.append(f"{key}: {'; or '.join(msgs)}")
    return lines
