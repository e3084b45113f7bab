"""The one error a bad scenario produces: file, key, what was expected, and a hint."""
from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file that cannot be run as written. ``str()`` is a paragraph for a person."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        body = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{file}: invalid scenario\n{body}")


class KeyedProblems(ValueError):
    """Cross-field problems found by the schema, each with the key a user should change.

    Raised inside a pydantic validator (pydantic keeps the exception in the error's ``ctx``), so
    the loader can report each problem under its own key rather than under ``scenario``.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in problems))


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ..., ``11th``, ``21st``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def event_key(index: int, kind: str | None, field: str | None = None) -> str:
    """The key of the event at 0-based ``index``, as a user counts it: from 1, in file order.

    ``event_key(0, "outage", "duration")`` is ``events[1].duration (the 1st [[events]] entry, outage)``.
    """
    where = f"the {ordinal(index + 1)} [[events]] entry" + (f", {kind}" if kind else "")
    return f"events[{index + 1}]" + (f".{field}" if field else "") + f" ({where})"
