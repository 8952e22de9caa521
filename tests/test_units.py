from __future__ import annotations

import re

import pytest

from openclaw import units


@pytest.mark.parametrize("text, seconds", [
    ("30s", 30), ("15m", 900), ("1h", 3600), ("24 hours", 86400), ("7 days", 604800),
    ("every 5 minutes", 300), ("1 hour", 3600), (45, 45), ("250ms", 0.25), ("2 weeks", 1209600),
])
def test_duration(text: str | int, seconds: float) -> None:
    assert units.duration(text) == seconds
    if isinstance(text, str):
        assert re.match(units.DURATION_RE, text)


@pytest.mark.parametrize("bad", ["soon", "5 fortnights", "-5s", "5", "1h30m"])
def test_duration_pattern_rejects(bad: str) -> None:
    assert not re.match(units.DURATION_RE, bad)


def test_percent_size_count_rate() -> None:
    assert units.percent("80%") == pytest.approx(0.8)
    assert units.percent(0.8) == pytest.approx(0.8)
    assert units.percent(90) == pytest.approx(0.9)
    assert units.size("256MB") == 256_000_000 and units.size("1GiB") == 1024**3
    assert units.count("5 consecutive failures") == 5 and units.count(7) == 7
    assert units.rate_per_hour("100 requests/hour") == 100
    assert units.rate_per_hour("2 requests/minute") == 120


@pytest.mark.parametrize("text, op, value, kind", [
    ("> 5%", ">", 0.05, "fraction"), ("> 10s", ">", 10, "duration"),
    ("< 256MB memory", "<", 256e6, "size"), ("> 5s p99", ">", 5, "duration"),
    ("> 5% errors", ">", 0.05, "fraction"),
])
def test_threshold(text: str, op: str, value: float, kind: str) -> None:
    t = units.threshold(text)
    assert (t.op, t.kind) == (op, kind) and t.value == pytest.approx(value)
    assert re.match(units.THRESHOLD_RE, text)
    assert t.fires(value * 2 if op == ">" else value / 2)
    assert not t.fires(value)
