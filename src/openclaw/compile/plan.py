"""What a host should look like: files, directories and units. Shared by compile, diff, plan
and apply."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from openclaw.model import SecretSource

if TYPE_CHECKING:
    from openclaw.compile.replication import Replication


@dataclass(frozen=True)
class File:
    path: str  # absolute path on the host, without the inventory root
    content: bytes
    mode: int
    owner: str
    group: str
    sensitive: bool = False
    # For a sensitive .env: each key and where apply reads its value. The content then holds
    # placeholders naming the source, never a value.
    secrets: tuple[tuple[str, SecretSource], ...] = ()
    # A JSON file another program writes too: the content holds only the keys openclaw
    # manages, merged into the host's copy at plan time; every other key is kept.
    merge: bool = False
    # For OpenClaw's model order: each provider's model reference, and the file where the
    # budget check records the providers it left in force (an apply must not undo that).
    merge_refs: tuple[tuple[str, str], ...] = ()
    merge_active: str = ""
    # Keys openclaw owns that this config leaves unset (the LLM gateway's provider once the
    # gateway is off): removed from the host's copy.
    merge_drop: tuple[tuple[str, ...], ...] = ()
    # Shell run on the host after the file is written (it may call `step`), e.g. loading
    # audit rules.
    on_change: str = ""

    @property
    def sha256(self) -> str:
        return _digest(self.content)


@functools.lru_cache(maxsize=8192)
def _digest(content: bytes) -> str:
    """The hosts of a fleet share most contents (the same bytes object): hashed once."""
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class Directory:
    path: str
    mode: int
    owner: str
    group: str
    # Everything under it is openclaw's own (installed software, runtime data): when the
    # config drops it, the whole tree goes. Other directories go only when empty.
    disposable: bool = False


@dataclass(frozen=True)
class Unit:
    name: str
    enable: bool = True
    start: bool = True
    # Files whose change restarts this unit (a oneshot run by a timer restarts nothing).
    restart_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuntimeSpec:
    """The pinned OpenClaw on this host (none on sandbox hosts)."""

    version: str
    node: str
    install: str  # bundle | npm | none
    directory: str  # the version directory (install: bundle, npm)
    cli: tuple[str, ...]  # the CLI by absolute path
    registry: str = ""


@dataclass(frozen=True)
class Account:
    """A system account apply creates when it is missing."""

    user: str
    group: str
    home: str  # a path under the plan's root
    shell: str = "/usr/sbin/nologin"  # the replica account's forced command needs a shell


# The degradation mode in force, as root's mode.sh records it ("MODE SINCE").
MODE_RECORD = "/var/lib/openclaw/mode"
MODES = ("FULL", "DEGRADED", "MINIMAL", "MAINTENANCE")


@dataclass(frozen=True)
class HostPlan:
    host: str
    region: str
    root: str  # "/" or a sandbox prefix on the host
    directories: tuple[Directory, ...]
    files: tuple[File, ...]
    units: tuple[Unit, ...] = field(default=())
    runtime: RuntimeSpec | None = None
    # The service account first (the agent's), then the LLM gateway's when it has one.
    accounts: tuple[Account, ...] = ()
    # Paths earlier versions of openclaw wrote and this one does not: removed when present.
    retired: tuple[str, ...] = ()
    # Degradation: the units each mode keeps stopped (mode.sh); apply does not start them
    # while the host is in that mode.
    mode_off: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # deployment.failover.replicate: the host's peer and sources; its pairing files are
    # filled from the keys the hosts report (runner.pair).
    replication: Replication | None = None

    @property
    def service_account(self) -> Account:
        return self.accounts[0]

    def file(self, path: str) -> File:
        return next(f for f in self.files if f.path == path)

    def target(self, path: str) -> str:
        """Where a managed path lives on the host, under the inventory root."""
        return under(self.root, path)


def under(root: str, path: str) -> str:
    """A host path under an inventory root ("/" or a sandbox prefix)."""
    return path if root == "/" else root.rstrip("/") + path
