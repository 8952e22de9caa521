"""Regions on real systemd hosts: bootstrap of a secondary region from bare hosts, a rolling
apply stopped by the health gate and rolled back, and faults that one more apply repairs."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import (
    CANARIES,
    FLEET_CONFIG,
    OPENCLAW,
    Fleet,
)

pytestmark = pytest.mark.integration
GOOD = FLEET_CONFIG.read_text()
ONE_REGION = GOOD.replace("    - name: alpha\n      weight: 0.5\n    - name: beta\n"
                          "      weight: 0.5\n", "    - name: alpha\n      weight: 1.0\n")
# A port the service account may not bind: the real gateway cannot listen, the gate fails.
BROKEN = GOOD.replace("    port: 18789", "    port: 80").replace("health_timeout: 180s",
                                                              "health_timeout: 40s")


def inventory(fleet: Fleet, path: Path, beta: bool) -> Path:
    h = fleet.hosts
    text = f"""defaults:
  ssh_user: root
  ssh_key: {fleet.key}
  ssh_known_hosts: {path.parent}/known_hosts
regions:
  alpha:
    hosts:
      node1: {{ssh_host: {h[0].ip}}}
"""
    if beta:
        text += f"""  beta:
    hosts:
      node2: {{ssh_host: {h[1].ip}}}
      node3: {{ssh_host: {h[2].ip}, ssh_user: deploy, sudo: true}}
