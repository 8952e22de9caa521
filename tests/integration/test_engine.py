"""plan and apply against three real systemd hosts in two regions (nspawn containers)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.integration.conftest import CANARIES, FLEET_CONFIG, Fleet, write_inventory

pytestmark = pytest.mark.integration

UNITS = ["openclaw-gateway.service", "openclaw-worker@1.service", "openclaw-worker@2.service",
         "openclaw-health-check.timer", "openclaw-budget-check.timer",
         "openclaw-backup.timer", "openclaw-mode.path"]


def test_fresh_hosts_plan_apply_converge_and_change(fleet: Fleet, tmp_path: Path) -> None:
    # A fresh host plans as "create everything", never as an error.
    r = fleet.openclaw("plan", "--format", "json")
    assert r.returncode == 2, r.stderr
    doc = json.loads(r.stdout)
    assert [h["host"] for h in doc["hosts"]] == ["node1", "node2", "node3"]
    for h in doc["hosts"]:
        assert {f["action"] for f in h["files"]} == {"create"} and len(h["files"]) == 29
        assert h["accounts"] == ["group milkbot", "user milkbot"]
        assert h["daemon_reload"] is True
        assert [u["name"] for u in h["units"] if u["enable"] and u["start"]] == UNITS

    r = fleet.openclaw("apply", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"apply: 3 changed, 0 unchanged, 0 failed", r.stdout)
    # each host's gate, polled on the host until the real gateway was ready, says how long
    assert len(re.findall(r"step\(s\), health gate passed in \d+ s", r.stdout)) == 3, r.stdout

    for i in range(3):
        listing = fleet.sh(i, "stat -c '%n %a %U %G' /opt/openclaw/config/* "
                              "/opt/openclaw/scripts/* /etc/systemd/system/openclaw-*")
        modes = {line.split()[0]: line.split()[1:] for line in listing.splitlines()}
        for env in ("gateway", "checks", "workers"):  # each unit's own, root's
            assert modes[f"/opt/openclaw/config/{env}.env"] == ["600", "root", "root"]
        assert modes["/opt/openclaw/config/failover.json"] == ["640", "root", "milkbot"]
        assert modes["/opt/openclaw/scripts/health-check.sh"] == ["755", "root", "root"]
        assert modes["/etc/systemd/system/openclaw-gateway.service"] == ["644", "root", "root"]
        assert len(modes) == 26
        states = fleet.sh(i, "systemctl is-enabled " + " ".join(UNITS) + "; systemctl "
                             "is-active " + " ".join(UNITS)).split()
        assert states == ["enabled"] * 7 + ["active"] * 7
        timers = fleet.sh(i, "systemctl list-timers --all --no-legend 'openclaw-*'")
        assert timers.count("openclaw-") >= 6  # three timers, each with its service
        # The real gateway serves, as the service user, in its sandbox.
        assert fleet.sh(i, "curl -s http://127.0.0.1:18789/healthz").strip() == \
            '{"ok":true,"status":"live"}'
        assert '"ready":true' in fleet.sh(i, "curl -s http://127.0.0.1:18789/readyz")
        pid = fleet.sh(i, "systemctl show -p MainPID --value openclaw-gateway.service").strip()
        assert fleet.sh(i, f"ps -o user= -p {pid}").split() == ["milkbot"]
        # Without an LLM gateway the agent calls its provider itself: the key is its own.
        env_file = fleet.sh(i, "cat /opt/openclaw/config/gateway.env")
        assert f"PRIMARY_API_KEY={CANARIES['OCTEST_PRIMARY_API_KEY']}" in env_file
        assert "PRIMARY_API_KEY" not in fleet.sh(i, "cat /opt/openclaw/config/workers.env")

    r = fleet.openclaw("plan")
    assert r.returncode == 0, r.stdout
    assert "plan: 3 host(s), 0 with changes, 0 with errors" in r.stdout

    # One value changes: exactly its artifacts change, and only what reads them restarts.
    changed = tmp_path / "fleet.yaml"
    changed.write_text(FLEET_CONFIG.read_text().replace("failure_threshold: 3",
                                                        "failure_threshold: 5")
                       .replace("port: 18789", "port: 18790"))
    r = fleet.openclaw("plan", "--format", "json", config=changed)
    assert r.returncode == 2
    for h in json.loads(r.stdout)["hosts"]:
        updated = sorted(f["path"] for f in h["files"] if f["action"] == "update")
        assert updated == ["/etc/systemd/system/openclaw-gateway.service",
                           "/opt/openclaw/config/budget-check.conf",
                           "/opt/openclaw/config/failover.json",
                           "/opt/openclaw/config/health-check.conf",
                           "/opt/openclaw/state/openclaw/openclaw.json"]
        conf = next(f for f in h["files"] if f["path"].endswith("health-check.conf"))
        assert "-BREAKER_FAILURE_THRESHOLD=3\n+BREAKER_FAILURE_THRESHOLD=5" in conf["diff"]
        assert [u["name"] for u in h["units"] if u["restart"]] == ["openclaw-gateway.service"]
        assert not any(u["start"] or u["enable"] for u in h["units"])
        assert h["daemon_reload"] is True
    r = fleet.openclaw("plan", config=changed)
    assert "units: daemon-reload; restart openclaw-gateway.service" in r.stdout
    assert "@@" in r.stdout and "+BREAKER_FAILURE_THRESHOLD=5" in r.stdout

    r = fleet.openclaw("apply", "--yes", config=changed)
    assert r.returncode == 0, r.stdout + r.stderr
    assert '"ok":true' in fleet.sh(0, "curl -s http://127.0.0.1:18790/healthz")
    r = fleet.openclaw("plan", config=changed)
    assert r.returncode == 0, r.stdout


def test_no_secret_in_any_output(fleet: Fleet, tmp_path: Path) -> None:
    changed = tmp_path / "fleet.yaml"
    changed.write_text(FLEET_CONFIG.read_text().replace("min: 2, max: 4", "min: 1, max: 4"))
    rotated = {"OCTEST_PRIMARY_API_KEY": "canary-rotated-Gv5Kq1Wz8Hs3"}
    runs = []
    for fmt in ("text", "markdown", "json"):
        for verbosity in ([], ["-v"], ["-vv"]):
            runs.append(fleet.openclaw("plan", "--format", fmt, *verbosity, config=changed,
                                       env=rotated))
    runs.append(fleet.openclaw("apply", "--yes", "-vv", config=changed, env=rotated))
    runs.append(fleet.openclaw("plan", "--format", "json", "-vv", config=changed,
                               env=rotated))
    secrets = [*CANARIES.values(), *rotated.values()]
    for r in runs:
        for secret in secrets:
            assert secret not in r.stdout and secret not in r.stderr
    # The rotation itself is visible, by key only.
    assert "~ PRIMARY_API_KEY (value changed)" in runs[0].stdout
    assert runs[-2].returncode == 0 and runs[-1].returncode == 0
    assert rotated["OCTEST_PRIMARY_API_KEY"] in fleet.sh(0, "cat /opt/openclaw/config/"
                                                         "gateway.env")


def test_unreachable_host_is_reported_and_the_others_applied(fleet: Fleet,
                                                             tmp_path: Path) -> None:
    # An address inside a namespace of ours where nothing listens on the SSH port.
    inv = write_inventory(tmp_path / "inv.yaml", fleet.hosts, fleet.key,
                          extra=f"      ghost: {{ssh_host: {fleet.hosts[0].ip}, "
                                f"ssh_port: 2222}}\n")
    changed = tmp_path / "fleet.yaml"
    changed.write_text(FLEET_CONFIG.read_text().replace("interval: 1m", "interval: 2m"))
    r = fleet.openclaw("apply", "--yes", config=changed, inventory=inv)
    assert r.returncode == 1
    assert re.search(r"alpha\s+ghost\s+failed\s+cannot connect to .*:2222", r.stdout)
    assert re.search(r"apply: 3 changed, 0 unchanged, 1 failed", r.stdout)
    r = fleet.openclaw("plan", config=changed, inventory=inv)
    assert r.returncode == 1 and "error: cannot connect" in r.stdout
    assert re.search(r"beta\s+node3\s+0\s+0\s+0\s+29\s+0\s+in sync", r.stdout)


def test_concurrent_apply_is_refused_and_stale_lock_taken_over(fleet: Fleet) -> None:
    lock = "/run/openclaw/apply-lock"
    fleet.sh(1, f"mkdir -p {lock} && printf "
                f"'tok\\tops@other-controller pid 4242\\t9999999999\\n' > {lock}/holder")
    r = fleet.openclaw("apply", "--yes")
    assert r.returncode == 1
    assert re.search(r"node2\s+failed\s+another apply holds the host lock: "
                     r"ops@other-controller pid 4242", r.stdout)
    assert fleet.sh(1, f"cat {lock}/holder").startswith("tok\t")  # untouched
    # A holder on this controller whose process is gone is stale: taken over.
    import socket
    fleet.sh(1, f"printf 'tok\\troot@{socket.gethostname()} pid 999999\\t9999999999\\n' "
                f"> {lock}/holder")
    r = fleet.openclaw("apply", "--yes")
    assert r.returncode == 0, r.stdout
    assert fleet.sh(1, f"ls -A {lock} 2>/dev/null || true").strip() == ""


def test_what_leaves_the_config_leaves_the_hosts_and_hand_edits_are_drift(
        fleet: Fleet, tmp_path: Path) -> None:
    """Dashboard on -> off and workers min 3 -> 1: no unit, file or process of what was
    dropped stays, and a second plan is in sync; a hand edit shows as drift, apart from the
    config's changes, and apply puts it back."""
    bigger = tmp_path / "bigger.yaml"
    bigger.write_text(FLEET_CONFIG.read_text().replace(
        "agent_instances: {min: 2, max: 4}", "agent_instances: {min: 3, max: 4}").replace(
        "  packages: [curl]\n", "  packages: [curl]\n  dashboard: {enabled: true, port: 8599, "
        "command: \"/bin/sh -c 'exec sleep infinity'\"}\n"))
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(FLEET_CONFIG.read_text().replace(
        "agent_instances: {min: 2, max: 4}", "agent_instances: {min: 1, max: 4}"))
    fast = ("--yes", "--batch-size", "100%")  # the canary, then the rest at once
    r = fleet.openclaw("apply", *fast, config=bigger)
    assert r.returncode == 0, r.stdout + r.stderr
    dropped = ["openclaw-dashboard.service", "openclaw-worker@2.service",
               "openclaw-worker@3.service"]
    assert fleet.sh(0, "systemctl is-active " + " ".join(dropped)).split() == ["active"] * 3

    r = fleet.openclaw("plan", "--format", "json", config=smaller)
    assert r.returncode == 2, r.stderr
    for h in json.loads(r.stdout)["hosts"]:
        assert [f["path"] for f in h["files"] if f["action"] == "remove"] == [
            "/etc/systemd/system/openclaw-dashboard.service"]
        assert sorted(u["name"] for u in h["units"] if u["stop"] and u["disable"]) == dropped
        assert h["daemon_reload"] is True and h["drift"] == []
    text = fleet.openclaw("plan", config=smaller).stdout
    assert "- remove /etc/systemd/system/openclaw-dashboard.service" in text
    assert "stop+disable openclaw-dashboard.service, openclaw-worker@2.service, " \
           "openclaw-worker@3.service" in text

    r = fleet.openclaw("apply", *fast, config=smaller)
    assert r.returncode == 0, r.stdout + r.stderr
    for i in range(3):
        states = fleet.sh(i, "systemctl is-enabled " + " ".join(dropped[1:]) + "; "
                             "systemctl is-active " + " ".join(dropped) + " || true").split()
        assert states == ["disabled"] * 2 + ["inactive"] * 3, states
        assert fleet.sh(i, "test -e /etc/systemd/system/openclaw-dashboard.service && echo "
                           "left || echo gone").strip() == "gone"
        assert fleet.sh(i, "systemctl is-active openclaw-worker@1.service").strip() == "active"
        # Only the one worker's sleep is left of the three workers and the dashboard.
        assert fleet.sh(i, "pgrep -c -x sleep || true").strip() == "1"
    r = fleet.openclaw("plan", config=smaller)
    assert r.returncode == 0 and "0 with changes" in r.stdout, r.stdout

    # By hand: a conf edited, a timer stopped. Drift, said apart from openclaw.yaml's changes.
    fleet.sh(2, "echo '# tuned by hand' >> /opt/openclaw/config/health-check.conf && "
                "systemctl stop openclaw-backup.timer")
    r = fleet.openclaw("plan", "--format", "json", config=smaller)
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert doc["summary"]["with_drift"] == 1
    (node3,) = [h for h in doc["hosts"] if h["host"] == "node3"]
    assert node3["drift"] == ["/opt/openclaw/config/health-check.conf: edited on the host",
                              "openclaw-backup.timer: stopped on the host"]
    text = fleet.openclaw("plan", config=smaller).stdout
    assert "[drift: edited on the host since the last apply]" in text
    assert "1 with drift" in text
    r = fleet.openclaw("apply", "--yes", "--limit", "node3", config=smaller)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "tuned by hand" not in fleet.sh(2, "cat /opt/openclaw/config/health-check.conf")
    r = fleet.openclaw("plan", config=smaller)
    assert r.returncode == 0, r.stdout


