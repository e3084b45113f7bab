"""Durations written the way people write them: ``"250ms"``, ``"90s"``, ``"15m"``, ``"1h30m"``, ``"1d"``."""
from __future__ import annotations

import re

_UNITS_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration_ms(text: str) -> int:
    """Milliseconds in a duration string; raises ValueError naming the accepted units."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration string such as '90s' or '1h30m', got {text!r}")
    s = text.strip().replace(" ", "")
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS_MS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError(f"not a duration: {text!r} (use a number and a unit: ms, s, m, h, d, w; e.g. '90s', '1h30m')")
    if total != int(total):
        raise ValueError(f"duration {text!r} is not a whole number of milliseconds")
    return int(total)


def format_duration_ms(ms: int) -> str:
    for unit in ("w", "d", "h", "m", "s"):
        if ms and ms % _UNITS_MS[unit] == 0:
            return f"{ms // _UNITS_MS[unit]}{unit}"
    return f"{ms}ms"
