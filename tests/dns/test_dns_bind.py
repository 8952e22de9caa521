"""`openclaw dns plan|apply` against a real authoritative server: BIND on loopback, changed
through octoDNS's RFC 2136 provider with a TSIG key, read back with dig."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosts.bind import SECRET, dig, named, provider

OPENCLAW = str(Path(sys.executable).parent / "openclaw")


@pytest.fixture
def bind(tmp_path: Path) -> Iterator[int]:
    with named(tmp_path / "bind") as port:
        yield port

def project(tmp_path: Path, port: int, weights: tuple[str, str] = ("0.75", "0.25"),
            secret_env: str = "OPENCLAW_TEST_TSIG") -> tuple[Path, Path]:
    config = tmp_path / "openclaw.yaml"
    config.write_text(f"""version: 1
deployment:
  regions:
    - name: alpha
      weight: {weights[0]}
      geos: [NA]
    - name: beta
      weight: {weights[1]}
  latency_routing: geoDNS
  dns:
    zone: example.test.
    name: agents
    ttl: 60s
    provider:
{provider(port, secret_env, "      ")}""")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("""defaults:
  ssh_host: '@local'
regions:
  alpha:
    hosts:
      a1: {root: hosts/a1, public_address: 192.0.2.1}
      a2: {root: hosts/a2, public_address: 192.0.2.2}
  beta:
    hosts:
      b1: {root: hosts/b1, public_address: 192.0.2.11}
      b2: {root: hosts/b2}
""")
    return config, inventory


def run(config: Path, inventory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENCLAW_TEST_TSIG": SECRET}
    return subprocess.run([OPENCLAW, "dns", *args, "-c", str(config), "-i", str(inventory)],
                          capture_output=True, text=True, timeout=120, env=env,
                          cwd=config.parent)


def test_plan_apply_and_a_region_out_of_service(bind: int, tmp_path: Path) -> None:
    port = bind
    config, inventory = project(tmp_path, port)
    r = run(config, inventory, "plan")
    out = r.stdout + r.stderr
    assert r.returncode == 2, out
    assert "+ agents.example.test. A" in r.stdout
    assert "now ttl 60: 192.0.2.1, 192.0.2.11, 192.0.2.2\n" in r.stdout
    # The weighted, geo-ruled record reaches BIND as its plain values, and says so.
    assert "note: octoDNS: " in r.stderr and "falling back to simple record" in r.stderr
    assert "root NS" not in r.stderr
    assert "not in DNS (no public_address, and ssh_host is not an address): b2" in r.stderr
    assert dig(port, "agents.example.test") == []  # a plan changes nothing

    r = run(config, inventory, "apply")
    assert r.returncode == 0, r.stdout + r.stderr
    assert dig(port, "agents.example.test") == ["192.0.2.1", "192.0.2.11", "192.0.2.2"]
    r = run(config, inventory, "plan")
    assert r.returncode == 0 and r.stdout == "dns: in sync\n", r.stdout + r.stderr

    # beta out of service (weight 0): its host leaves the answer; the rest of the zone stays.
    config, inventory = project(tmp_path, port, weights=("1.0", "0"))
    r = run(config, inventory, "plan", "--format", "json")
    assert r.returncode == 2 and '"action": "update"' in r.stdout, r.stdout + r.stderr
    assert run(config, inventory, "apply").returncode == 0
    assert dig(port, "agents.example.test") == ["192.0.2.1", "192.0.2.2"]
    assert dig(port, "www.example.test") == ["192.0.2.80"]
    assert dig(port, "ns.example.test") == ["127.0.0.1"]
    for r in (run(config, inventory, "plan"), run(config, inventory, "apply")):
        assert SECRET not in r.stdout + r.stderr


def test_a_refused_update_is_exit_1_without_the_key(bind: int, tmp_path: Path) -> None:
    config, inventory = project(tmp_path, bind, secret_env="OPENCLAW_TEST_WRONG")
    wrong = base64.b64encode(b"canary-wrong-key-Zp4Lm8-0123456").decode()
    env = {**os.environ, "OPENCLAW_TEST_WRONG": wrong}
    r = subprocess.run([OPENCLAW, "dns", "apply", "-c", str(config), "-i", str(inventory)],
                       capture_output=True, text=True, timeout=120, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert out.startswith("error: dns: ") or "\nerror: dns: " in out, out
    assert "Traceback" not in out and wrong not in out and SECRET not in out
    assert dig(bind, "agents.example.test") == []


def openclaw(config: Path, inventory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENCLAW_TEST_TSIG": SECRET}
    return subprocess.run([OPENCLAW, *args, "-c", str(config), "-i", str(inventory)],
                          capture_output=True, text=True, timeout=300, env=env,
                          cwd=config.parent)


def test_failover_to_a_standby_region_and_back(bind: int, tmp_path: Path) -> None:
    """beta (weight 0) is the standby: failover gives it alpha's traffic after its hosts pass
    the health gate (@local hosts without systemd pass it, named as not verified), the zone
    records it, a later `dns plan` keeps it, and failback restores the weights."""
    port = bind
    config, inventory = project(tmp_path, port, weights=("1.0", "0"))
    assert openclaw(config, inventory, "dns", "apply").returncode == 0
    assert dig(port, "agents.example.test") == ["192.0.2.1", "192.0.2.2"]

    r = openclaw(config, inventory, "failover", "--from", "alpha", "--to", "beta")
    assert r.returncode == 0, r.stdout + r.stderr
    # @local hosts have no systemd here: said, not claimed healthy.
    assert "failover alpha -> beta\n  beta not verified (no running systemd): b1, b2\n" \
        in r.stdout
    assert re.search(r"failover: done in [0-9.]+s, within the RTO of 300s", r.stdout)
    assert dig(port, "agents.example.test") == ["192.0.2.11"]
    record = dig(port, "_openclaw-failover.agents.example.test", "TXT")
    assert record[0] == '"alpha' and record[2] == "to=beta" and record[1].startswith("at=")
    assert openclaw(config, inventory, "dns", "plan").stdout == "dns: in sync\n"
    # beta is the only region left in service: it cannot fail over to alpha.
    r = openclaw(config, inventory, "failover", "--from", "beta", "--to", "alpha")
    assert r.returncode == 1 and "alpha is out of service itself" in r.stderr, r.stderr

    r = openclaw(config, inventory, "failback", "--region", "alpha")
    assert r.returncode == 0, r.stdout + r.stderr
    assert dig(port, "agents.example.test") == ["192.0.2.1", "192.0.2.2"]
    assert dig(port, "_openclaw-failover.agents.example.test", "TXT") == []
    r = openclaw(config, inventory, "failback", "--region", "alpha")
    assert r.returncode == 1 and "alpha is not failed over" in r.stderr, r.stderr
    for r in (openclaw(config, inventory, "dns", "plan"),):
        assert SECRET not in r.stdout + r.stderr


def test_failover_to_an_unhealthy_region_is_refused(bind: int, tmp_path: Path) -> None:
    port = bind
    config, inventory = project(tmp_path, port, weights=("1.0", "0"))
    inventory.write_text(inventory.read_text() + """      b3: {ssh_host: 127.0.0.1, ssh_port: 1,
           public_address: 192.0.2.13}
