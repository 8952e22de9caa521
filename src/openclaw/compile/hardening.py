"""systemd sandboxing per security.permission_model level. The gateway and its helpers get
the strictest set the level allows; Node's JIT needs MemoryDenyWriteExecute off."""

from __future__ import annotations

import functools

BASE: tuple[tuple[str, str], ...] = (
    ("NoNewPrivileges", "yes"),
    ("PrivateTmp", "yes"),
    ("PrivateDevices", "yes"),
    ("ProtectSystem", "strict"),
    ("ProtectHome", "yes"),
    ("ProtectKernelTunables", "yes"),
    ("ProtectKernelModules", "yes"),
    ("ProtectKernelLogs", "yes"),
    ("ProtectControlGroups", "yes"),
    ("ProtectClock", "yes"),
    ("ProtectHostname", "yes"),
    ("ProtectProc", "invisible"),
    ("ProcSubset", "pid"),
    ("CapabilityBoundingSet", ""),
    ("AmbientCapabilities", ""),
    ("RestrictNamespaces", "yes"),
    ("RestrictRealtime", "yes"),
    ("RestrictSUIDSGID", "yes"),
    ("LockPersonality", "yes"),
    ("RemoveIPC", "yes"),
    ("KeyringMode", "private"),
    ("PrivateUsers", "yes"),
    ("UMask", "0027"),
    ("SystemCallArchitectures", "native"),
    ("SystemCallFilter", "@system-service"),
    ("SystemCallFilter", "~@privileged"),
    ("SystemCallErrorNumber", "EPERM"),
    ("DevicePolicy", "closed"),
)


# Each of these adds a seccomp filter; with all of them, OpenClaw 2026.9.6's first start
# loses the 250 ms race for its state-migration lock and exits 78 for good (measured on
# nspawn hosts: 0 of 7 first starts came up with them, 5 of 5 without these two; exposure
# stays 1.4). SystemCallFilter still refuses @privileged.
NOT_FOR_OPENCLAW = ("RestrictSUIDSGID", "LockPersonality")


@functools.cache  # the same few services for every host of a fleet
def hardening(level: str, writable: tuple[str, ...], *, network: bool = True,
              loopback: bool = False, systemctl: bool = False, openclaw: bool = False,
              read_any: bool = False) -> tuple[tuple[str, str], ...]:
    """Directives for a service at a permission level.

    level none: loopback only; read_only: the workspace is read-only; limited: state, logs and
    workspace writable; unrestricted: the same sandbox, home directories readable.
    `systemctl` keeps what a helper needs to ask systemd about units (health checks).
    `loopback`: IP sockets, but only to and from 127.0.0.0/8 and ::1 (a local server).
    `openclaw`: the OpenClaw gateway itself (see NOT_FOR_OPENCLAW).
    `read_any`: root that reads a file in the service account's 0750 tree (CAP_DAC_READ_SEARCH
    only: it reads and searches, it never writes there).
    """
    lines = [(k, v) for k, v in BASE if not (openclaw and k in NOT_FOR_OPENCLAW)]
    if openclaw:  # what the two cost in exposure, won back without seccomp
        lines.append(("PrivateMounts", "yes"))
    if level == "unrestricted":
        lines = [(k, "read-only") if k == "ProtectHome" else (k, v) for k, v in lines]
    if systemctl:  # talking to PID 1 over D-Bus needs the real user namespace
        lines = [(k, v) for k, v in lines if k not in ("PrivateUsers", "ProtectProc",
                                                        "ProcSubset")]
    if read_any:
        lines = [(k, "CAP_DAC_READ_SEARCH") if k == "CapabilityBoundingSet" else (k, v)
                 for k, v in lines]
    families = "AF_UNIX AF_INET AF_INET6" if network else "AF_UNIX"
    lines.append(("RestrictAddressFamilies", families))
    if level == "none" or not network or loopback:
        lines += [("IPAddressDeny", "any"), ("IPAddressAllow", "localhost")]
    lines.append(("ReadWritePaths", " ".join(writable)))
    return tuple(lines)
