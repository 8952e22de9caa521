"""Replication on real systemd hosts in two regions (nspawn, on a shared bridge): alpha's
OpenClaw state reaches beta within the rpo through rsync over SSH and a forced rrsync; the
replication key can do nothing else; `openclaw failover` restores the replica on beta, which
passes the health gate with the real gateway, and moves DNS (a real BIND); `failback` puts
alpha back."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hosts.bind import SECRET, dig, named, provider
from tests.hosts.nspawn import Container, containers, make_key
from tests.integration.conftest import FLEET_CONFIG, Fleet, binds, require_tools

pytestmark = pytest.mark.integration
RPO = 60
MESSAGE = "drill message 7f3a: the customer asked for the blue one"
STATE = "/opt/openclaw/state/openclaw"
KEY = "/var/lib/openclaw/replication/id_ed25519"


def config(port: int) -> str:
    base = FLEET_CONFIG.read_text()
    return base[:base.index("deployment:")] + f"""deployment:
  rollout:
    batch_size: 1
    health_timeout: 180s
  regions:
    - name: alpha
      weight: 0.5
    - name: beta
      weight: 0.5
  failover:
    - automatic: false
    - rpo: {RPO}s
    - rto: 5m
    - replicate: true
  dns:
    zone: example.test.
    name: agents
    ttl: 60s
    provider:
{provider(port, indent="      ")}"""


@dataclass
class Pair(Fleet):
    """node1 in alpha, node2 in beta, each reachable from the other at its mesh address;
    BIND on `port`."""

    port: int = 0
    config: Path = FLEET_CONFIG

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.openclaw(*args, config=self.config, env={"OPENCLAW_TEST_TSIG": SECRET})

    def sh(self, index: int, command: str, check: bool = True) -> str:
        r = self.hosts[index].ssh(command, self.key, check=False)
        if check:
            assert r.returncode == 0, f"{command}: {r.stdout}{r.stderr}"
        return r.stdout


def pair_inventory(workdir: Path, key: Path, hosts: list[Container]) -> Path:
    a, b = hosts
    path = workdir / "inventory.yaml"
    path.write_text(f"""defaults:
  ssh_user: root
  ssh_key: {key}
  ssh_known_hosts: {workdir}/known_hosts
regions:
  alpha:
    hosts:
      node1: {{ssh_host: {a.ip}, public_address: {a.ip}, replication_address: {a.mesh_ip}}}
  beta:
    hosts:
      node2: {{ssh_host: {b.ip}, public_address: {b.ip}, replication_address: {b.mesh_ip}}}