""")
    assert openclaw(config, inventory, "dns", "apply").returncode == 0
    r = openclaw(config, inventory, "failover", "--from", "alpha", "--to", "beta")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "error: beta is not healthy, DNS unchanged: b3: " in r.stderr
    assert "Traceback" not in r.stderr
    assert dig(port, "agents.example.test") == ["192.0.2.1", "192.0.2.2"]


def test_automatic_failover_of_a_region_that_is_down(bind: int, tmp_path: Path) -> None:
    """`failover --auto` (deployment.failover.automatic): alpha's hosts all fail the gate
    (nothing listens where they are), so alpha goes to beta; a second run finds nothing to
    do; a healthy fleet is left alone."""
    port = bind
    config, inventory = project(tmp_path, port)
    healthy = inventory.read_text()
    assert openclaw(config, inventory, "failover", "--auto").stdout == (
        "failover --auto: every region in service has a healthy host; nothing to do\n")
    inventory.write_text(healthy.replace("a1: {root: hosts/a1,", "a1: {ssh_host: 127.0.0.1, "
                                         "ssh_port: 1,").replace(
        "a2: {root: hosts/a2,", "a2: {ssh_host: 127.0.0.1, ssh_port: 1,"))
    assert openclaw(config, inventory, "dns", "apply").returncode == 0
    assert dig(port, "agents.example.test") == ["192.0.2.1", "192.0.2.11", "192.0.2.2"]
    r = openclaw(config, inventory, "failover", "--auto")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "failover alpha -> beta\n" in r.stdout and "alpha is down: a1: " in r.stderr
    assert dig(port, "agents.example.test") == ["192.0.2.11"]
    r = openclaw(config, inventory, "failover", "--auto")
    assert r.returncode == 0 and "nothing to do" in r.stdout, r.stdout + r.stderr
    bad = config.read_text().replace("  latency_routing:", "  failover:\n    automatic: false\n"
                                     "  latency_routing:")
    config.write_text(bad)
    r = openclaw(config, inventory, "failover", "--auto")
    assert r.returncode == 1 and "automatic is false" in r.stderr
    r = openclaw(config, inventory, "failover", "--auto", "--to", "beta")
    assert r.returncode == 1 and "--from and --to, or --auto alone" in r.stderr
