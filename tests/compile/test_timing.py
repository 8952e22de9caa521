"""The health check's unit timeout is sized from its worst case: with two hanging providers
(60 s timeout, 3 attempts) a run took 366 s of probes, over the 5-minute start timeout, and was
killed before it wrote its report or looked at the second provider."""

from __future__ import annotations

import re

from openclaw.compile.timing import health_check_worst, probe_worst
from tests.compile.cases import plans, project


def test_probe_worst_case_follows_the_backoff() -> None:
    assert probe_worst(60, 3, "exponential", 1, 60) == 3 * 60 + 1 + 2
    assert probe_worst(60, 4, "exponential", 1, 3) == 4 * 60 + 1 + 2 + 3
    assert probe_worst(5, 3, "linear", 2, 3) == 15 + 2 + 3
    assert probe_worst(5, 3, "fixed", 2, 9) == 15 + 2 + 2
    assert probe_worst(5, 1, "exponential", 2, 9) == 5


def test_the_health_check_unit_outlasts_its_worst_run() -> None:
    cfg = project("reference").config
    worst = health_check_worst(cfg)
    assert worst > 2 * (3 * 60 + 1 + 2)  # both providers hang, every attempt times out
    unit = plans("reference")[0].file("/etc/systemd/system/openclaw-health-check.service")
    m = re.search(r"^TimeoutStartSec=(\d+)s$", unit.content.decode(), re.M)
    assert m is not None and int(m.group(1)) >= worst > cfg.health_checks.interval
