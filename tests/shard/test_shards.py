"""Sharded runs, as N CI runners do them: `--shard I/N` splits the hosts deterministically,
two shards apply in parallel against the same light hosts, and merge-reports makes one
report of theirs; overlapping reports are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosts.light import LightHost, inventory, light_hosts
from tests.hosts.nspawn import make_key
from tests.perf.test_ssh_commands import SECRETS

REPO = Path(__file__).parent.parent.parent
OPENCLAW = str(Path(sys.executable).parent / "openclaw")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[LightHost], Path]]:
    if os.geteuid() != 0:
        pytest.fail("light hosts need root (mount namespaces); `make test` runs as root")
    workdir = tmp_path_factory.mktemp("shards")
    key = make_key(workdir)
    with light_hosts(5, workdir, key, first=60) as hosts:
        yield hosts, inventory(hosts, key, workdir / "inventory.yaml")


def start(inv: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([OPENCLAW, *args, "-i", str(inv), "--format", "json"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **SECRETS})


def hosts_of(report: str) -> list[str]:
    return [h["host"] for h in json.loads(report)["hosts"]]


def test_two_shards_apply_in_parallel_and_merge(fleet: tuple[list[LightHost], Path],
                                                tmp_path: Path) -> None:
    hosts, inv = fleet
    # The split: every host in exactly one shard, in rollout order, the same each time.
    plans = [start(inv, "plan", "--shard", f"{i}/2") for i in (1, 2)]
    shards = [hosts_of(p.communicate(timeout=600)[0]) for p in plans]
    assert sorted(shards[0] + shards[1]) == sorted(h.name for h in hosts)
    assert not set(shards[0]) & set(shards[1]) and all(shards)
    again = start(inv, "plan", "--shard", "1/2").communicate(timeout=600)[0]
    assert hosts_of(again) == shards[0]

    runs = [start(inv, "apply", "--yes", "--shard", f"{i}/2") for i in (1, 2)]
    outs = [p.communicate(timeout=600) for p in runs]
    for p, (out, err) in zip(runs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
        assert not any(v in out + err for v in SECRETS.values())
    reports = []
    for i, (out, _) in enumerate(outs, start=1):
        path = tmp_path / f"shard-{i}.json"
        path.write_text(out)
        reports.append(str(path))
        assert hosts_of(out) == shards[i - 1]
    r = subprocess.run([OPENCLAW, "merge-reports", *reports], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"apply: {len(hosts)} changed, 0 unchanged, 0 failed, 0 rolled back, 0 skipped " \
           "(2 shard(s))" in r.stdout
    merged = json.loads(subprocess.run([OPENCLAW, "merge-reports", "--format", "json",
                                        *reports], capture_output=True, text=True,
                                       timeout=60).stdout)
    assert sorted(x["host"] for x in merged["results"]) == sorted(h.name for h in hosts)
    assert merged["summary"]["hosts"] == len(hosts) and merged["shards"] == 2
    # Replication pairs hosts across regions, so across shards: a shard reads the other's
    # keys, which that shard may have been creating at the same moment. One more sharded
    # round pairs whatever the first could not see; then the fleet is as one apply would
    # have left it: every host in sync.
    for p in [start(inv, "apply", "--yes", "--shard", f"{i}/2") for i in (1, 2)]:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
    p = start(inv, "plan")
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err[-2000:]
    # A report given twice is an overlap, refused with the host's name.
    r = subprocess.run([OPENCLAW, "merge-reports", reports[0], reports[0]],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "shards overlap" in r.stderr and "Traceback" not in r.stderr


def test_a_bad_shard_is_refused(fleet: tuple[list[LightHost], Path]) -> None:
    _, inv = fleet
    for bad in ("0/2", "3/2", "1-2", "a/b"):
        r = subprocess.run([OPENCLAW, "plan", "--shard", bad, "-i", str(inv)], cwd=REPO,
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, **SECRETS})
        assert r.returncode == 1 and "give I/N with 1 <= I <= N" in r.stderr, (bad, r.stderr)
