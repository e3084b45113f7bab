"""The one error a bad scenario produces: file, key, what was expected, and a hint."""
from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file that cannot be run as written. ``str()`` is a paragraph for a person."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        body = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{file}: invalid scenario\n{body}")
