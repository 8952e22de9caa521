"""Replication to the failover region (deployment.failover.replicate): which host ships its
OpenClaw state to which peer, and the two files that pair them, filled from the keys the
hosts report: the peer's authorized_keys (one line per source, a forced rrsync confined to
that source's replica, write only) and the sender's known_hosts (the peer's host key).
Pure: the keys come in as data."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from openclaw.inventory import Host
from openclaw.model import Config

REPLICA_USER = "openclaw-replica"
# Root's own, beside the generations: the sender's unit gets it as a systemd credential.
KEY_DIR = "/var/lib/openclaw/replication"
KEY = f"{KEY_DIR}/id_ed25519"
HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"
RRSYNC = "/usr/bin/rrsync"
MARK = "openclaw-replication@"
HEADER = ("# Managed by openclaw from the keys the hosts report (deployment.failover.replicate);"
          "\n# local changes are overwritten on the next apply.\n")
# What a reported key may look like: anything else is dropped, never written into a file
# sshd reads (a host could otherwise add options to its own line).
_KEY = re.compile(r"^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) ([A-Za-z0-9+/]+={0,2})$")


@dataclass(frozen=True)
class Peer:
    host: str
    region: str
    address: str
    port: int


@dataclass(frozen=True)
class Replication:
    """One host's part: the peer it ships to (if any), the hosts that ship to it."""

    peer: Peer | None
    sources: tuple[str, ...]
    root: str  # the service root: replicas live under it

    @property
    def replicas(self) -> str:
        return f"{self.root}/replicas"

    @property
    def authorized_keys(self) -> str:
        return f"{self.replicas}/.ssh/authorized_keys"

    @property
    def known_hosts(self) -> str:
        return f"{self.root}/config/replication-known-hosts"

    def replica(self, source: str) -> str:
        return f"{self.replicas}/{source}"


@dataclass(frozen=True)
class Pairing:
    peers: Mapping[str, Peer] = field(default_factory=dict)  # source host -> its peer

    @cached_property
    def _sources(self) -> dict[str, tuple[str, ...]]:
        """peer -> the hosts that ship to it (one pass: a fleet of 1,000 asks 1,000 times)."""
        out: dict[str, list[str]] = {}
        for source, peer in self.peers.items():
            out.setdefault(peer.host, []).append(source)
        return {h: tuple(sorted(s)) for h, s in out.items()}

    def of(self, cfg: Config, host: str) -> Replication | None:
        if not cfg.deployment.replicate:
            return None
        return Replication(self.peers.get(host), self._sources.get(host, ()),
                           cfg.service.root)


def pairing(cfg: Config, hosts: Iterable[Host]) -> Pairing:
    """Each host of a region ships to one host of its first failover region that has hosts:
    the i-th host (in inventory order) to the (i mod n)-th. Sandboxes and @local hosts
    neither ship nor receive (no sshd of their own)."""
    if not cfg.deployment.replicate:
        return Pairing()
    by_region: dict[str, list[Host]] = {}
    for h in hosts:
        if not (h.sandbox or h.local):
            by_region.setdefault(h.region, []).append(h)
    peers: dict[str, Peer] = {}
    for region, members in by_region.items():
        target = next((by_region[r.name] for r in cfg.deployment.peers(region)
                       if r.name in by_region), None)
        if not target:
            continue
        for i, h in enumerate(members):
            p = target[i % len(target)]
            peers[h.name] = Peer(p.name, p.region, p.replication_address or p.ssh_host,
                                 p.ssh_port)
    return Pairing(peers)


def outside(cfg: Config, selected: Iterable[Host], fleet: Iterable[Host]) -> tuple[Host, ...]:
    """The peers and sources of the selected hosts that the run does not select: their
    keys are read (never created) so that a run of one region or shard pairs its hosts
    with the rest of the fleet."""
    names = {h.name for h in selected}
    peers = pairing(cfg, fleet).peers
    wanted = {p.host for s, p in peers.items() if s in names} | {
        s for s, p in peers.items() if p.host in names}
    return tuple(h for h in fleet if h.name in wanted - names)


def clean_key(text: str) -> str:
    """'TYPE BASE64' from a reported public key line, or '' when it is not one."""
    fields = text.split()
    candidate = " ".join(fields[:2])
    return candidate if len(fields) >= 2 and _KEY.match(candidate) else ""


def _kept(current: str, tag: str) -> str:
    """The line of `current` that ends with `tag` (a peer not in this run keeps its line)."""
    return next((line for line in current.splitlines()
                 if not line.startswith("#") and line.endswith(" " + tag)), "")


def authorized_keys(rep: Replication, keys: Mapping[str, str], current: str = "") -> str:
    """One line per source: its key, allowed only to write its own replica."""
    lines = []
    for source in rep.sources:
        tag = MARK + source
        key = clean_key(keys.get(source, ""))
        if key:
            lines.append(f'restrict,command="{RRSYNC} -wo -munge '
                         f'{rep.replica(source)}" {key} {tag}')
        elif kept := _kept(current, tag):
            lines.append(kept)
    return HEADER + "".join(line + "\n" for line in lines)


def known_hosts(rep: Replication, host_keys: Mapping[str, str], current: str = "") -> str:
    """The peer's host key, for the sender's strict host key check."""
    if rep.peer is None:
        return HEADER
    p = rep.peer
    tag = MARK + p.host
    name = p.address if p.port == 22 else f"[{p.address}]:{p.port}"
    key = clean_key(host_keys.get(p.host, ""))
    line = f"{name} {key} {tag}" if key else _kept(current, tag)
    return HEADER + (line + "\n" if line else "")


def document(cfg: Config, rep: Replication | None) -> dict[str, object] | None:
    """failover.json's replication block: what replicate.sh and `openclaw failover` read."""
    if rep is None:
        return None
    peer = rep.peer
    return {
        "peer": None if peer is None else {
            "host": peer.host, "region": peer.region, "address": peer.address,
            "port": peer.port, "user": REPLICA_USER},
        "sources": list(rep.sources),
        "replicas": rep.replicas,
        "interval_seconds": interval(cfg),
        "rpo_seconds": int(cfg.deployment.rpo),
    }


def interval(cfg: Config) -> int:
    """Twice per rpo: a replica is at most one interval plus one copy old."""
    return max(30, int(cfg.deployment.rpo // 2))
