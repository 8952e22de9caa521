"""Batches of a rolling apply, and the health gate's verdicts."""

from __future__ import annotations

import pytest

from openclaw.live import batches
from openclaw.sync.gate import verdict


@pytest.mark.parametrize("size, expected", [
    ("1", [["a"], ["b"], ["c"], ["d"], ["e"]]),
    ("2", [["a"], ["b", "c"], ["d", "e"]]),
    ("50%", [["a"], ["b", "c", "d"], ["e"]]),  # half of a 5-host region, rounded up
    ("100%", [["a"], ["b", "c", "d", "e"]]),
    ("10", [["a"], ["b", "c", "d", "e"]]),
])
def test_the_canary_goes_alone_then_batches(size: str, expected: list[list[str]]) -> None:
    assert batches(["a", "b", "c", "d", "e"], size) == expected
    assert batches([], size) == []
    assert batches(["solo"], size) == [["solo"]]


@pytest.mark.parametrize("output, expected", [
    ("PASS\n", ("pass", "")),
    ("SKIP\tno running systemd\n", ("skip", "no running systemd")),
    ("FAIL\topenclaw-gateway.service is failed\n",
     ("fail", "openclaw-gateway.service is failed")),
    ("", ("fail", "no verdict from the health gate")),
])
def test_gate_verdicts(output: str, expected: tuple[str, str]) -> None:
    assert verdict(output) == expected
