"""Real systemd hosts: systemd-nspawn containers booted from the cached root, each in a
network namespace of its own reached through a veth pair, with sshd and a test key.

Every container gets its own cgroup subtree and a private mount namespace (with a tmpfs on
/run/systemd/nspawn), --keep-unit --register=no (there is no host D-Bus) and
--volatile=overlay (each boot starts clean). Stopping is by PID; namespaces and cgroups are
removed even when a test failed."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.hosts.rootfs import rootfs

CGROUP_ROOTS = ("/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd")


@dataclass
class Container:
    name: str
    index: int
    workdir: Path
    netns: str
    veth: str
    host_ip: str  # the controller's end of the veth pair
    ip: str  # the container's address, inside its own namespace
    pid: int = 0
    boot: str = ""  # unique per boot: a cgroup left by an earlier boot is never reused
    mesh_ip: str = ""  # on the containers' shared bridge (containers(mesh=True)), or ""

    @property
    def cgroup(self) -> str:
        return f"openclaw-test/{self.netns}{self.boot}"

    def ssh(self, command: str, key: Path, *, user: str = "root", timeout: float = 60,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ssh", "-i", str(key), "-o", "StrictHostKeyChecking=no", "-o",
             "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
             "-o", "ConnectTimeout=5", f"{user}@{self.ip}", command],
            capture_output=True, text=True, timeout=timeout, check=check)


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def _quiet(*cmd: str) -> None:
    subprocess.run(cmd, capture_output=True)


def _setup_network(c: Container) -> None:
    _run("ip", "netns", "add", c.netns)
    _run("ip", "link", "add", c.veth, "type", "veth", "peer", "name", "host0", "netns",
         c.netns)
    _run("ip", "addr", "add", f"{c.host_ip}/30", "dev", c.veth)
    _run("ip", "link", "set", c.veth, "up")
    _run("ip", "-n", c.netns, "addr", "add", f"{c.ip}/30", "dev", "host0")
    _run("ip", "-n", c.netns, "link", "set", "host0", "up")
    _run("ip", "-n", c.netns, "link", "set", "lo", "up")


def _setup_mesh(fleet: list[Container], bridge_ns: str, slot: int) -> None:
    """A bridge in a namespace of its own, one veth from it into each container: the hosts
    reach each other (replication), still never anything outside the test."""
    _run("ip", "netns", "add", bridge_ns)
    _run("ip", "-n", bridge_ns, "link", "add", "br0", "type", "bridge")
    _run("ip", "-n", bridge_ns, "link", "set", "br0", "up")
    for i, c in enumerate(fleet):
        port = f"m{i}"
        c.mesh_ip = f"10.214.{slot}.{i + 1}"
        _run("ip", "link", "add", port, "netns", bridge_ns, "type", "veth", "peer", "name",
             "mesh0", "netns", c.netns)
        _run("ip", "-n", bridge_ns, "link", "set", port, "master", "br0", "up")
        _run("ip", "-n", c.netns, "addr", "add", f"{c.mesh_ip}/24", "dev", "mesh0")
        _run("ip", "-n", c.netns, "link", "set", "mesh0", "up")


def _start(c: Container, root: Path, authorized: Path, extra_binds: list[str]) -> None:
    for base in CGROUP_ROOTS:
        os.makedirs(f"{base}/{c.cgroup}", exist_ok=True)
    binds = [f"--bind-ro={authorized}:/root/.ssh", f"--bind-ro={authorized}:/home/deploy/.ssh",
             *extra_binds]
    nspawn = ["systemd-nspawn", "--quiet", f"--directory={root}", "--volatile=overlay",
              "--boot", "--keep-unit", "--register=no",
              f"--network-namespace-path=/run/netns/{c.netns}", f"--hostname={c.name}",
              f"--machine={c.name}", *binds]
    inner = ("mkdir -p /run/systemd/nspawn && mount -t tmpfs tmpfs /run/systemd/nspawn && "
             "exec " + shlex.join(nspawn))
    procs = " ".join(f"{b}/{c.cgroup}/cgroup.procs" for b in CGROUP_ROOTS)
    script = (f"for f in {procs}; do echo $$ > $f; done; "
              f"exec unshare --mount --propagation private sh -c {shlex.quote(inner)}")
    log = open(c.workdir / "console.log", "wb")  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(["sh", "-c", script], stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    c.pid = proc.pid


def _wait_ssh(c: Container, key: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((c.ip, 22), timeout=0.5):
                pass
            r = c.ssh("systemctl is-system-running --wait", key, check=False, timeout=30)
            if r.stdout.strip() in ("running", "degraded"):
                return
        except OSError:
            pass
        time.sleep(0.2)
    console = (c.workdir / "console.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"container {c.name} did not come up; console:\n{console}")


def _stop(c: Container) -> None:
    if c.pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(c.pid, signal.SIGTERM)  # nspawn powers the container off cleanly
        for _ in range(100):
            try:
                if os.waitpid(c.pid, os.WNOHANG)[0]:
                    break
            except ChildProcessError:
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(c.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(c.pid, 0)
    # Whatever is left in the container's own cgroup was started by it.
    kill = Path(f"{CGROUP_ROOTS[0]}/{c.cgroup}/cgroup.kill")
    if kill.exists():
        with contextlib.suppress(OSError):
            kill.write_text("1")
    for base in CGROUP_ROOTS:
        top = Path(f"{base}/{c.cgroup}")
        if top.exists():
            for d in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(
                    p.parts)):
                with contextlib.suppress(OSError):
                    d.rmdir()
            for _ in range(50):
                try:
                    top.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)
    _quiet("ip", "netns", "del", c.netns)
    _quiet("ip", "link", "del", c.veth)


def make_key(workdir: Path) -> Path:
    """A fresh SSH key pair; the public half goes into every container."""
    key = workdir / "id_ed25519"
    if not key.exists():
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    authorized = workdir / "authorized"
    authorized.mkdir(exist_ok=True)
    (authorized / "authorized_keys").write_bytes((workdir / "id_ed25519.pub").read_bytes())
    return key


def _free_slot(count: int) -> int:
    """A network slot no namespace uses: a run killed before its cleanup leaves its own behind
    (never ours to remove), and `ip netns add` of the same name would fail."""
    start = os.getpid() % 60
    for step in range(60):
        slot = (start + step) % 60
        if not any(os.path.exists(f"/run/netns/openclaw-oc{slot}n{i}") for i in range(count)
                   ) and not os.path.exists(f"/run/netns/openclaw-oc{slot}br"):
            return slot
    raise RuntimeError("every test network slot is taken: remove stale openclaw-oc* namespaces")


@contextlib.contextmanager
def containers(count: int, workdir: Path, key: Path, extra_binds: list[str] | None = None,
               boot_timeout: float = 90, mesh: bool = False) -> Iterator[list[Container]]:
    """Boot `count` containers; always stop them and remove their namespaces and cgroups.
    mesh: the containers also share a bridge (Container.mesh_ip)."""
    root = rootfs()
    slot = _free_slot(count)
    fleet = []
    for i in range(count):
        tag = f"oc{slot}n{i}"
        wd = workdir / tag
        wd.mkdir(parents=True, exist_ok=True)
        base = 4 * i
        fleet.append(Container(f"node{i + 1}", i, wd, f"openclaw-{tag}", f"ocv{slot}n{i}",
                               f"10.213.{slot}.{base + 1}", f"10.213.{slot}.{base + 2}",
                               boot=f"-{os.urandom(4).hex()}"))
    bridge_ns = f"openclaw-oc{slot}br"
    try:
        for c in fleet:
            _setup_network(c)
        if mesh:
            _setup_mesh(fleet, bridge_ns, slot)
        for c in fleet:
            _start(c, root, key.parent / "authorized", extra_binds or [])
        deadline = time.monotonic() + boot_timeout
        for c in fleet:
            _wait_ssh(c, key, deadline)
        yield fleet
    finally:
        for c in fleet:
            _stop(c)
        if mesh:
            _quiet("ip", "netns", "del", bridge_ns)
