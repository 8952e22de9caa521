"""The LLM gateway on a real systemd host: bootstrap installs LiteLLM (pinned) into its own
virtualenv from wheels the controller uploads (the host has no package index), the proxy
and its Redis run under systemd as an account of their own, listen on loopback only, and a
request through the gateway reaches the (fake) provider with the key from the LLM gateway's
own environment file, which no process of the agent's account can read; OpenClaw's own
openclaw.json points at the gateway and keeps what OpenClaw wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosts.nspawn import Container
from tests.integration.conftest import FAKE, OPENCLAW, one_host

pytestmark = pytest.mark.integration
WHEELS = Path(os.environ.get("OPENCLAW_TEST_WHEELS", "/var/cache/openclaw-test/litellm-wheels"))
SECRETS = {"OCTEST_PROVIDER_KEY": "sk-canary-provider-Hy6Tg3", "OCTEST_MASTER_KEY":
           "sk-canary-master-Lp0Qa7", "OCTEST_GATEWAY_TOKEN": "canary-gateway-Mn3Bv7"}
PROVIDER_PORT = 18998


def config(path: Path) -> Path:
    path.write_text(f"""version: 1
service:
  openclaw: {{install: none, command: /opt/openclaw-runtime/bin/openclaw}}
  gateway: {{stop_timeout: 20s}}
  worker: {{command: /bin/sleep infinity}}
  packages: [curl]
llm_gateway:
  enabled: true
  port: 4000
  master_key_env: LITELLM_MASTER_KEY
  install: {{method: wheels, wheels: {WHEELS}}}
routing:
  providers:
    - name: primary
      model: test-model
      endpoint: http://127.0.0.1:{PROVIDER_PORT}/v1
      api_key_env: PRIMARY_API_KEY
      timeout: 5s
caching:
  exact: {{enabled: true, ttl: 10m}}
alerting:
  channels:
    - webhook: {{url: 'http://127.0.0.1:9/hook'}}
secrets:
  audit: [{{log_access: true}}, {{alert_on_access: true}}]
  env:
    PRIMARY_API_KEY: {{env: OCTEST_PROVIDER_KEY}}
    LITELLM_MASTER_KEY: {{env: OCTEST_MASTER_KEY}}
    GATEWAY_AUTH_TOKEN: {{env: OCTEST_GATEWAY_TOKEN}}
logging:
  retention: {{local: 3 days}}
  journal_max_use: 64MB
  tracing: {{endpoint: 'http://127.0.0.1:4318', service_name: agents}}
scaling:
  agent_instances: {{min: 1, max: 2}}
deployment:
  rollout: {{batch_size: 1, health_timeout: 240s}}
  regions:
    - name: alpha
      weight: 1.0
