"""The degradation mode applied by root (mode.sh, started by openclaw-mode.path): what each
mode stops and starts, and a mode file the service account could bend is never trusted."""

from __future__ import annotations

import os
from pathlib import Path

from tests.behaviour.conftest import World
from tests.behaviour.host import SandboxHost

SCALING = "scaling:\n  agent_instances:\n    - min: 2\n    - max: 4\n"
# A stand-in systemctl: records what it is asked, and lists the worker instances running.
SYSTEMCTL = """#!/bin/sh
if [ "$1" = list-units ]; then
  for n in 1 2 3 4; do echo "openclaw-worker@$n.service loaded active running Worker"; done
  exit 0
fi
echo "$*" >> {log}
"""


def mode_host(world: World) -> tuple[SandboxHost, Path]:
    text = world.text(extra=SCALING).replace("service:\n", "service:\n  dashboard: "
                                             "{enabled: true}\n", 1)
    host = world.host(text)
    log = host.tmp / "systemctl.log"
    tool = host.bin / "systemctl"
    tool.write_text(SYSTEMCTL.format(log=log))
    tool.chmod(0o755)
    return host, log


def apply_mode(host: SandboxHost, log: Path, mode: str | None) -> list[str]:
    if log.exists():
        log.unlink()
    if mode is not None:
        (host.root / "state/mode").write_text(mode + "\n")
    r = host.run("mode.sh", 1_700_000_000)
    assert r.returncode == 0, r.stderr
    return log.read_text().splitlines() if log.exists() else []


def test_each_mode_runs_what_it_says(world: World) -> None:
    host, log = mode_host(world)
    record = Path(host.plan.target("/var/lib/openclaw/mode"))
    record.parent.mkdir(parents=True, exist_ok=True)
    assert apply_mode(host, log, "DEGRADED") == [
        "stop openclaw-dashboard.service openclaw-worker@3.service openclaw-worker@4.service",
        "start openclaw-worker@1.service openclaw-worker@2.service"]
    assert record.read_text() == "DEGRADED 1700000000\n"
    assert apply_mode(host, log, "MINIMAL") == [
        "stop openclaw-dashboard.service openclaw-worker@1.service openclaw-worker@2.service "
        "openclaw-worker@3.service openclaw-worker@4.service"]
    assert apply_mode(host, log, "MAINTENANCE")[0].startswith("stop openclaw-dashboard")
    assert apply_mode(host, log, "FULL") == [
        "start openclaw-dashboard.service openclaw-worker@1.service openclaw-worker@2.service"]
    assert record.read_text() == "FULL 1700000000\n"


def test_a_mode_file_that_is_a_link_or_not_a_mode_changes_nothing(world: World) -> None:
    host, log = mode_host(world)
    mode = host.root / "state/mode"
    secret = host.tmp / "root-only"
    secret.write_text("MINIMAL\n")  # a file only root may read, holding a valid mode
    os.symlink(secret, mode)
    r = host.run("mode.sh", 1_700_000_000)
    assert r.returncode == 0 and "no valid mode" in r.stderr
    assert not log.exists()
    mode.unlink()
    for bad in ("FULL; reboot", "minimal", "DEGRADED" * 10):
        assert apply_mode(host, log, bad) == []
    mode.unlink()
    os.mkfifo(mode)  # would block a reader that does not refuse it
    assert apply_mode(host, log, None) == []