def test_decommission_leaves_nothing_of_openclaw_running(fleet: Fleet, tmp_path: Path) -> None:
    """node3 leaves: its units stop, the files openclaw manages go (the .env keys with them),
    OpenClaw's state stays; beta, left without hosts, leaves the other hosts' failover.json
    and nothing else of theirs changes; the diff of an inventory without node3 says what
    decommission does. Last in the module: node3 stays empty."""
    smaller = tmp_path / "inventory.yaml"
    smaller.write_text(fleet.inventory.read_text().split("  beta:\n")[0])
    smaller_cfg = tmp_path / "fleet.yaml"
    smaller_cfg.write_text(FLEET_CONFIG.read_text().replace(
        "    - name: alpha\n      weight: 0.5\n    - name: beta\n      weight: 0.5\n",
        "    - name: alpha\n      weight: 1.0\n"))
    from openclaw.review import diff as review
    report = review.run(str(smaller_cfg), str(smaller), base_config=str(FLEET_CONFIG),
                        base_inventory=str(fleet.inventory), check_units=False)
    assert any("host node3 removed from beta" in line and "openclaw decommission --host "
               "node3" in line for line in report.inventory), report.inventory

    others = "sha256sum $(ls -d /opt/openclaw/config/* | grep -v failover.json) | sort"
    before = fleet.sh(0, others)
    assert '"name": "beta"' in fleet.sh(0, "cat /opt/openclaw/config/failover.json")
    r = fleet.openclaw("decommission", "--host", "node3", "--format", "json")
    assert r.returncode == 1 and "needs a terminal to confirm, or --yes" in r.stderr
    r = fleet.openclaw("decommission", "--host", "node3", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(v in r.stdout + r.stderr for v in CANARIES.values())
    assert "stop+disable" in r.stdout and "- remove /opt/openclaw/config/gateway.env" in r.stdout
    assert "beta left: failover.json only" in r.stdout
    left = fleet.sh(2, "systemctl list-units --all --plain --no-legend 'openclaw-*' | "
                       "grep -v ' inactive ' || true; systemctl list-unit-files --no-legend "
                       "'openclaw-*' | grep enabled || true")
    assert left.strip() == "", left
    assert fleet.sh(2, "ls /etc/systemd/system | grep openclaw || true").strip() == ""
    # Emptied, the directories go too; the root stays, holding OpenClaw's state.
    assert fleet.sh(2, "ls -d /opt/openclaw/config /opt/openclaw/scripts 2>/dev/null || true"
                    ).strip() == ""
    assert fleet.sh(2, "pgrep -u milkbot || echo none").strip() == "none"
    assert fleet.sh(2, "test -f /opt/openclaw/state/openclaw/openclaw.json && echo kept"
                    ).strip() == "kept"
    gen = fleet.sh(2, "cat /var/lib/openclaw/generations/$(cat "
                      "/var/lib/openclaw/generations/current)/kind").strip()
    assert gen == "decommission"
    assert fleet.sh(0, others) == before
    assert json.loads(fleet.sh(0, "cat /opt/openclaw/config/failover.json"))[
        "failover_regions"] == []
    # Run again: nothing left to do.
    r = fleet.openclaw("decommission", "--host", "node3", "--yes")
    assert r.returncode == 0 and "0 with changes" in r.stdout, r.stdout
