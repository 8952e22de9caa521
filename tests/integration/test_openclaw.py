"""The real OpenClaw on real systemd hosts: bootstrap uploads the pinned bundle (Node and
OpenClaw 2026.9.6) and the LiteLLM wheels to two bare hosts; the gateway runs as the service
user from what openclaw compiled, /healthz and /readyz answer, the host's own `openclaw
config validate` accepts the merged openclaw.json, and a real agent turn goes OpenClaw ->
the LLM gateway -> a fake provider, falling back as openclaw.yaml says when the primary
answers 429. A version change goes through the canary and is rolled back when the new
version fails its gate."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hosts.nspawn import Container, containers, make_key
from tests.integration.conftest import (
    FAKE,
    OPENCLAW,
    OPENCLAW_VERSION,
    RUNTIME_CACHE,
    binds,
    require_tools,
)

pytestmark = pytest.mark.integration
WHEELS = Path(os.environ.get("OPENCLAW_TEST_WHEELS", "/var/cache/openclaw-test/litellm-wheels"))
SECRETS = {"OCTEST_PRIMARY_KEY": "sk-canary-primary-Wd3Rf8", "OCTEST_SECONDARY_KEY":
           "sk-canary-secondary-Ky7Pq2", "OCTEST_MASTER_KEY": "sk-canary-master-Tg5Hn4",
           "OCTEST_GATEWAY_TOKEN": "canary-gateway-token-Zx6Cv9"}
PORTS = {"primary": 18998, "secondary": 18999}
BROKEN = "2026.9.7"
RUNTIME_DIR = f"/opt/openclaw/runtime/openclaw-{OPENCLAW_VERSION}-node-24.22.3"
STATE = "/opt/openclaw/state/openclaw"


def config(cache: Path, version: str = OPENCLAW_VERSION, gate: str = "240s") -> str:
    return f"""version: 1
service:
  openclaw:
    version: "{version}"
    install: bundle
    bundle_cache: {cache}
  gateway: {{stop_timeout: 20s}}
  worker: {{command: /bin/sleep infinity}}
  packages: [curl]
llm_gateway:
  enabled: true
  master_key_env: LITELLM_MASTER_KEY
  install: {{method: wheels, wheels: {WHEELS}}}
routing:
  providers:
    - name: primary
      model: model-a
      endpoint: http://127.0.0.1:{PORTS["primary"]}/v1
      api_key_env: PRIMARY_API_KEY
      timeout: 20s
    - name: secondary
      model: model-b
      endpoint: http://127.0.0.1:{PORTS["secondary"]}/v1
      api_key_env: SECONDARY_API_KEY
      timeout: 20s
retry:
  max_attempts: 3
  initial_delay: 1s
  max_delay: 2s
  retry_on: [429, 5xx, timeout]
caching:
  exact: {{enabled: false}}
safety:
  # LiteLLM checks the whole prompt OpenClaw sends (its system prompt and tool schemas
  # included), not only what the user typed.
  input: {{max_length: 200000 tokens}}
alerting:
  channels:
    - webhook: {{url: 'http://127.0.0.1:9/hook'}}
secrets:
  env:
    GATEWAY_AUTH_TOKEN: {{env: OCTEST_GATEWAY_TOKEN}}
    PRIMARY_API_KEY: {{env: OCTEST_PRIMARY_KEY}}
    SECONDARY_API_KEY: {{env: OCTEST_SECONDARY_KEY}}
    LITELLM_MASTER_KEY: {{env: OCTEST_MASTER_KEY}}
scaling:
  agent_instances: {{min: 1, max: 1}}
# A health check that degrades a busy test host would move its requests to the fallback
# (degradation is proven in test_scripts_systemd and tests/gateway).
degradation:
  modes:
    - FULL: every unit runs
deployment:
  rollout: {{batch_size: 1, health_timeout: {gate}}}
  regions:
    - name: alpha
      weight: 1.0
