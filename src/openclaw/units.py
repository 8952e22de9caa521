"""Human units as the report writes them: ``30s``, ``24 hours``, ``80%``, ``256MB``, ``> 5s p99``.

The JSON Schema checks their shape with the same patterns (kept in sync by a test); these
functions turn validated values into numbers for the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_DURATION_UNITS = {
    "ms": 0.001, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800, "weeks": 604800,
}
_SIZE_UNITS = {
    "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}
_NUM = r"[0-9]+(?:\.[0-9]+)?"
DURATION_RE = (r"^\s*(?:every\s+)?" + _NUM + r"\s*(?:"
               + "|".join(sorted(_DURATION_UNITS, key=len, reverse=True)) + r")\s*$")
PERCENT_RE = r"^\s*" + _NUM + r"\s*%\s*$"
SIZE_RE = r"^\s*" + _NUM + r"\s*(?i:b|kb|mb|gb|tb|kib|mib|gib|tib)\s*$"
# Written so that no two parts can take the same spaces: linear time on any input (a run of
# spaces before a stray character used to backtrack for seconds).
COUNT_RE = r"^\s*[0-9]+(?:\s+[A-Za-z_]+)*\s*$"
RATE_RE = r"^\s*[0-9]+\s*(?:requests?|req|calls?)?\s*/\s*(?:second|minute|hour|day|s|m|h|d)\s*$"
# A comparison as the report writes thresholds: "> 5%", "> 10s", "< 256MB memory", "> 5s p99".
THRESHOLD_RE = (r"^\s*(?:>=|<=|>|<)\s*" + _NUM
                + r"(?:\s*(?:%|[A-Za-z]+))?(?:\s+[A-Za-z_0-9]+)*\s*$")


def duration(value: int | float | str) -> float:
    """Seconds. Bare numbers are seconds."""
    if isinstance(value, int | float):
        return float(value)
    m = re.match(r"^\s*(?:every\s+)?(" + _NUM + r")\s*([a-z]+)\s*$", value)
    if not m or m.group(2) not in _DURATION_UNITS:
        raise ValueError(f"not a duration: {value!r}")
    return float(m.group(1)) * _DURATION_UNITS[m.group(2)]


def percent(value: int | float | str) -> float:
    """A fraction: ``80%`` and ``0.8`` are both 0.8; bare numbers above 1 are percentages."""
    if isinstance(value, str):
        return float(value.strip().rstrip("%").strip()) / 100
    return float(value) / 100 if value > 1 else float(value)


def size(value: int | float | str) -> int:
    """Bytes. Bare numbers are bytes."""
    if isinstance(value, int | float):
        return int(value)
    m = re.match(r"^\s*(" + _NUM + r")\s*([A-Za-z]+)\s*$", value)
    if not m or m.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"not a size: {value!r}")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


def count(value: int | str) -> int:
    """``5`` or ``"5 consecutive failures"`` or ``"100000 tokens"``."""
    if isinstance(value, int):
        return value
    m = re.match(r"^\s*([0-9]+)", value)
    if not m:
        raise ValueError(f"not a count: {value!r}")
    return int(m.group(1))


def rate_per_hour(value: int | str) -> float:
    """``100 requests/hour`` as requests per hour; bare numbers are per hour."""
    if isinstance(value, int):
        return float(value)
    m = re.match(r"^\s*([0-9]+)\s*[a-z]*\s*/\s*([a-z]+)\s*$", value)
    if not m:
        raise ValueError(f"not a rate: {value!r}")
    per = {"second": 3600, "s": 3600, "minute": 60, "m": 60, "hour": 1, "h": 1,
           "day": 1 / 24, "d": 1 / 24}[m.group(2)]
    return int(m.group(1)) * per


@dataclass(frozen=True)
class Threshold:
    """A comparison with its value in base units: seconds, fractions or bytes."""

    op: str
    value: float
    kind: str  # "duration" | "fraction" | "size" | "number"

    def fires(self, observed: float) -> bool:
        return {">": observed > self.value, ">=": observed >= self.value,
                "<": observed < self.value, "<=": observed <= self.value}[self.op]


def threshold(value: str | int | float) -> Threshold:
    if isinstance(value, int | float):
        return Threshold(">", float(value), "number")
    m = re.match(r"^\s*(>=|<=|>|<)\s*(" + _NUM + r")\s*(%|[A-Za-z]+)?", value)
    if not m:
        raise ValueError(f"not a threshold: {value!r}")
    op, num, unit = m.group(1), m.group(2), m.group(3) or ""
    if unit == "%":
        return Threshold(op, float(num) / 100, "fraction")
    if unit in _DURATION_UNITS:
        return Threshold(op, duration(num + unit), "duration")
    if unit.lower() in _SIZE_UNITS:
        return Threshold(op, float(size(num + unit)), "size")
    if unit:  # '< 2 PiB' read as the number 2 would be a silent misreading
        raise ValueError(f"unknown unit {unit!r}: use %, a time (ms, s, m, h, d) or a size "
                         "(B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)")
    return Threshold(op, float(num), "number")


# Bounds in base units (seconds, fractions, bytes, counts), checked by the schema's x-range
# keyword on the number a value means, so that '0 tokens' and '150%' meet the same limits
# as 0 and 150.
PARSERS: dict[str, Callable[[Any], float]] = {
    "duration": duration, "percent": percent, "size": size, "count": count,
    "rate": rate_per_hour}
# What a threshold's number may be, by the kind its unit gives it.
THRESHOLD_LIMITS = {"fraction": (0.0, 1.0), "duration": (0.0, 86400.0),
                    "size": (0.0, float(1 << 50)), "number": (0.0, 1e15)}


def show(kind: str, value: float) -> str:
    """A base-unit number as the config would write it: 86400 -> '1d', 0.8 -> '80%'."""
    if kind == "duration":
        s = value
        for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
            if s >= n and s % n == 0:
                return f"{s / n:g}{unit}"
        return f"{s:g}s"
    if kind in ("percent", "fraction"):
        return f"{value * 100:g}%"
    if kind == "size":
        for unit, n in (("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30),
                        ("TB", 1000**4), ("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
            if value >= n and value % n == 0:
                return f"{value / n:g}{unit}"
        return f"{value:g}B"
    if kind == "rate":
        return f"{_plain(value)} requests/hour"
    return _plain(value)


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
