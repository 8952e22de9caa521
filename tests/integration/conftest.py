"""Real hosts for the integration tests: nspawn containers, booted per test module."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hosts.nspawn import Container, containers, make_key

REPO = Path(__file__).parent.parent.parent
OPENCLAW = str(Path(sys.executable).parent / "openclaw")
FLEET_CONFIG = Path(__file__).parent / "fleet.yaml"
FAKE = REPO / "tests/hosts/fake"
# The real, pinned OpenClaw (`make openclaw-bundle`): uploaded by the tests of the install
# itself, bind-mounted read-only at /opt/openclaw-runtime elsewhere (install: none).
OPENCLAW_VERSION = "2026.9.6"
RUNTIME_CACHE = Path(os.environ.get("OPENCLAW_TEST_RUNTIME",
                                    "/var/cache/openclaw-test/openclaw-runtime"))
RUNTIME = RUNTIME_CACHE / f"openclaw-{OPENCLAW_VERSION}-node-24.22.3"
CANARIES = {
    "OCTEST_GATEWAY_TOKEN": "canary-gateway-token-Vb5Nm1Qs8",
    "OCTEST_PRIMARY_API_KEY": "canary-primary-Zq8wPk2Lm5Xv9",
    "OCTEST_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hook-canary-Rt4Yh7Ub3Nc6",
}


def require_tools() -> None:
    missing = [t for t in ("systemd-nspawn", "mmdebstrap", "ssh", "ip")
               if shutil.which(t) is None]
    if missing or os.geteuid() != 0:
        pytest.fail(f"integration tests need root and {', '.join(missing) or 'the tools'}; "
                    "`make test` installs them")
    if not (RUNTIME / ".complete").exists():
        pytest.fail(f"no OpenClaw bundle in {RUNTIME}: run `make openclaw-bundle` (make test "
                    "does)")


def binds() -> list[str]:
    """What every test host sees: the fakes of what lives outside the fleet (providers,
    webhooks), and the real OpenClaw."""
    return [f"--bind-ro={FAKE}:/opt/fake", f"--bind-ro={RUNTIME}:/opt/openclaw-runtime"]


@dataclass
class Fleet:
    hosts: list[Container]
    key: Path
    workdir: Path
    inventory: Path

    def openclaw(self, *args: str, config: Path = FLEET_CONFIG,
                 inventory: Path | None = None, env: dict[str, str] | None = None,
                 timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [OPENCLAW, *args, "-c", str(config), "-i", str(inventory or self.inventory)],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
            env={**os.environ, **CANARIES, **(env or {})})

    def sh(self, index: int, command: str) -> str:
        return self.hosts[index].ssh(command, self.key).stdout


def write_inventory(path: Path, hosts: list[Container], key: Path, *,
                    extra: str = "") -> Path:
    """node1, node2 in alpha (root); node3 in beta (the sudo user)."""
    path.write_text(f"""defaults:
  ssh_user: root
  ssh_key: {key}
  ssh_known_hosts: {path.parent}/known_hosts
regions:
  alpha:
    hosts:
      node1: {{ssh_host: {hosts[0].ip}}}
      node2: {{ssh_host: {hosts[1].ip}}}
{extra}  beta:
    hosts:
      node3: {{ssh_host: {hosts[2].ip}, ssh_user: deploy, sudo: true}}
""")
    return path


@contextlib.contextmanager
def one_host(tmp_path_factory: pytest.TempPathFactory, name: str
             ) -> Iterator[tuple[Container, Path, Path]]:
    """One nspawn host (node1, region alpha) with the fakes at /opt/fake and the real
    OpenClaw at /opt/openclaw-runtime: the host, the SSH key, and a work directory holding
    inventory.yaml."""
    require_tools()
    workdir = tmp_path_factory.mktemp(name)
    key = make_key(workdir)
    with containers(1, workdir, key, extra_binds=binds()) as hosts:
        (workdir / "inventory.yaml").write_text(f"""defaults:
  ssh_user: root
  ssh_key: {key}
  ssh_known_hosts: {workdir}/known_hosts
regions:
  alpha:
    hosts:
      node1: {{ssh_host: {hosts[0].ip}}}
""")
        yield hosts[0], key, workdir


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    require_tools()
    workdir = tmp_path_factory.mktemp("fleet")
    key = make_key(workdir)
    with containers(3, workdir, key, extra_binds=binds()) as hosts:
        yield Fleet(hosts, key, workdir, write_inventory(workdir / "inventory.yaml", hosts,
                                                          key))