"""
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def files(fleet: Fleet) -> dict[str, Path]:
    d = fleet.workdir
    out = {"one": d / "one.yaml", "good": d / "good.yaml", "broken": d / "broken.yaml"}
    out["one"].write_text(ONE_REGION)
    out["good"].write_text(GOOD)
    out["broken"].write_text(BROKEN)
    out["inv_a"] = inventory(fleet, d / "inv-a.yaml", beta=False)
    out["inv_ab"] = inventory(fleet, d / "inv-ab.yaml", beta=True)
    return out


def run(fleet: Fleet, files: dict[str, Path], *args: str, config: str = "good",
        inv: str = "inv_ab") -> subprocess.CompletedProcess[str]:
    return fleet.openclaw(*args, config=files[config], inventory=files[inv])


def leftovers(fleet: Fleet, i: int) -> str:
    return fleet.sh(i, "find /opt/openclaw /etc/systemd/system -name '*.openclaw-new' "
                       "2>/dev/null || true").strip()


def test_1_bootstrap_a_secondary_region(fleet: Fleet, files: dict[str, Path]) -> None:
    r = run(fleet, files, "apply", "--yes", config="one", inv="inv_a")
    assert r.returncode == 0, r.stdout + r.stderr
    assert fleet.sh(1, "id milkbot 2>&1; ls /opt 2>&1").count("no such user") == 1
    # The first region of a two-region fleet while the other is still bare: it succeeds
    # and names the peers its bootstrap leaves to their own (no chown to a missing group).
    r = run(fleet, files, "bootstrap", "--region", "alpha", "--yes", "--format", "text")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("not bootstrapped yet: its own bootstrap writes failover.json") \
        == 2, r.stdout
    assert fleet.sh(1, "id milkbot 2>&1; ls /opt 2>&1").count("no such user") == 1
    doc = json.loads(fleet.sh(0, "cat /opt/openclaw/config/failover.json"))
    assert [x["name"] for x in doc["failover_regions"]] == ["beta"]

    r = run(fleet, files, "bootstrap", "--region", "beta", "--yes", "--format", "text")
    assert r.returncode == 0, r.stdout + r.stderr
    plan = r.stdout.split("REGION")[0]
    assert "beta / node2" in plan and "+ user milkbot" in plan
    assert re.search(r"bootstrap: 2 changed, 1 unchanged, 0 failed", r.stdout)
    for i in range(3):
        doc = json.loads(fleet.sh(i, "cat /opt/openclaw/config/failover.json"))
        regions = {doc["region"]["name"], *(x["name"] for x in doc["failover_regions"])}
        assert regions == {"alpha", "beta"}
    for i in (1, 2):
        assert fleet.sh(i, "systemctl is-active openclaw-gateway.service").strip() == "active"
        assert '"healthy": true' in fleet.sh(i, "cat /opt/openclaw/logs/health-check.json")

    r = run(fleet, files, "plan")
    assert r.returncode == 0, r.stdout
    r = run(fleet, files, "bootstrap", "--region", "beta", "--yes")
    assert r.returncode == 0 and "bootstrap: 0 changed, 3 unchanged, 0 failed" in r.stdout


def test_2_canary_fails_the_gate_stops_and_rolls_back(fleet: Fleet,
                                                     files: dict[str, Path]) -> None:
    before = fleet.sh(0, "cat /etc/systemd/system/openclaw-gateway.service")
    r = run(fleet, files, "apply", "--yes", "--rollback-on-failure", config="broken")
    assert r.returncode == 1
    assert re.search(r"alpha\s+node1\s+rolled back\s+(not running after apply: "
                     r"openclaw-gateway.service|health gate: (openclaw-gateway.service is "
                     r"(failed|activating)|/healthz does not answer on port 80)); restored "
                     r"generation \d+", r.stdout), r.stdout
    assert re.search(r"beta\s+node2\s+skipped\s+not applied: the rollout stopped after node1 "
                     r"failed in alpha", r.stdout)
    assert "beta    node3  skipped" in r.stdout
    # The canary is back on its previous generation, healthy; nothing else was touched.
    assert fleet.sh(0, "cat /etc/systemd/system/openclaw-gateway.service") == before
    assert fleet.sh(0, "systemctl is-active openclaw-gateway.service").strip() == "active"
    assert "--port 80\n" not in fleet.sh(1, "cat /etc/systemd/system/"
                                            "openclaw-gateway.service")
    assert run(fleet, files, "plan").returncode == 0
    # Rolling back to the same generation on demand is idempotent.
    gen = int(fleet.sh(0, "cat /var/lib/openclaw/generations/current"))
    r = run(fleet, files, "rollback", "--region", "alpha", "--to", str(gen), "--yes")
    assert r.returncode == 0 and "rollback: 0 changed, 1 unchanged, 0 failed" in r.stdout


def _apply_in_background(fleet: Fleet, files: dict[str, Path], config: Path
                         ) -> subprocess.Popen[str]:
    import os
    # Ctrl-C as from a terminal, whatever started the tests: a shell's background job
    # inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
    return subprocess.Popen([OPENCLAW, "apply", "--yes", "-c", str(config), "-i",
                             str(files["inv_ab"])], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            env={**os.environ, **CANARIES},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_line(proc: subprocess.Popen[str], text: str) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if text in line:
            return
    raise AssertionError(f"apply never printed {text!r}")


def test_3_sshd_killed_mid_apply_then_converges(fleet: Fleet, files: dict[str, Path],
                                                tmp_path: Path) -> None:
    changed = tmp_path / "c.yaml"  # a gateway port change restarts the gateway
    changed.write_text(GOOD.replace("port: 18789", "port: 18790"))
    proc = _apply_in_background(fleet, files, changed)
    _wait_for_line(proc, "applying to")
    time.sleep(1)  # node2's install is restarting its gateway, which drains before it stops
    pids = subprocess.run(["ip", "netns", "pids", fleet.hosts[1].netns], capture_output=True,
                          text=True).stdout.split()
    for pid in pids:  # sshd processes of the container we started, by PID
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "sshd":
                subprocess.run(["kill", "-9", pid], check=False)
        except OSError:
            pass
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, out + err
    assert re.search(r"beta\s+node2\s+failed", out), out
    assert re.search(r"alpha\s+node1\s+changed", out)
    time.sleep(2)  # systemd restarts sshd in the container
    assert leftovers(fleet, 1) == ""
    r = fleet.openclaw("apply", "--yes", config=changed, inventory=files["inv_ab"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert fleet.openclaw("plan", config=changed, inventory=files["inv_ab"]).returncode == 0


def test_4_ctrl_c_mid_apply_then_converges(fleet: Fleet, files: dict[str, Path]) -> None:
    proc = _apply_in_background(fleet, files, files["good"])
    _wait_for_line(proc, "applying to")
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 130, out + err
    assert "interrupted: every file on the hosts is either old or new" in err
    assert "Traceback" not in err
    for i in range(3):
        assert leftovers(fleet, i) == ""
    # Whatever the interrupted apply wrote before its unit steps, this one finishes them:
    # the gateway of a host whose new unit was written but never loaded is restarted.
    r = run(fleet, files, "apply", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run(fleet, files, "plan")
    assert r.returncode == 0, r.stdout


def test_5_a_full_disk_is_reported_and_repaired(fleet: Fleet, files: dict[str, Path],
                                                tmp_path: Path) -> None:
    fleet.sh(2, "mount -t tmpfs -o size=32k tmpfs /opt/openclaw/config && "
                "(dd if=/dev/zero of=/opt/openclaw/config/fill bs=4k count=100 2>/dev/null; "
                "true)")
    changed = tmp_path / "c.yaml"
    changed.write_text(GOOD.replace("failure_threshold: 3", "failure_threshold: 4"))
    try:
        r = fleet.openclaw("apply", "--yes", config=changed, inventory=files["inv_ab"])
        assert r.returncode == 1
        assert re.search(r"beta\s+node3\s+failed\s+.*(No space left on device|cannot write)",
                         r.stdout), r.stdout
        assert re.search(r"beta\s+node2\s+changed", r.stdout)
        assert leftovers(fleet, 2) == ""
    finally:
        fleet.sh(2, "umount /opt/openclaw/config")
    r = fleet.openclaw("apply", "--yes", config=changed, inventory=files["inv_ab"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert fleet.openclaw("plan", config=changed, inventory=files["inv_ab"]).returncode == 0


def test_6_a_refused_write_is_reported_and_repaired(fleet: Fleet, files: dict[str, Path],
                                                    tmp_path: Path) -> None:
    fleet.sh(1, "mount --bind /opt/openclaw/config /opt/openclaw/config && "
                "mount -o remount,bind,ro /opt/openclaw/config")
    changed = tmp_path / "c.yaml"
    changed.write_text(GOOD.replace("failure_threshold: 3", "failure_threshold: 6"))
    try:
        r = fleet.openclaw("apply", "--yes", config=changed, inventory=files["inv_ab"])
        assert r.returncode == 1
        assert re.search(r"beta\s+node2\s+failed\s+.*(Read-only file system|cannot write)",
                         r.stdout), r.stdout
        # node2 is beta's canary: its failure stops the rollout before node3.
        assert re.search(r"beta\s+node3\s+skipped\s+not applied: the rollout stopped after "
                         r"node2 failed in beta", r.stdout)
        assert re.search(r"alpha\s+node1\s+changed", r.stdout)
    finally:
        fleet.sh(1, "umount /opt/openclaw/config")
    assert leftovers(fleet, 1) == ""
    r = fleet.openclaw("apply", "--yes", config=changed, inventory=files["inv_ab"])
    assert r.returncode == 0, r.stdout + r.stderr
