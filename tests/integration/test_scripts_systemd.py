"""The compiled health check under real systemd: the timer fires, the service runs as the
service user inside its sandbox, writes its report and metrics, and a stopped gateway opens
the breaker and reaches the (fake) Telegram."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import FAKE, Fleet

pytestmark = pytest.mark.integration
CONFIG = Path(__file__).parent / "scripts.yaml"
TOKEN = {"OCTEST_TELEGRAM_TOKEN": "777000:canary-telegram-Pq2Ws8"}


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_health_check_timer_breaker_and_alert(fleet: Fleet, tmp_path: Path) -> None:
    node = fleet.hosts[0]
    record = tmp_path / "telegram.jsonl"
    record.touch()
    # The fake Telegram listens on loopback inside node1's own network namespace.
    telegram = subprocess.Popen(
        ["ip", "netns", "exec", node.netns, sys.executable, str(FAKE / "recorder.py"),
         "--port", "18999", "--record", str(record)], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        r = fleet.openclaw("apply", "--yes", "--limit", "node1", config=CONFIG, env=TOKEN)
        assert r.returncode == 0, r.stdout + r.stderr
        report = "/opt/openclaw/logs/health-check.json"
        # A run while the gateway still starts may degrade the host; FULL comes back after
        # three healthy runs in a row (hysteresis).
        wait_for("a healthy report in FULL mode", lambda: '"mode": "FULL"' in fleet.sh(
            0, f"cat {report} 2>/dev/null || true"), timeout=120)
        doc = json.loads(fleet.sh(0, f"cat {report}"))
        assert doc["healthy"] is True and doc["mode"] == "FULL"
        assert {c["name"]: c["status"] for c in doc["checks"]}["unit:openclaw-gateway.service"] \
            == "ok"
        owners = fleet.sh(0, f"stat -c %U {report} /opt/openclaw/logs/openclaw.prom "
                             "/opt/openclaw/state/breakers/gateway.json").split()
        assert owners == ["milkbot"] * 3
        assert fleet.sh(0, "systemctl show -p User --value openclaw-health-check.service")\
            .strip() == "milkbot"
        assert 'openclaw_degradation_mode{mode="FULL"} 1' in fleet.sh(
            0, "cat /opt/openclaw/logs/openclaw.prom")

        # The budget check and the backup also run in their sandboxes, as the service user.
        fleet.sh(0, "mkdir -p /opt/openclaw/usage && printf '%s\\tprimary\\tprimary\\t3\\t2"
                    "\\t-\\tok\\t200\\t9\\n' \"$(date +%s)\" > /opt/openclaw/usage/usage-"
                    "$(date -u +%F).tsv")
        fleet.sh(0, "systemctl start openclaw-budget-check.service openclaw-backup.service")
        results = fleet.sh(0, "systemctl show -p Result --value openclaw-budget-check.service "
                              "openclaw-backup.service").split()
        assert results == ["success", "success"]
        assert fleet.sh(0, "cat /opt/openclaw/state/active-providers").strip() == "primary"
        backup = fleet.sh(0, "stat -c '%U %a %n' /opt/openclaw/backups/openclaw-*.tar.gz")
        assert backup.startswith("milkbot 600 /opt/openclaw/backups/openclaw-")
        listing = fleet.sh(0, "tar -tzf /opt/openclaw/backups/openclaw-*.tar.gz")
        assert "config/failover.json" in listing and ".env" not in listing

        # Degradation that changes the host: the maintenance flag (the service account's to
        # set) makes the health check write MAINTENANCE; root's path unit stops the workers;
        # apply leaves them stopped; three healthy runs after the flag goes, FULL starts them.
        worker = "systemctl is-active openclaw-worker@1.service || true"
        assert fleet.sh(0, worker).strip() == "active"
        fleet.sh(0, "runuser -u milkbot -- touch /opt/openclaw/state/maintenance")
        wait_for("MAINTENANCE to stop the worker",
                 lambda: fleet.sh(0, worker).strip() == "inactive")
        assert fleet.sh(0, "cut -d ' ' -f 1 /var/lib/openclaw/mode").strip() == "MAINTENANCE"
        r = fleet.openclaw("plan", "--limit", "node1", config=CONFIG, env=TOKEN)
        assert r.returncode == 0 and "mode MAINTENANCE in force" in r.stdout, r.stdout
        fleet.sh(0, "rm /opt/openclaw/state/maintenance")
        wait_for("FULL to start the worker again",
                 lambda: fleet.sh(0, worker).strip() == "active", timeout=90)
        assert fleet.sh(0, "cut -d ' ' -f 1 /var/lib/openclaw/mode").strip() == "FULL"

        # The real gateway drains on stop (up to its stop_timeout); it stops answering at once.
        fleet.sh(0, "systemctl stop --no-block openclaw-gateway.service")
        wait_for("the gateway breaker to open", lambda: '"state": "OPEN"' in fleet.sh(
            0, "cat /opt/openclaw/state/breakers/gateway.json"))
        wait_for("the alert", lambda: "circuit breaker OPEN for gateway" in record.read_text())
        sent = [json.loads(line) for line in record.read_text().splitlines()]
        alert = next(m for m in sent if "circuit breaker OPEN for gateway" in m["form"]["text"])
        assert alert["path"] == f"/bot{TOKEN['OCTEST_TELEGRAM_TOKEN']}/sendMessage"
        assert alert["form"]["chat_id"] == "777"
        doc = json.loads(fleet.sh(0, f"cat {report}"))
        assert doc["healthy"] is False and doc["breakers"]["gateway"]["state"] == "OPEN"
        assert 'openclaw_breaker_state{target="gateway"} 2' in fleet.sh(
            0, "cat /opt/openclaw/logs/openclaw.prom")
    finally:
        telegram.terminate()
        telegram.wait(timeout=10)
