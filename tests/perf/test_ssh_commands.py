"""No regression in round trips: the SSH sessions (commands and SFTP transfers) openclaw opens
per host for each job, counted by each host's own sshd. Counts, not timings."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosts.light import LightHost, inventory, light_hosts
from tests.hosts.nspawn import make_key

REPO = Path(__file__).parent.parent.parent
OPENCLAW = str(Path(sys.executable).parent / "openclaw")
SECRETS = {"GATEWAY_AUTH_TOKEN": "perf-gw-key",
           "MINIMAX_API_KEY": "perf-mm-key", "OPENROUTER_API_KEY": "perf-or-key",
           "TELEGRAM_BOT_TOKEN": "1:perf-tg", "TELEGRAM_CHAT_ID": "perf-chat",
           "LITELLM_MASTER_KEY": "sk-perf-litellm",
           "DATABASE_URL": "postgresql://canary:pw-canary-db@127.0.0.1/q",
           "QUEUE_REDIS_URL": "redis://:canary-redis-pw@127.0.0.1:6379/0"}
# The targets (#20): a no-op plan stats and hashes every path in one command per host; a
# fresh apply reads, uploads (one SFTP session) and installs, checks and gates in one command.
TARGETS = {"plan in sync": 1, "apply fresh": 3, "apply in sync": 1}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[LightHost], Path]]:
    if os.geteuid() != 0:
        pytest.fail("the SSH command count test needs root (mount namespaces); "
                    "`make test` runs as root in CI")
    workdir = tmp_path_factory.mktemp("light")
    key = make_key(workdir)
    with light_hosts(3, workdir, key, first=40) as hosts:
        yield hosts, inventory(hosts, key, workdir / "inventory.yaml")


def sessions(hosts: list[LightHost], *args: str, inv: Path) -> list[int]:
    before = [h.sessions() for h in hosts]
    r = subprocess.run([OPENCLAW, *args, "-i", str(inv)], cwd=REPO, capture_output=True,
                       text=True, env={**os.environ, **SECRETS}, timeout=600)  # a hang guard
    assert r.returncode in (0, 2), r.stdout + r.stderr
    return [h.sessions() - b for h, b in zip(hosts, before, strict=True)]


def test_ssh_sessions_per_host_stay_within_targets(
        fleet: tuple[list[LightHost], Path]) -> None:
    hosts, inv = fleet
    counts = {"apply fresh": sessions(hosts, "apply", "--yes", inv=inv)}
    counts["plan in sync"] = sessions(hosts, "plan", inv=inv)
    counts["apply in sync"] = sessions(hosts, "apply", "--yes", inv=inv)
    for job, per_host in counts.items():
        print(f"{job}: {per_host} SSH sessions per host (target <= {TARGETS[job]})")
        assert max(per_host) <= TARGETS[job], (job, per_host)
    assert counts["plan in sync"] == [1, 1, 1]
    # An apply that changes nothing reads each host once and takes no lock.
    assert counts["apply in sync"] == [1, 1, 1]