"""


@dataclass
class Site:
    hosts: list[Container]
    key: Path
    workdir: Path
    inventory: Path
    logs: dict[str, Path]  # provider -> its request log (on this machine)

    def sh(self, i: int, command: str, timeout: float = 120) -> str:
        return self.hosts[i].ssh(command, self.key, timeout=timeout).stdout

    def openclaw(self, cfg: Path, *args: str, timeout: float = 900
                 ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OPENCLAW, *args, "-c", str(cfg), "-i", str(self.inventory)],
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env={**os.environ, **SECRETS})

    def calls(self, provider: str) -> list[dict[str, object]]:
        log = self.logs[provider]
        return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


@contextlib.contextmanager
def providers(node: Container, workdir: Path) -> Iterator[dict[str, Path]]:
    """The two fake providers, on loopback inside node1's own network namespace."""
    logs = {name: workdir / f"{name}.log" for name in PORTS}
    procs = [subprocess.Popen(["ip", "netns", "exec", node.netns, sys.executable,
                               str(FAKE / "provider.py"), name, str(port), "200",
                               str(logs[name])],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for name, port in PORTS.items()]
    try:
        yield logs
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_tools()
    if not any(WHEELS.glob("litellm-*.whl")):
        pytest.fail(f"no LiteLLM wheels in {WHEELS}: run `make gateway-venv` (make test does)")
    workdir = tmp_path_factory.mktemp("openclaw")
    key = make_key(workdir)
    with containers(2, workdir, key, extra_binds=binds()) as hosts:
        inventory = workdir / "inventory.yaml"
        inventory.write_text(f"""defaults:
  ssh_user: root
  ssh_key: {key}
  ssh_known_hosts: {workdir}/known_hosts
regions:
  alpha:
    hosts:
      node1: {{ssh_host: {hosts[0].ip}}}
      node2: {{ssh_host: {hosts[1].ip}}}
""")
        with providers(hosts[0], workdir) as logs:
            yield Site(hosts, key, workdir, inventory, logs)


def journal(site: Site, i: int) -> str:
    return site.hosts[i].ssh("journalctl --no-pager -n 60 -u openclaw-gateway.service "
                             "-u openclaw-llm-gateway.service", site.key, check=False).stdout


def wait_ready(site: Site, i: int, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        body = site.hosts[i].ssh("curl -s --max-time 5 http://127.0.0.1:18789/readyz",
                                 site.key, check=False).stdout
        if '"ready":true' in body:
            return body
        time.sleep(2)
    raise AssertionError(f"not ready after {timeout}s: {body}")


def agent_turn(site: Site, message: str) -> str:
    """`openclaw agent` as the service user, with the gateway's own environment: the turn
    runs in the gateway (it owns the state directory, so --local is refused while it runs),
    which asks the LLM gateway."""
    r = site.hosts[0].ssh((
        "systemd-run --quiet --pipe --wait --uid=milkbot --gid=milkbot "
        "-p EnvironmentFile=/opt/openclaw/config/gateway.env "
        "-p WorkingDirectory=/opt/openclaw/workspace "
        f"-E HOME=/opt/openclaw/state -E OPENCLAW_STATE_DIR={STATE} "
        f"-E OPENCLAW_CONFIG_PATH={STATE}/openclaw.json "
        f"/opt/openclaw/runtime/current/bin/openclaw agent --json -m '{message}'"),
        site.key, timeout=300, check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r.stdout


def test_1_bootstrap_runs_the_real_gateway(site: Site) -> None:
    cfg = site.workdir / "openclaw.yaml"
    cfg.write_text(config(RUNTIME_CACHE))
    r = site.openclaw(cfg, "bootstrap", "--region", "alpha", "--yes")
    out = r.stdout + r.stderr
    assert r.returncode == 0, r.stdout + "".join(journal(site, i) for i in (0, 1))
    assert f"install openclaw {OPENCLAW_VERSION} on node 24.22.3 (bundle)" in out
    assert not any(v in out for v in SECRETS.values())
    for i in (0, 1):
        assert site.sh(i, "readlink /opt/openclaw/runtime/current").strip() == RUNTIME_DIR
        assert site.sh(i, f"stat -c '%U %a' {RUNTIME_DIR}").strip() == "root 755"
        shown = dict(x.split("=", 1) for x in site.sh(i, (
            "systemctl show -p ActiveState -p User -p ExecStart -p TimeoutStopUSec "
            "-p RestartUSec -p KillMode -p OOMPolicy -p RestartPreventExitStatus "
            "-p StartLimitBurst openclaw-gateway.service")).splitlines() if "=" in x)
        assert shown["ActiveState"] == "active" and shown["User"] == "milkbot", \
            site.sh(i, "journalctl --no-pager -n 40 -u openclaw-gateway.service")
        assert f"path={RUNTIME_DIR}/node/bin/node" in shown["ExecStart"]
        assert (shown["TimeoutStopUSec"], shown["RestartUSec"], shown["KillMode"],
                shown["OOMPolicy"], shown["RestartPreventExitStatus"],
                shown["StartLimitBurst"]) == ("20s", "5s", "mixed", "continue", "78",
                                              "10")
        pid = site.sh(i, "systemctl show -p MainPID --value openclaw-gateway.service").strip()
        assert site.sh(i, f"ps -o user= -p {pid}").strip() == "milkbot"
        assert site.sh(i, "curl -s http://127.0.0.1:18789/healthz").strip() == \
            '{"ok":true,"status":"live"}'
        wait_ready(site, i)
        listening = site.sh(i, "ss -Hltn")
        assert "127.0.0.1:18789" in listening and "0.0.0.0:18789" not in listening
        # The gateway asks for the token from the .env; the file never holds it.
        assert SECRETS["OCTEST_GATEWAY_TOKEN"] not in site.sh(i, f"cat {STATE}/openclaw.json")
        assert site.sh(i, "curl -s -o /dev/null -w '%{http_code}' "
                          "http://127.0.0.1:18789/v1/models") in ("401", "403", "404")
        # The host's own OpenClaw accepts the merged file.
        validated = json.loads(site.sh(i, (
            f"runuser -u milkbot -- env HOME=/opt/openclaw/state OPENCLAW_STATE_DIR={STATE} "
            f"{RUNTIME_DIR}/bin/openclaw config validate --json 2>/dev/null")))
        assert validated["valid"] is True, validated


def test_2_a_real_agent_turn_through_the_llm_gateway_with_fallback(site: Site) -> None:
    out = agent_turn(site, "ping")
    assert "answer from primary" in out, (
        site.sh(0, "cat /var/lib/openclaw/mode 2>&1; journalctl --no-pager -n 30 "
                   "-u openclaw-llm-gateway.service") + out[-1500:])
    first = site.calls("primary")
    assert [c["model"] for c in first] == ["model-a"] and first[0]["stream"] is True
    assert site.calls("secondary") == []

    # The primary rate-limits: LiteLLM retries it as openclaw.yaml says, then falls back.
    (site.logs["primary"].parent / "primary.log.status").write_text("429")
    time.sleep(1)
    out = agent_turn(site, "ping again")
    assert "answer from secondary" in out and "answer from primary" not in out, out
    limited = site.calls("primary")[len(first):]
    assert len(limited) == 3 and all(c["status"] == 429 for c in limited)  # max_attempts
    assert [c["model"] for c in site.calls("secondary")] == ["model-b"]


def broken_bundle(cache: Path) -> None:
    """A version whose gateway exits at once: it installs and answers --version, and fails
    the health gate."""
    name = f"openclaw-{BROKEN}-node-24.22.3"
    top = cache / "src" / name
    (top / "node" / "bin").mkdir(parents=True)
    (top / "app" / "node_modules" / "openclaw").mkdir(parents=True)
    (top / "app" / "node_modules" / "openclaw" / "openclaw.mjs").write_text("")
    node = top / "node" / "bin" / "node"
    node.write_text(f'#!/bin/sh\ncase "$2" in --version) echo "OpenClaw {BROKEN} (broken)" ;;'
                    ' *) echo "broken on purpose" >&2; exit 1 ;; esac\n')
    node.chmod(0o755)
    (top / ".complete").write_text(BROKEN + "\n")
    with tarfile.open(cache / f"{name}.tar.gz", "w:gz") as tar:
        tar.add(top, arcname=name)


def test_3_a_version_change_fails_the_canary_and_is_rolled_back(site: Site) -> None:
    cache = site.workdir / "cache"
    cache.mkdir()
    broken_bundle(cache)
    cfg = site.workdir / "broken.yaml"
    cfg.write_text(config(cache, BROKEN, gate="30s"))
    r = site.openclaw(cfg, "plan")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"install openclaw {OPENCLAW_VERSION} -> {BROKEN} on node 24.22.3 (bundle)" in \
        r.stdout
    r = site.openclaw(cfg, "apply", "--yes", "--rollback-on-failure")
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "rolled back" in out and "skipped" in out, out
    unit = site.sh(0, "cat /etc/systemd/system/openclaw-gateway.service")
    assert f"{RUNTIME_DIR}/node/bin/node" in unit and BROKEN not in unit
    assert site.sh(0, "curl -s --retry 30 --retry-delay 2 --retry-all-errors "
                      "http://127.0.0.1:18789/healthz", timeout=200).strip() == \
        '{"ok":true,"status":"live"}'
    # The canary stopped the rollout: node2 never saw the new version.
    assert site.sh(1, "ls /opt/openclaw/runtime").split() == [
        "current", f"openclaw-{OPENCLAW_VERSION}-node-24.22.3"]
    good = site.workdir / "openclaw.yaml"
    r = site.openclaw(good, "plan")
    assert r.returncode == 0, r.stdout + r.stderr
