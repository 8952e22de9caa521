"""Light hosts for file-only and many-host tests and benchmarks: one sshd per host on its own
127.0.1.N address, in a private mount namespace with overlays on /etc, /opt, /var and /root and
a private /tmp, so each host has its own files and accounts. Each sshd logs to its own file,
which counts the SSH sessions (commands and SFTP) the host served."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

OVERLAID = ("etc", "opt", "var", "root")


@dataclass
class LightHost:
    name: str
    ip: str
    workdir: Path
    pid: int = 0

    @property
    def log(self) -> Path:
        return self.workdir / "sshd.log"

    def sessions(self) -> int:
        """SSH sessions (one per command or SFTP transfer) this host has served so far."""
        if not self.log.exists():
            return 0
        return sum(1 for line in self.log.read_text(errors="replace").splitlines()
                   if "Starting session:" in line)


def _script(host: LightHost, key_pub: Path) -> str:
    w = host.workdir
    # Inside the host's own mount namespace its work directory is /mnt, so that nothing it
    # needs hides behind the private /tmp.
    m = "/mnt"
    mounts = [f"mount --bind {w} {m}"]
    for d in OVERLAID:
        (w / "upper" / d).mkdir(parents=True, exist_ok=True)
        (w / "work" / d).mkdir(parents=True, exist_ok=True)
        mounts.append(f"mount -t overlay overlay -o lowerdir=/{d},upperdir={m}/upper/{d},"
                      f"workdir={m}/work/{d} /{d}")
    # A quiet login shell: the machine's own rc files are not the fleet's.
    (w / "upper/root/.bashrc").write_text("")
    (w / "upper/root/.profile").write_text("")
    config = w / "sshd_config"
    config.write_text(f"""ListenAddress {host.ip}
Port 22
HostKey {m}/host_key
AuthorizedKeysFile {m}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PidFile {m}/sshd.pid
LogLevel VERBOSE
MaxSessions 100
MaxStartups 200
Subsystem sftp /usr/lib/openssh/sftp-server
""")
    (w / "authorized_keys").write_bytes(key_pub.read_bytes())
    if not (w / "host_key").exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(w / "host_key")], check=True)
    return " && ".join([
        *mounts, f"mkdir -p {m}/tmp", f"mount --bind {m}/tmp /tmp", "mkdir -p /run/sshd",
        "mount -t tmpfs -o mode=0755 tmpfs /run/sshd", "mount -t tmpfs tmpfs /run/lock",
        "mkdir -p /run/openclaw", "mount -t tmpfs -o mode=0700 tmpfs /run/openclaw",
        f"exec /usr/sbin/sshd -D -f {m}/sshd_config -E {m}/sshd.log"])


def address(n: int) -> str:
    """127.0.1.n up to 254, then on into 127.1.0.0/16 (the 1,000-host benchmark)."""
    if n < 255:
        return f"127.0.1.{n}"
    n -= 255
    return f"127.1.{n // 250}.{n % 250 + 1}"


@contextlib.contextmanager
def light_hosts(count: int, workdir: Path, key: Path, *, first: int = 10
                ) -> Iterator[list[LightHost]]:
    """Start `count` light hosts (127.0.1.first...); always stop them by PID."""
    hosts = [LightHost(f"light{i + 1}", address(first + i), workdir / f"light{i + 1}")
             for i in range(count)]
    procs: list[subprocess.Popen[bytes]] = []
    namespaces: set[str] = set()
    try:
        for h in hosts:
            h.workdir.mkdir(parents=True, exist_ok=True)
            script = _script(h, key.with_suffix(".pub"))
            proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh",
                                     "-c", script], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            h.pid = proc.pid
            procs.append(proc)
        deadline = time.monotonic() + 30 + count / 20
        for h in hosts:
            while True:
                try:
                    with socket.create_connection((h.ip, 22), timeout=0.5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{h.name} ({h.ip}) did not start") from None
                    time.sleep(0.05)
        namespaces |= {_mount_ns(h.pid) for h in hosts} - {"", _mount_ns(os.getpid())}
        yield hosts
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        # sshd runs each connection in a session of its own: those outlive the listener's
        # group (and keep a client's multiplexed connection to a host that is gone). Every
        # process left in a host's mount namespace is one of ours.
        for pid in _in_namespaces(namespaces):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _mount_ns(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return ""


def _in_namespaces(namespaces: set[str]) -> list[int]:
    if not namespaces:
        return []
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and _mount_ns(int(p))
            in namespaces]


def inventory(hosts: list[LightHost], key: Path, path: Path, regions: tuple[str, ...] = (
        "us-east", "eu-west", "asia-pacific")) -> Path:
    """An openclaw inventory of light hosts, spread over `regions`."""
    lines = [f"defaults:\n  ssh_user: root\n  ssh_key: {key}\n"
             f"  ssh_known_hosts: {path.parent}/known_hosts\nregions:"]
    for r_i, region in enumerate(regions):
        members = hosts[r_i::len(regions)]
        if members:
            lines.append(f"  {region}:\n    hosts:")
            lines += [f"      {h.name}: {{ssh_host: {h.ip}}}" for h in members]
    path.write_text("\n".join(lines) + "\n")
    return path
