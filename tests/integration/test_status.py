"""`openclaw status` against nspawn hosts with known reports: one command per host, a table
per region, JSON, and the HTML page rendered in headless Chromium (its screenshot shows the
table and the chart)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import Fleet

pytestmark = pytest.mark.integration
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def report(healthy: bool, mode: str, breaker: str) -> str:
    """A health report as the health check writes it; NOW becomes the host's clock."""
    return json.dumps({
        "timestamp": 0, "host": "x", "region": "x", "healthy": healthy, "mode": mode,
        "error_rate": 0.01, "checks": [{"name": "gateway", "status": "ok" if healthy else
                                        "fail", "detail": "HTTP 200"}],
        "breakers": {"gateway": {"state": breaker, "failures": 0}}}).replace(
        '"timestamp": 0', '"timestamp": NOW')


def put(fleet: Fleet, index: int, rep: str | None, budgets: str) -> None:
    script = ("set -e; mkdir -p /opt/openclaw/logs /opt/openclaw/state; "
              "rm -f /opt/openclaw/logs/health-check.json; "
              f"printf '%b' '{budgets}' > /opt/openclaw/state/budgets.state; "
              "printf 'primary\\n' > /opt/openclaw/state/active-providers")
    if rep is not None:
        script += (f"; printf '%s' '{rep}' | sed \"s/NOW/$(date +%s)/\" "
                   "> /opt/openclaw/logs/health-check.json")
    fleet.sh(index, script)


def test_status_table_json_and_page(fleet: Fleet, tmp_path: Path) -> None:
    put(fleet, 0, report(True, "FULL", "CLOSED"), "daily_limit primary 82000 100000 0.82\\n")
    put(fleet, 1, report(False, "MINIMAL", "OPEN"), "daily_limit primary 30000 100000 0.3\\n")
    put(fleet, 2, None, "daily_limit primary 50000 100000 0.5\\n")
    sessions = [h.ssh("journalctl -q --no-pager -u ssh.service | grep -c 'Accepted publickey'"
                      " || true", fleet.key).stdout.strip() for h in fleet.hosts]

    r = fleet.openclaw("status")
    assert r.returncode == 2, r.stdout + r.stderr  # one host unhealthy, one without report
    assert "alpha: 1/2 ok" in r.stdout and "beta: 0/1 ok" in r.stdout
    assert "node2: gateway: HTTP 200" in r.stdout

    page = tmp_path / "status.html"
    r = fleet.openclaw("status", "--format", "json", "--html", str(page))
    doc = json.loads(r.stdout)
    states = {h["host"]: (h["state"], h["mode"]) for h in doc["hosts"]}
    assert states == {"node1": ("ok", "FULL"), "node2": ("unhealthy", "MINIMAL"),
                      "node3": ("no report", None)}
    node1 = doc["hosts"][0]
    assert node1["budgets"][0]["used_ratio"] == 0.82 and node1["active_providers"] == ["primary"]
    assert 0 <= node1["last_check_age_seconds"] < 60
    assert doc["hosts"][1]["breakers"] == {"gateway": "OPEN"}
    # One SSH session per host and run, whatever the fleet's size.
    after = [h.ssh("journalctl -q --no-pager -u ssh.service | grep -c 'Accepted publickey'"
                   " || true", fleet.key).stdout.strip() for h in fleet.hosts]
    assert [int(a) - int(b) for a, b in zip(after, sessions, strict=True)] == [3, 3, 3]

    shot = screenshot(page, tmp_path)
    from PIL import Image
    with Image.open(shot) as img:
        rgb = img.convert("RGB")
        colors = rgb.getcolors(maxcolors=1 << 20) or []
    counts = {c: n for n, c in colors}
    # The table: header cells' background and the red of "unhealthy".
    assert counts.get((0xF1, 0xF3, 0xF5), 0) > 2000
    assert counts.get((0xE0, 0x31, 0x31), 0) > 20
    # The chart: alpha's bar (82% of 200 px, 24 px wide, plus its legend swatch) and beta's
    # (50%); both colors appear, alpha's taller.
    alpha, beta = counts.get((0x1C, 0x7E, 0xD6), 0), counts.get((0xF0, 0x8C, 0x00), 0)
    assert alpha > 24 * 150 and beta > 24 * 90 and alpha > beta


def screenshot(page: Path, tmp_path: Path) -> Path:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is missing; `make test` installs it")
    shot = tmp_path / "status.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                    "--window-size=1100,900", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.exists()
    return shot