""")
    return path


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Container, Path, Path, Path]]:
    if not any(WHEELS.glob("litellm-*.whl")):
        pytest.fail(f"no LiteLLM wheels in {WHEELS}: run `make gateway-venv` (make test does)")
    with one_host(tmp_path_factory, "gateway") as (node, key, workdir):
        inventory = workdir / "inventory.yaml"
        # The provider listens on loopback inside the host's own network namespace.
        provider = subprocess.Popen(
            ["ip", "netns", "exec", node.netns, sys.executable,
             str(FAKE / "provider.py"), "primary", str(PROVIDER_PORT), "200",
             str(workdir / "provider.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            yield node, key, config(workdir / "openclaw.yaml"), inventory
        finally:
            provider.terminate()
            provider.wait(10)


def openclaw(cfg: Path, inventory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENCLAW, *args, "-c", str(cfg), "-i", str(inventory)],
                          capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL, env={**os.environ, **SECRETS})


def test_bootstrap_installs_and_runs_the_gateway(host: tuple[Container, Path, Path, Path]
                                                 ) -> None:
    node, key, cfg, inventory = host

    def sh(command: str) -> str:
        return node.ssh(command, key, timeout=120).stdout

    # OpenClaw was onboarded before openclaw arrived: its own keys must survive.
    sh("mkdir -p /opt/openclaw/state/openclaw && printf '%s' "
       "'{channels: {telegram: {botToken: \"1:own-canary\"}}, // OpenClaw wrote this\n}' "
       "> /opt/openclaw/state/openclaw/openclaw.json")
    r = openclaw(cfg, inventory, "bootstrap", "--region", "alpha", "--yes")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "llm-gateway (litellm 1.108.7 from uploaded wheels)" in out
    assert not any(v in out for v in SECRETS.values())

    venv = "/opt/openclaw/llm-gateway/litellm-1.108.7"
    assert sh("readlink /opt/openclaw/llm-gateway/current").strip() == venv
    assert "Version: 1.108.7" in sh(f"{venv}/bin/pip show litellm")
    pids = {}
    for unit in ("openclaw-llm-gateway.service", "openclaw-redis.service",
                 "openclaw-redis-state.service"):
        shown = sh(f"systemctl show -p ActiveState -p User {unit}").split()
        assert sorted(shown) == ["ActiveState=active", "User=openclaw-llm"], \
            sh(f"journalctl --no-pager -n 40 -u {unit}")
        pids[unit] = sh(f"systemctl show -p MainPID --value {unit}").strip()
        assert sh(f"ps -o user= -p {pids[unit]}").strip() == "openclaw-llm"
    # The agent's account holds no provider key: not in any file it can read, not in the
    # environment of any of its units, and not from the proxy's own process.
    provider_key = SECRETS["OCTEST_PROVIDER_KEY"]
    assert provider_key in sh(f"tr '\\0' '\\n' </proc/{pids['openclaw-llm-gateway.service']}"
                              "/environ")
    for env in ("gateway", "checks", "workers", "llm-gateway"):
        assert sh(f"stat -c '%a %U' /opt/openclaw/config/{env}.env").strip() == "600 root"
    assert sh("test -e /opt/openclaw/config/.env && echo shared || echo none").strip() == "none"
    as_agent = sh(
        "runuser -u milkbot -- sh -c 'cat /opt/openclaw/config/*.env; "
        f"cat /proc/{pids['openclaw-llm-gateway.service']}/environ; "
        "for p in $(pgrep -u milkbot); do cat /proc/$p/environ; done' 2>&1 || true")
    assert "Permission denied" in as_agent and provider_key not in as_agent
    for unit in ("openclaw-gateway.service", "openclaw-worker@1.service",
                 "openclaw-health-check.service", "openclaw-budget-check.service"):
        pid_env = sh(f"systemctl show -p EnvironmentFiles --value {unit}")
        files = [w for w in pid_env.split() if w.startswith("/")]
        assert files and "llm-gateway.env" not in " ".join(files), (unit, pid_env)
        assert provider_key not in sh(f"cat {' '.join(files)}")
    # Loopback only: nothing of the gateway's listens on another address.
    listening = sh("ss -Hltn")
    assert "127.0.0.1:4000" in listening and ":6390" not in listening  # Redis: no TCP
    assert sh("stat -c '%U %a' /opt/openclaw/redis/redis.sock").strip() == \
        "openclaw-llm 700"
    assert "0.0.0.0:4000" not in listening and "*:4000" not in listening

    ask = ("curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "
           "-H 'Authorization: Bearer " + SECRETS["OCTEST_MASTER_KEY"] + "' "
           "-d '{\"model\": \"primary\", \"messages\": [{\"role\": \"user\", "
           "\"content\": \"hi\"}]}' http://127.0.0.1:4000/v1/chat/completions")
    assert sh(ask) == "200"
    assert sh(ask) == "200"  # the second one from Redis
    # Each request left a usage record, written by the proxy's account under its sandbox,
    # readable by the service group: the budget check counts the answered one.
    assert sh("stat -c '%a %U %G' /opt/openclaw/usage").strip() == "2750 openclaw-llm milkbot"
    records = ""
    for _ in range(50):
        records = sh("cat /opt/openclaw/usage/usage-*.tsv 2>/dev/null || true")
        if len(records.splitlines()) >= 2:
            break
        time.sleep(0.2)
    outcomes = sorted(line.split("\t")[6] for line in records.splitlines())
    assert outcomes == ["cached", "ok"], records
    assert sh("runuser -u milkbot -- cat /opt/openclaw/usage/usage-*.tsv") == records
    # The mode in force reaches the request path: the health check's word (written here as
    # the agent's account) goes through root's path unit and mode.sh into the record, which
    # the proxy reads under its sandbox before each request: MAINTENANCE offers no tools.
    provider_log = cfg.parent / "provider.log"
    with_tools = ask.replace('"hi"}]', '"tool?"}], "tools": [{"type": "function", '
                             '"function": {"name": "exec", "parameters": {}}}]')
    for mode, tools in (("MAINTENANCE", False), ("FULL", True)):
        sh(f"runuser -u milkbot -- sh -c 'echo {mode} > /opt/openclaw/state/mode'")
        for _ in range(100):
            if sh("cut -d ' ' -f 1 /var/lib/openclaw/mode 2>/dev/null").strip() == mode:
                break
            time.sleep(0.2)
        assert sh("stat -c '%a %U' /var/lib/openclaw/mode").strip() == "644 root"
        assert sh(with_tools.replace("tool?", f"tool in {mode}")) == "200"
        last = json.loads(provider_log.read_text().splitlines()[-1])
        assert last["tools"] is tools, (mode, last)
    assert sh("redis-cli -s /opt/openclaw/redis/redis.sock --scan --pattern "
              "'openclaw:*' | wc -l").strip() != "0"
    # Another local user, the agent's account included, reaches neither the socket nor the
    # cache, counters and cooldowns behind it.
    for user in ("nobody", "milkbot"):
        assert "Permission denied" in sh(f"runuser -u {user} -- redis-cli -s "
                                         "/opt/openclaw/redis/redis.sock PING "
                                         "2>&1 || true")

    doc = json.loads(sh("cat /opt/openclaw/state/openclaw/openclaw.json"))
    assert doc["channels"] == {"telegram": {"botToken": "1:own-canary"}}
    assert doc["agents"]["defaults"]["model"]["primary"] == "llm-gateway/primary"
    assert doc["models"]["providers"]["llm-gateway"]["baseUrl"] == "http://127.0.0.1:4000/v1"
    assert sh("stat -c '%U %a' /opt/openclaw/state/openclaw/openclaw.json").strip() == \
        "milkbot 600"

    # logging and tracing: the journald drop-in in force, logrotate's file valid, the
    # OpenTelemetry environment in both units.
    merged = sh("systemd-analyze cat-config systemd/journald.conf")
    assert "MaxRetentionSec=3d" in merged and "SystemMaxUse=64000000" in merged
    assert sh("systemctl show -p ActiveState --value systemd-journald").strip() == "active"
    rotate = node.ssh("logrotate -d /etc/logrotate.d/openclaw", key, check=False)
    assert rotate.returncode == 0 and "error" not in rotate.stderr.lower(), rotate.stderr
    for unit, role in (("openclaw-gateway.service", "gateway"),
                       ("openclaw-llm-gateway.service", "llm-gateway")):
        env = sh(f"systemctl show -p Environment --value {unit}")
        assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318" in env
        assert f"OTEL_SERVICE_NAME=agents-{role}" in env
        assert "OTEL_RESOURCE_ATTRIBUTES=deployment.region=alpha,host.name=node1" in env

    # secrets.audit: the rule file in place (no auditd in a container to load it), the root
    # audit check runs in its sandbox and says auditd is missing.
    assert sh("stat -c '%a %U' /etc/audit/rules.d/openclaw.rules").strip() == "640 root"
    rules = sh("cat /etc/audit/rules.d/openclaw.rules")
    for env in ("gateway", "checks", "workers", "llm-gateway"):
        assert f"-w /opt/openclaw/config/{env}.env -p rwa -k openclaw-secrets" in rules
    sh("systemctl start openclaw-audit-check.service")
    assert sh("systemctl show -p Result --value openclaw-audit-check.service").strip() == \
        "success"
    assert "ausearch not found" in sh("journalctl --no-pager -u openclaw-audit-check.service")
    assert sh("stat -c '%a %U %G' /opt/openclaw/audit").strip() == "2750 root milkbot"

    r = openclaw(cfg, inventory, "bootstrap", "--region", "alpha", "--yes")
    assert r.returncode == 0 and "bootstrap: 0 changed, 1 unchanged, 0 failed" in r.stdout, \
        r.stdout + r.stderr


def test_turning_the_gateway_off_stops_it_and_its_redis(
        host: tuple[Container, Path, Path, Path]) -> None:
    node, key, cfg, inventory = host

    def sh(command: str) -> str:
        return node.ssh(command, key).stdout

    off = cfg.parent / "gateway-off.yaml"
    off.write_text(cfg.read_text().replace("llm_gateway:\n  enabled: true",
                                           "llm_gateway:\n  enabled: false"))
    r = openclaw(off, inventory, "plan", "--format", "json")
    assert r.returncode == 2, r.stderr
    (h,) = json.loads(r.stdout)["hosts"]
    removed = sorted(f["path"] for f in h["files"] if f["action"] == "remove")
    assert removed == ["/etc/systemd/system/openclaw-llm-gateway.service",
                       "/etc/systemd/system/openclaw-redis-state.service",
                       "/etc/systemd/system/openclaw-redis.service",
                       "/opt/openclaw/config/llm-gateway.env",
                       "/opt/openclaw/config/llm-gateway.yaml",
                       "/opt/openclaw/config/openclaw_policy.py",
                       "/opt/openclaw/config/openclaw_usage.py",
                       "/opt/openclaw/config/policy.json",
                       "/opt/openclaw/config/redis-state.conf",
                       "/opt/openclaw/config/redis.conf",
                       "/opt/openclaw/config/usage.json"]
    assert sorted(u["name"] for u in h["units"] if u["stop"]) == [
        "openclaw-llm-gateway.service", "openclaw-redis-state.service", "openclaw-redis.service"]
    assert sorted(d["path"] for d in h["directories"] if d["action"] == "remove") == [
        "/opt/openclaw/llm-gateway", "/opt/openclaw/llm-gateway/home", "/opt/openclaw/redis",
        "/opt/openclaw/redis-state", "/opt/openclaw/usage"]
    assert h["retire_accounts"] == ["user openclaw-llm", "group openclaw-llm"]
    r = openclaw(off, inventory, "apply", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(v in r.stdout + r.stderr for v in SECRETS.values())
    assert sh("systemctl is-active openclaw-llm-gateway openclaw-redis openclaw-redis-state "
              "|| true").split() == ["inactive"] * 3
    assert sh("pgrep -u openclaw-llm || echo none").strip() == "none"
    left = sh("ls /etc/systemd/system/ /opt/openclaw/config/")
    for name in ("openclaw-llm-gateway.service", "openclaw-redis.service", "llm-gateway.env",
                 "llm-gateway.yaml", "redis.conf", "redis-state.conf"):
        assert name not in left, left
    # Its virtualenv, Redis's directory and its account go too, as a fresh host would be.
    assert sh("ls -d /opt/openclaw/llm-gateway /opt/openclaw/redis /opt/openclaw/redis-state "
              "/opt/openclaw/usage 2>/dev/null || true").strip() == ""
    assert sh("getent passwd openclaw-llm || echo none").strip() == "none"
    # The agent now calls its provider itself: the key is in its own environment file.
    assert SECRETS["OCTEST_PROVIDER_KEY"] in sh("cat /opt/openclaw/config/gateway.env")
    r = openclaw(off, inventory, "plan")
    assert r.returncode == 0 and "0 with changes" in r.stdout, r.stdout
