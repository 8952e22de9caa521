"""The real LiteLLM proxy, started from the compiled unit's own command line and environment,
with the compiled Redis, against fake providers on loopback."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openclaw.compile.plan import HostPlan
from tests.behaviour.host import sandbox

VENV = Path(os.environ.get("OPENCLAW_TEST_LITELLM", "/var/cache/openclaw-test/litellm-venv"))
MASTER_KEY = "sk-gateway-test-master"
UNIT = "/etc/systemd/system/openclaw-llm-gateway.service"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unit_lines(plan: HostPlan, name: str) -> list[str]:
    return plan.file(f"/etc/systemd/system/{name}").content.decode().splitlines()


def exec_line(lines: list[str], key: str) -> list[str]:
    """A unit's command with systemd's `$$` unescaped, as the shell-free argv it runs."""
    line = next(x for x in lines if x.startswith(key + "="))
    return shlex.split(line.split("=", 1)[1].replace("$$", "$"))


class Gateway:
    """Compile a test openclaw.yaml into a sandbox, start its Redis and its proxy."""

    def __init__(self, tmp: Path, config: str, secrets: dict[str, str]) -> None:
        self.cfg, self.plan = sandbox(tmp, config)
        # What bootstrap's install step leaves, made once per machine (make gateway-venv).
        Path(self.plan.target(f"{self.cfg.service.root}/llm-gateway/current")).symlink_to(VENV)
        self.tmp, self.secrets = tmp, secrets
        self.procs: list[subprocess.Popen[bytes]] = []
        self.port = self.cfg.llm_gateway.port
        self.redis_socket = self.plan.target(
            f"{self.cfg.service.root}/redis/redis.sock")

    def environment(self) -> dict[str, str]:
        """What systemd gives the unit: its EnvironmentFile's keys and its Environment=."""
        lines = unit_lines(self.plan, "openclaw-llm-gateway.service")
        env_file = next(x for x in lines if x.startswith("EnvironmentFile=")).split("=", 1)[1]
        keys = {k for f in self.plan.files if f.sensitive and env_file.endswith(f.path)
                for k, _ in f.secrets}
        env = {"PATH": "/usr/bin:/bin",
               **{k: v for k, v in self.secrets.items() if k in keys}}
        for line in lines:
            if line.startswith("Environment="):
                key, _, value = line.split("=", 1)[1].partition("=")
                env[key] = value
        return env

    def pre_start(self, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        argv = exec_line(unit_lines(self.plan, "openclaw-llm-gateway.service"),
                         "ExecStartPre")
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=10)

    def start(self) -> None:
        # Each Redis of the gateway (the cache, the router's state), as its unit runs it.
        for name in ("redis", "redis-state"):
            unit = f"openclaw-{name}.service"
            if f"/etc/systemd/system/{unit}" not in {f.path for f in self.plan.files}:
                continue
            argv = exec_line(unit_lines(self.plan, unit), "ExecStart")
            self._spawn(argv, {"PATH": "/usr/bin:/bin"}, f"{name}.log")
            self._wait_redis(self.plan.target(f"{self.cfg.service.root}/{name}/redis.sock"),
                             f"{name}.log")
        env = self.environment()
        assert self.pre_start(env).returncode == 0
        argv = exec_line(unit_lines(self.plan, "openclaw-llm-gateway.service"), "ExecStart")
        # The unit's paths are host paths; in the sandbox they live under the root.
        argv = [self.plan.target(a) if a.startswith(self.cfg.service.root) else a
                for a in argv]
        self._spawn(argv, env, "litellm.log")
        self._wait_ready()

    def _spawn(self, argv: list[str], env: dict[str, str], log: str) -> None:
        out = (self.tmp / log).open("ab")
        self.procs.append(subprocess.Popen(argv, env=env, stdout=out, stderr=out,
                                           cwd=self.tmp, start_new_session=True))

    def _wait_redis(self, path: str, log: str) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(1)
                    s.connect(path)
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("redis did not start: " + self.log(log))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.procs[-1].poll() is not None:
                raise AssertionError("litellm exited: " + self.log("litellm.log"))
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{self.port}/health/liveliness", timeout=2) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.3)
        raise AssertionError("litellm did not answer: " + self.log("litellm.log"))

    def log(self, name: str) -> str:
        path = self.tmp / name
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def ask(self, model: str, text: str = "hello", key: str = MASTER_KEY, **extra: Any
            ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """One chat completion through the proxy: status, body, headers. `extra`: more
        fields of the request (tools, ...)."""
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/v1/chat/completions", method="POST",
            data=json.dumps({"model": model, "messages": [
                {"role": "user", "content": text}], **extra}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read()), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}"), dict(e.headers)


@pytest.fixture
def gateways(tmp_path: Path) -> Iterator[Any]:
    if not (VENV / "bin" / "litellm").exists():
        pytest.fail(f"no LiteLLM at {VENV}: run `make gateway-venv` (make test does)")
    started: list[Gateway] = []

    def make(config: str, secrets: dict[str, str]) -> Gateway:
        folder = tmp_path / f"gw{len(started)}"
        folder.mkdir()
        gw = Gateway(folder, config, secrets)
        started.append(gw)
        return gw
    yield make
    for gw in started:
        gw.stop()
