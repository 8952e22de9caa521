"""A sandbox host: the scripts and configs compiled from a test openclaw.yaml, installed under
a temporary root and run as real programs, with the clock injected (OPENCLAW_NOW)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from openclaw.compile import HostPlan, compile_host, runtime
from openclaw.model import Config
from openclaw.project import load

SECRETS = {"PRIMARY_API_KEY": "behaviour-primary-key", "SECONDARY_API_KEY": "behaviour-2nd",
           "TELEGRAM_BOT_TOKEN": "111:behaviour-token", "TELEGRAM_CHAT_ID": "4242"}


def sandbox(tmp: Path, config: str) -> tuple[Config, HostPlan]:
    """Compile `config` for one @local host rooted at tmp/root and write its files there."""
    (tmp / "openclaw.yaml").write_text(config)
    (tmp / "inventory.yaml").write_text(
        "regions:\n  lab:\n    hosts:\n      box:\n        ssh_host: '@local'\n"
        "        root: ./root\n")
    project = load(str(tmp / "openclaw.yaml"), str(tmp / "inventory.yaml"))
    plan = compile_host(project.config, project.inventory.hosts[0])
    for d in plan.directories:
        Path(plan.target(d.path)).mkdir(parents=True, exist_ok=True)
    for f in plan.files:
        target = Path(plan.target(f.path))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.content)
        target.chmod(f.mode)
    return project.config, plan


class SandboxHost:
    def __init__(self, tmp: Path, config: str) -> None:
        self.tmp = tmp
        cfg, self.plan = sandbox(tmp, config)
        self.root = Path(self.plan.target(cfg.service.root))
        self.bin = tmp / "bin"
        self.bin.mkdir()
        self.trace = tmp / "trace.log"
        # A stand-in for the pinned runtime's Node (at the path the scripts call) that records
        # how the budget check changes the model order: `node ENTRY config set ...`.
        self.config_sets = tmp / "config-set.log"
        node = Path(runtime.cli(cfg, str(self.root))[0])
        node.parent.mkdir(parents=True, exist_ok=True)
        node.write_text(f'#!/bin/sh\nshift\nprintf "%s\\n" "$*" >> {self.config_sets}\n')
        node.chmod(0o755)

    def run(self, script: str, now: int, *args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.root / "scripts" / script), *args], capture_output=True, text=True,
            timeout=timeout, env={"PATH": f"{self.bin}:/usr/bin:/bin", "OPENCLAW_NOW": str(now),
                                  "OPENCLAW_NO_SLEEP": "1", "OPENCLAW_TRACE": str(self.trace),
                                  **SECRETS, **(env or {})})

    def health(self, now: int, **kw: Any) -> subprocess.CompletedProcess[str]:
        return self.run("health-check.sh", now, **kw)

    def report(self) -> dict[str, Any]:
        return json.loads((self.root / "logs/health-check.json").read_text())  # type: ignore[no-any-return]

    def check(self, name: str) -> dict[str, Any]:
        return next(c for c in self.report()["checks"] if c["name"] == name)

    def breaker(self, target: str) -> dict[str, Any]:
        return json.loads((self.root / f"state/breakers/{target}.json").read_text())  # type: ignore[no-any-return]

    def pauses(self) -> list[float]:
        if not self.trace.exists():
            return []
        return [float(x.split()[1]) for x in self.trace.read_text().splitlines()]

    def metrics(self) -> str:
        return (self.root / "logs/openclaw.prom").read_text()


def config(gateway: int, provider: int, telegram: int, webhook: int, *, extra: str = "",
           threshold: int = 3, cooldown: str = "{min: 60s, max: 200s}",
           probe_interval: str = "30s", channels: str | None = None) -> str:
    chans = channels if channels is not None else (
        f"    - telegram: {{api_url: 'http://127.0.0.1:{telegram}'}}\n"
        f"    - webhook: {{url: 'http://127.0.0.1:{webhook}/hook'}}\n")
    return f"""version: 1
service:
  gateway: {{port: {gateway}}}
circuit_breaker:
  metrics:
    failure_threshold: {threshold}
    cooldown_period: {cooldown}
    probe_interval: {probe_interval}
retry:
  max_attempts: 3
  initial_delay: 1s
  max_delay: 1.5s
health_checks:
  liveness: {{timeout: 2s}}
  readiness: {{timeout: 2s}}
  memory_min_free: 1MB
  disk_max_usage: 100%
  workspace_files: [AGENTS.md, SOUL.md]
routing:
  providers:
    - name: primary
      model: model-a
      endpoint: http://127.0.0.1:{provider}/v1
      api_key_env: PRIMARY_API_KEY
      timeout: 1s
alerting:
  channels:
{chans}  thresholds:
    error_rate: "> 99%"
    latency_p99: "> 60s"
    memory_usage: "> 100%"
    disk_usage: "> 100%"
  suppression:
    deduplication_window: 1h
    escalation_delay: 15m
secrets:
  env:
    PRIMARY_API_KEY: {{env: PRIMARY_API_KEY}}
    TELEGRAM_BOT_TOKEN: {{env: TELEGRAM_BOT_TOKEN}}
    TELEGRAM_CHAT_ID: {{env: TELEGRAM_CHAT_ID}}
deployment:
  regions:
    - name: lab
      weight: 1.0
{extra}"""
