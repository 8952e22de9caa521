"""Two hosts sharing one queue take turns through the real Redis lock: the holder releases
it after each decision, so both scale (the holder used to renew it forever and keep every
turn: host A went from 2 to 10 workers while host B stayed at 2)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.behaviour.host import SandboxHost

CONFIG = """version: 1
service:
  worker: {{command: /bin/sleep infinity}}
routing:
  providers:
    - {{name: primary, model: test-model}}
alerting:
  channels:
    - webhook: {{url: 'http://127.0.0.1:9/hook'}}
orchestration:
  worker_model: dynamic
scaling:
  agent_instances:
    - min: 2
    - max: 10
    - scale_up_trigger: queue_depth > 5
    - scale_down_trigger: queue_depth < 2
  queue:
    database_url_env: DATABASE_URL
    lock_redis_url_env: QUEUE_REDIS_URL
    check_interval: 1m
secrets:
  env:
    DATABASE_URL: {{env: DATABASE_URL}}
    QUEUE_REDIS_URL: {{env: QUEUE_REDIS_URL}}
deployment:
  regions:
    - {{name: lab, weight: 1.0}}
"""

# The host's systemd, for worker instances only: active ones are files in a directory.
SYSTEMCTL = """#!/bin/bash
dir={state}
mkdir -p "$dir"
case $1 in
  is-active) [ "$2" = --quiet ] && shift; [ -e "$dir/$2" ] ;;
  start) touch "$dir/$2" ;;
  stop) rm -f "$dir/$2" ;;
  list-units) ls "$dir" ;;
  *) exit 0 ;;
esac
"""
# The operator's queue stands in here: a depth of 50 (the real psql runs in
# tests/integration/test_autoscale.py).
PSQL = "#!/bin/sh\necho 50\n"


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            assert time.monotonic() < deadline and proc.poll() is None, "redis did not start"
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def scaler(tmp: Path, name: str) -> SandboxHost:
    folder = tmp / name
    folder.mkdir()
    host = SandboxHost(folder, CONFIG.format())
    for tool, text in (("systemctl", SYSTEMCTL.format(state=folder / "workers")),
                       ("psql", PSQL)):
        (host.bin / tool).write_text(text)
        (host.bin / tool).chmod(0o755)
    conf = host.root / "config/host.conf"  # the sandbox names every host "box"
    conf.write_text(conf.read_text().replace("HOST_NAME=box", f"HOST_NAME=host-{name}"))
    for i in (1, 2):  # the instances apply starts (scaling.agent_instances.min)
        (folder / "workers").mkdir(exist_ok=True)
        (folder / "workers" / f"openclaw-worker@{i}.service").touch()
    return host


def workers(host: SandboxHost) -> int:
    return len(list((host.tmp / "workers").iterdir()))


def test_hosts_sharing_a_queue_both_scale(tmp_path: Path, redis: int) -> None:
    hosts = [scaler(tmp_path, "a"), scaler(tmp_path, "b")]
    env = {"DATABASE_URL": "postgresql://scaler@127.0.0.1/queue",
           "QUEUE_REDIS_URL": f"redis://127.0.0.1:{redis}/0"}
    t = 1_000_000
    for minute in range(12):  # depth 50 for 12 minutes, both timers every minute
        for host in hosts:
            r = host.run("autoscale.sh", t + 60 * minute, env=env)
            assert r.returncode == 0, r.stderr
    assert [workers(h) for h in hosts] == [10, 10]
    # Nobody holds the lock between decisions.
    held = subprocess.run(["redis-cli", "-p", str(redis), "EXISTS", "openclaw:autoscale:lock"],
                          capture_output=True, text=True).stdout.strip()
    assert held == "0"
