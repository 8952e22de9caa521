"""Convergence, artifact by artifact: every file and directory openclaw can create leaves the
host with a change of openclaw.yaml (or with the host, by decommission), and the host then
holds exactly what a fresh apply of the new config leaves. Real plan, probe and install
script on @local sandbox hosts; units are proven on nspawn hosts (tests/integration)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from openclaw import live
from openclaw.compile import compile_fleet
from openclaw.project import load
from tests.test_live_local import REPO, SECRETS

# The reference config with every optional artifact on: the audit check and remote logs too.
EVERYTHING = [("    - alert_on_access: false", "    - alert_on_access: true"),
              ("    - stdout: for container logs\n",
               "    - stdout: for container logs\n    - remote: https://logs.example.com:19532\n")]

# Each change of openclaw.yaml, and what it must take off the host (files and directories
# under the service root, or absolute paths).
CHANGES: dict[str, tuple[list[tuple[str, str]], set[str]]] = {
    "dashboard off": ([("  dashboard:\n    enabled: true", "  dashboard:\n    enabled: false")],
                      {"/etc/systemd/system/openclaw-dashboard.service"}),
    "LLM gateway off": (
        [("llm_gateway:\n  enabled: true", "llm_gateway:\n  enabled: false")],
        {"config/llm-gateway.yaml", "config/llm-gateway.env", "config/redis.conf",
         "config/redis-state.conf", "/etc/systemd/system/openclaw-redis-state.service",
         "redis-state/",
         "config/openclaw_usage.py", "config/usage.json", "usage/",
         "config/openclaw_policy.py", "config/policy.json",
         "/etc/systemd/system/openclaw-llm-gateway.service",
         "/etc/systemd/system/openclaw-redis.service", "llm-gateway/", "llm-gateway/home/",
         "redis/"}),
    "exact cache off (no Redis)": (
        [("  exact:\n    enabled: true", "  exact:\n    enabled: false")],
        {"config/redis.conf", "/etc/systemd/system/openclaw-redis.service", "redis/",
         "config/redis-state.conf", "/etc/systemd/system/openclaw-redis-state.service",
         "redis-state/"}),
    "autoscaler off": (
        [("  queue:\n    database_url_env: DATABASE_URL\n    check_interval: 1m\n"
          "    lock_redis_url_env: QUEUE_REDIS_URL\n", "")],
        {"scripts/autoscale.sh", "config/autoscale.conf", "config/autoscale.env", "autoscale/",
         "/etc/systemd/system/openclaw-autoscale.service",
         "/etc/systemd/system/openclaw-autoscale.timer"}),
    "audit check off": (
        [("    - alert_on_access: true", "    - alert_on_access: false")],
        {"scripts/audit-check.sh", "config/audit-check.conf", "audit/",
         "/etc/systemd/system/openclaw-audit-check.service",
         "/etc/systemd/system/openclaw-audit-check.timer"}),
    "audit rules off": (
        [("    - log_access: true\n    - alert_on_access: true",
          "    - log_access: false\n    - alert_on_access: false")],
        {"/etc/audit/rules.d/openclaw.rules", "/etc/audit/rules.d", "/etc/audit",
         "scripts/audit-check.sh",
         "config/audit-check.conf", "audit/", "/etc/systemd/system/openclaw-audit-check.service",
         "/etc/systemd/system/openclaw-audit-check.timer"}),
    "remote logs off": (
        [("    - remote: https://logs.example.com:19532\n", "")],
        {"/etc/systemd/journal-upload.conf.d/openclaw.conf",
         "/etc/systemd/journal-upload.conf.d"}),
    "OpenClaw runtime not installed by openclaw": (
        [("    install: bundle", "    install: none")], {"runtime/"}),
    # ... unless the command the operator names lives inside it.
    "OpenClaw runtime left to a command inside it": (
        [("    install: bundle", "    install: none\n    command: /opt/openclaw/runtime/"
          "mine/bin/openclaw")], set()),
}


def _config(tmp_path: Path, name: str, edits: list[tuple[str, str]]) -> Path:
    text = (REPO / "openclaw.yaml").read_text()
    for old, new in EVERYTHING + edits:
        assert old in text, (name, old)
        text = text.replace(old, new, 1)
    path = tmp_path / f"{name.replace(' ', '-')}.yaml"
    path.write_text(text)
    return path


def _inventory(tmp_path: Path, root: str) -> Path:
    """One host, h, installed under tmp_path/root."""
    path = tmp_path / f"inventory-{root}.yaml"
    path.write_text(f"regions:\n  us-east:\n    hosts:\n      h:\n        ssh_host: "
                    f"'@local'\n        root: {tmp_path / root}\n")
    return path


def _apply(config: Path, inventory: Path) -> None:
    run = live.apply(load(str(config), str(inventory)), str(config), lambda _: None,
                     lambda _: None, lambda _: True)
    assert run.results is not None
    assert [r.status for r in run.results] in (["changed"], ["unchanged"]), run.results


def _tree(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path under a sandbox root with its mode and bytes, but the apply history."""
    out: dict[str, tuple[int, bytes | None]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            rel = "/" + str(p.relative_to(root))
            if rel.startswith("/var/lib/openclaw"):
                continue
            mode = p.lstat().st_mode & 0o7777
            # A sandbox's artifacts name its root: the same config, elsewhere, is the same.
            out[rel] = (mode, None if p.is_dir() else
                        p.read_bytes().replace(str(root).encode(), b"<root>"))
    return out


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    yield


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_leaves_the_host_as_a_fresh_apply_of_the_new_config(
        tmp_path: Path, change: str) -> None:
    edits, gone = CHANGES[change]
    before, after = _config(tmp_path, "before", []), _config(tmp_path, "after", edits)
    _apply(before, _inventory(tmp_path, "changed"))
    old = _tree(tmp_path / "changed")
    _apply(after, _inventory(tmp_path, "changed"))
    _apply(after, _inventory(tmp_path, "fresh"))
    new, fresh = _tree(tmp_path / "changed"), _tree(tmp_path / "fresh")
    assert new.keys() == fresh.keys(), (new.keys() ^ fresh.keys())
    assert {p for p in new if new[p] != fresh[p]} == set()
    root = load(str(before), str(_inventory(tmp_path, "x"))).config.service.root
    expected = {p if p.startswith("/") else f"{root}/{p}".rstrip("/") for p in gone}
    assert set(old) - set(new) == expected
    shutil.rmtree(tmp_path / "changed")
    shutil.rmtree(tmp_path / "fresh")


def test_every_artifact_has_a_change_that_removes_it(tmp_path: Path) -> None:
    """What no change of openclaw.yaml removes is what every host runs: it goes with the
    host (decommission, tests/sync/test_install.py and tests/integration)."""
    def artifacts(edits: list[tuple[str, str]]) -> set[str]:
        project = load(str(_config(tmp_path, "c", edits)), str(_inventory(tmp_path, "h")))
        (plan,) = compile_fleet(project.config, project.inventory)
        return {f.path for f in plan.files} | {d.path for d in plan.directories}

    everything = artifacts([])
    removable = set().union(*(everything - artifacts(edits) for edits, _ in
                              CHANGES.values()))
    always = {"config", "scripts", "logs", "state", "workspace", "backups", "state/openclaw",
              "scripts/lib.sh", "scripts/alert.sh", "scripts/health-check.sh",
              "scripts/budget-check.sh", "scripts/backup.sh", "scripts/mode.sh",
              "config/mode.conf", "config/host.conf",
              "config/alert.conf", "config/health-check.conf", "config/budget-check.conf",
              "config/backup.conf", "config/gateway.env", "config/checks.env",
              "config/workers.env", "config/failover.json", "state/openclaw/openclaw.json"}
    root = "/opt/openclaw"
    units = {f"/etc/systemd/system/openclaw-{u}" for u in (
        "gateway.service", "worker@.service", "health-check.service", "health-check.timer",
        "budget-check.service", "budget-check.timer", "backup.service", "backup.timer",
        "mode.service", "mode.path")}
    system = {"/etc/logrotate.d/openclaw", "/etc/systemd/journald.conf.d/openclaw.conf"}
    assert everything - removable == {root} | {f"{root}/{p}" for p in always} | units | system
