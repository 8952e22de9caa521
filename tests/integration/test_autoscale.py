"""The autoscaler on a real systemd host against a real PostgreSQL: the test changes the depth
of a task_queue table and worker instances start and stop between the bounds, one per run;
a Redis lock held by another host makes it wait its turn."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosts.nspawn import Container
from tests.integration.conftest import OPENCLAW, one_host

pytestmark = pytest.mark.integration
# A password with '@', '&' and '%' (percent-encoded in the URL), as the security review used.
SECRETS = {"OCTEST_QUEUE_URL": "postgresql://scaler:c%40n%26ry%25canary-pg-Wq4@127.0.0.1/queue",
           "OCTEST_LOCK_URL": "redis://127.0.0.1:6379/0",
           "OCTEST_GATEWAY_TOKEN": "canary-gateway-Rk8Jd2"}
CONFIG = """version: 1
service:
  openclaw: {install: none, command: /opt/openclaw-runtime/bin/openclaw}
  gateway: {stop_timeout: 20s}
  worker: {command: /bin/sleep infinity}
routing:
  providers:
    - {name: primary, model: test-model}
alerting:
  channels:
    - webhook: {url: 'http://127.0.0.1:9/hook'}
orchestration:
  worker_model: dynamic
scaling:
  agent_instances:
    - min: 1
    - max: 3
    - scale_up_trigger: queue_depth > 5
    - scale_down_trigger: queue_depth < 2
  queue:
    database_url_env: DATABASE_URL
    lock_redis_url_env: QUEUE_REDIS_URL
    check_interval: 10m
secrets:
  env:
    DATABASE_URL: {env: OCTEST_QUEUE_URL}
    QUEUE_REDIS_URL: {env: OCTEST_LOCK_URL}
    GATEWAY_AUTH_TOKEN: {env: OCTEST_GATEWAY_TOKEN}
deployment:
  rollout: {batch_size: 1, health_timeout: 240s}
  regions:
    - {name: alpha, weight: 1.0}
"""
SQL = ("CREATE ROLE scaler LOGIN PASSWORD 'c@n&ry%canary-pg-Wq4'",
       "CREATE DATABASE queue OWNER scaler")
TABLE = ("CREATE TABLE task_queue (id serial PRIMARY KEY, status text NOT NULL); "
         "GRANT SELECT ON task_queue TO scaler;")


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Container, Path, Path]]:
    with one_host(tmp_path_factory, "autoscale") as (node, key, workdir):
        (workdir / "openclaw.yaml").write_text(CONFIG)
        yield node, key, workdir


def test_workers_follow_the_queue_depth(host: tuple[Container, Path, Path]) -> None:
    node, key, workdir = host

    def sh(command: str) -> str:
        r = node.ssh(command, key, timeout=120, check=False)
        assert r.returncode == 0, (command, r.stderr)
        return r.stdout

    def psql(sql: str, db: str = "postgres") -> None:
        sh(f"runuser -u postgres -- psql -q -d {db} -c \"{sql}\"")

    def depth(n: int) -> None:
        psql(f"DELETE FROM task_queue; INSERT INTO task_queue (status) SELECT 'pending' "
             f"FROM generate_series(1, {n}) UNION ALL SELECT 'done';", "queue")

    def run() -> list[str]:
        sh("systemctl start openclaw-autoscale.service")
        assert sh("systemctl show -p Result --value openclaw-autoscale.service").strip() == \
            "success", sh("journalctl --no-pager -n 20 -u openclaw-autoscale.service")
        return sorted(sh("systemctl list-units --state=active --no-legend --plain "
                         "'openclaw-worker@*' | awk '{print $1}'").split())

    # The real psql, behind a wrapper that records the arguments root's autoscaler gives it.
    wrapper = ('#!/bin/sh\n[ "$(id -u)" = 0 ] && printf "%s\\n" "$@" '
               '>>/opt/openclaw/autoscale/psql-argv 2>/dev/null\nexec /usr/bin/psql "$@"\n')
    sh(f"echo {base64.b64encode(wrapper.encode()).decode()} | base64 -d >/usr/local/bin/psql "
       "&& chmod 755 /usr/local/bin/psql")
    sh("systemctl start postgresql redis-server")
    for statement in SQL:  # CREATE DATABASE cannot share a transaction
        psql(statement)
    psql(TABLE, "queue")
    r = subprocess.run([OPENCLAW, "apply", "--yes", "-c", str(workdir / "openclaw.yaml"), "-i",
                        str(workdir / "inventory.yaml")], capture_output=True, text=True,
                       timeout=300, stdin=subprocess.DEVNULL, env={**os.environ, **SECRETS})
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(v in r.stdout + r.stderr for v in SECRETS.values())
    w = "openclaw-worker@{}.service"

    depth(8)  # > 5: one more per run, up to max 3
    assert run() == [w.format(1), w.format(2)]
    assert run() == [w.format(1), w.format(2), w.format(3)]
    assert run() == [w.format(1), w.format(2), w.format(3)]
    assert '"depth": 8, "workers": 3, "action": "none"' in sh(
        "cat /opt/openclaw/autoscale/last.json")
    depth(3)  # between the triggers: nothing changes
    assert len(run()) == 3
    depth(0)  # < 2: one fewer per run, down to min 1
    assert run() == [w.format(1), w.format(2)]
    assert run() == [w.format(1)]
    assert run() == [w.format(1)]

    # Another host holds the lock: this one waits its turn.
    sh("redis-cli SET openclaw:autoscale:lock other-host EX 60")
    depth(9)
    assert run() == [w.format(1)]
    assert "other-host holds the scaling lock" in sh(
        "journalctl --no-pager -n 5 -u openclaw-autoscale.service")
    sh("redis-cli DEL openclaw:autoscale:lock")
    assert run() == [w.format(1), w.format(2)]
    # The database password never reached a command line or the journal.
    assert "canary-pg-Wq4" not in sh("journalctl --no-pager -u openclaw-autoscale.service")
    argv = sh("cat /opt/openclaw/autoscale/psql-argv")
    assert "SELECT" in argv  # the wrapper saw every run's psql
    assert "canary-pg-Wq4" not in argv and "127.0.0.1" not in argv and "-d" not in argv.split()
