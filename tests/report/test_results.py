"""An apply's per-host results say how long each host's health gate took: the figure an
operator needs when a rollout is slow (the gateway's own start-up, not the transfer)."""

from __future__ import annotations

import json

from openclaw.report import render
from openclaw.sync.changes import HostChanges
from openclaw.sync.runner import HostResult


def test_results_say_how_long_the_gate_took() -> None:
    changes = [HostChanges("a", "r"), HostChanges("b", "r"), HostChanges("c", "r")]
    results = [HostResult("a", "r", "changed", ("write x", "start y"), gate_seconds=43),
               HostResult("b", "r", "changed", ("write x",)),  # no systemd: gate skipped
               HostResult("c", "r", "failed", ("write x",), "health gate: /readyz: not ready",
                          gate_seconds=120)]
    text = render("text", "apply", changes, results)
    assert "2 step(s), health gate passed in 43 s" in text
    row_b = next(line for line in text.splitlines() if line.split()[1:2] == ["b"])
    assert row_b.rstrip().endswith("changed  1 step(s)")  # a skipped gate is not timed
    assert "health gate: /readyz: not ready" in text and "120 s" not in text
    doc = json.loads(render("json", "apply", changes, results))
    assert [r["gate_seconds"] for r in doc["results"]] == [43, None, 120]
