"""A minimal Debian root for the nspawn test hosts, built once with mmdebstrap and cached
outside the checkout (CI re-runs on the same machine reuse it)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

CACHE = Path(os.environ.get("OPENCLAW_TEST_CACHE", "/var/cache/openclaw-test"))
PACKAGES = ("systemd", "systemd-sysv", "dbus", "openssh-server", "python3", "iproute2",
            "procps", "curl", "sudo", "ca-certificates",
            # replication (deployment.failover.replicate): rsync and its rrsync
            "rsync",
            # what bootstrap installs for the LLM gateway (the hosts have no package mirror)
            "python3-venv", "redis-server", "logrotate",
            # the autoscaler's queue (PostgreSQL, started by the tests that use it)
            "postgresql", "postgresql-client")
SUITE = "bookworm"
# The machine's own apt sources: no mirror is named here.
SOURCES = "/etc/apt/sources.list.d/debian.sources"
HOOKS = (
    'rm -f "$1/etc/hostname"',  # so that --hostname applies
    # as on any installed Debian host (mmdebstrap writes none): LiteLLM resolves "localhost"
    'printf "127.0.0.1\\tlocalhost\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n" '
    '> "$1/etc/hosts"',
    'chroot "$1" systemctl disable --quiet postgresql',
    'chroot "$1" useradd --create-home --shell /bin/bash deploy',
    'echo "deploy ALL=(ALL) NOPASSWD:ALL" > "$1/etc/sudoers.d/deploy"',
    'chmod 0440 "$1/etc/sudoers.d/deploy"',
    'printf "UseDNS no\\nPermitRootLogin prohibit-password\\n" '
    '> "$1/etc/ssh/sshd_config.d/openclaw-test.conf"',
)


def _key() -> str:
    text = "\n".join([SUITE, *PACKAGES, *HOOKS])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def rootfs() -> Path:
    """The cached root, built under a lock by the first caller."""
    target = CACHE / f"rootfs-{SUITE}-{_key()}"
    if (target / ".complete").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".complete").exists():
            return target
        building = target.with_name(target.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        sources = SOURCES if os.path.exists(SOURCES) else "/etc/apt/sources.list"
        cmd = ["mmdebstrap", "--quiet", "--variant=minbase",
               "--include=" + ",".join(PACKAGES)]
        cmd += [f"--customize-hook={h}" for h in HOOKS]
        cmd += [SUITE, str(building), sources]
        subprocess.run(cmd, check=True)
        (building / ".complete").write_text(_key() + "\n")
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
        # Roots of earlier package lists are never used again (about 300 MB each).
        for old in CACHE.glob(f"rootfs-{SUITE}-*"):
            if old != target and not old.name.endswith(".building"):
                shutil.rmtree(old, ignore_errors=True)
    return target