""")
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    require_tools()
    workdir = tmp_path_factory.mktemp("replication")
    key = make_key(workdir)
    with named(workdir / "bind") as port, \
            containers(2, workdir, key, extra_binds=binds(), mesh=True) as hosts:
        (workdir / "openclaw.yaml").write_text(config(port))
        yield Pair(hosts, key, workdir, pair_inventory(workdir, key, hosts), port,
                   workdir / "openclaw.yaml")


def test_1_state_reaches_the_peer_region_within_the_rpo(pair: Pair) -> None:
    r = pair.run("apply", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    # The keys were paired in the same apply: nothing is left to change.
    r = pair.run("plan")
    assert r.returncode == 0, r.stdout + r.stderr

    node1_key = " ".join(pair.sh(0, f"cat {KEY}.pub").split()[:2])
    authorized = pair.sh(1, "cat /opt/openclaw/replicas/.ssh/authorized_keys")
    lines = [x for x in authorized.splitlines() if x and not x.startswith("#")]
    assert lines == [f'restrict,command="/usr/bin/rrsync -wo -munge '
                     f'/opt/openclaw/replicas/node1" {node1_key} openclaw-replication@node1']
    assert pair.sh(0, f"stat -c '%a %U' {KEY}").split() == ["600", "root"]
    known = pair.sh(0, "cat /opt/openclaw/config/replication-known-hosts")
    assert f"\n{pair.hosts[1].mesh_ip} ssh-ed25519 " in known
    assert pair.sh(1, "stat -c '%a %U %G' /opt/openclaw/replicas/node1").split() == \
        ["2750", "openclaw-replica", "milkbot"]

    pair.sh(0, f"runuser -u milkbot -- sh -c 'mkdir -p {STATE}/memory && "
               f"echo \"{MESSAGE}\" > {STATE}/memory/drill.md && "
               f"echo \"{MESSAGE}\" > /opt/openclaw/workspace/drill.md'")
    written = time.monotonic()
    replica = "/opt/openclaw/replicas/node1"
    while pair.sh(1, f"cat {replica}/openclaw/memory/drill.md", check=False).strip() \
            != MESSAGE:
        assert time.monotonic() - written < RPO, (
            "no replica within the rpo: " + pair.sh(0, "journalctl -u openclaw-replicate "
                                                        "--no-pager | tail -20", check=False))
        time.sleep(2)
    assert pair.sh(1, f"cat {replica}/workspace/drill.md").strip() == MESSAGE
    # The copies left the replica's own directory as apply made it: the service group's only.
    assert pair.sh(1, f"stat -c '%a %U %G' {replica}").split() == \
        ["2750", "openclaw-replica", "milkbot"]
    assert pair.sh(1, f"stat -c '%U' {replica}/openclaw/memory/drill.md").strip() == \
        "openclaw-replica"
    # Each host compiles its own openclaw.json; the .env files never leave.
    assert pair.sh(1, f"ls {replica}/openclaw").split().count("openclaw.json") == 0
    assert "GATEWAY_AUTH_TOKEN" not in pair.sh(1, f"grep -r GATEWAY_AUTH_TOKEN {replica} "
                                                  "|| true")

    pair.sh(0, "systemctl start openclaw-health-check.service || true")
    report = json.loads(pair.sh(0, "cat /opt/openclaw/logs/health-check.json"))
    assert report["replica"]["peer"] == "node2"
    assert 0 <= report["replica"]["age_seconds"] <= RPO
    assert report["replica"]["rpo_seconds"] == RPO
    r = pair.run("status", "--format", "json")
    hosts = {h["host"]: h for h in json.loads(r.stdout)["hosts"]}
    assert hosts["node1"]["replica"]["peer"] == "node2", r.stdout
    assert hosts["node1"]["replica"]["over_rpo"] is False
    assert hosts["node1"]["replica"]["age_seconds"] <= RPO
    r = pair.run("status")
    assert re.search(r"node1 .* on node2 \d+s ago", r.stdout), r.stdout


def test_2_the_replication_key_can_do_nothing_else(pair: Pair) -> None:
    peer = pair.hosts[1].mesh_ip
    ssh = (f"ssh -i {KEY} -o BatchMode=yes -o StrictHostKeyChecking=no "
           "-o UserKnownHostsFile=/dev/null -o ConnectTimeout=5")
    # No shell: whatever it asks, the forced rrsync runs (and refuses).
    out = pair.sh(0, f"{ssh} openclaw-replica@{peer} 'touch /tmp/pwned; id' 2>&1; echo rc=$?",
                  check=False)
    assert "uid=" not in out and "rc=0" not in out, out
    assert pair.sh(1, "test -e /tmp/pwned && echo yes || echo no").strip() == "no"
    # No port forwarding.
    out = pair.sh(0, f"timeout 20 {ssh} -N -o ExitOnForwardFailure=yes -L 127.0.0.1:2299:"
                     f"127.0.0.1:22 openclaw-replica@{peer} 2>&1; echo rc=$?", check=False)
    assert "rc=0" not in out, out
    # Writes stay inside its own replica; reading is refused.
    for target in ("../escape", "/tmp/escape", "../node9/escape"):
        pair.sh(0, f"rsync -e '{ssh}' /etc/hostname openclaw-replica@{peer}:{target} 2>&1 "
                   "|| true", check=False)
    assert pair.sh(1, "ls /opt/openclaw/replicas; test -e /tmp/escape && echo ESCAPED || "
                      "true").split() == ["node1"]
    out = pair.sh(0, f"rsync -e '{ssh}' openclaw-replica@{peer}:openclaw/ /tmp/read/ 2>&1;"
                     " echo rc=$?", check=False)
    assert "rc=0" not in out, out


def test_3_failover_restores_the_replica_and_moves_dns(pair: Pair) -> None:
    a, b = pair.hosts[0].ip, pair.hosts[1].ip
    r = pair.run("dns", "apply")
    assert r.returncode == 0, r.stdout + r.stderr
    assert dig(pair.port, "agents.example.test") == sorted([a, b])
    assert "drill" not in pair.sh(1, f"ls {STATE}/memory 2>/dev/null || true")

    r = pair.run("failover", "--from", "alpha", "--to", "beta")
    assert r.returncode == 0, r.stdout + r.stderr[-3000:] + pair.sh(
        1, "journalctl -u openclaw-gateway --no-pager | tail -40; ls -la " + STATE,
        check=False)
    assert re.search(r"node2 restored node1 \(replica \d+s old\)", r.stdout), r.stdout
    assert "beta healthy: node2" in r.stdout
    assert re.search(r"failover: done in [\d.]+s, within the RTO of 300s", r.stdout)
    # Beta serves alpha's state: the message is in its own state, the service account's.
    assert pair.sh(1, f"cat {STATE}/memory/drill.md").strip() == MESSAGE
    assert pair.sh(1, f"stat -c '%U %a' {STATE}/memory/drill.md").split() == \
        ["milkbot", "600"]
    assert pair.sh(1, "cat /opt/openclaw/workspace/drill.md").strip() == MESSAGE
    assert '"gateway"' in pair.sh(1, f"cat {STATE}/openclaw.json")  # its own, kept
    assert pair.sh(1, "systemctl is-active openclaw-gateway.service").strip() == "active"
    assert pair.sh(1, "curl -s http://127.0.0.1:18789/healthz").strip() == \
        '{"ok":true,"status":"live"}'
    assert dig(pair.port, "agents.example.test") == [b]

    r = pair.run("failback", "--region", "alpha")
    assert r.returncode == 0, r.stdout + r.stderr
    assert dig(pair.port, "agents.example.test") == sorted([a, b])
