"""The inventory model: hosts with their region and connection data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

LOCAL = "@local"


@dataclass(frozen=True)
class Host:
    name: str
    region: str
    ssh_host: str
    ssh_port: int
    ssh_user: str | None
    ssh_key: str | None
    ssh_known_hosts: str | None
    ssh_host_key_checking: str
    sudo: bool
    root: str  # "/" for a real host; a directory for a sandbox host
    public_address: str = ""  # published in DNS (deployment.dns)
    replication_address: str = ""  # where peers replicate into this host (default ssh_host)

    @property
    def local(self) -> bool:
        return self.ssh_host == LOCAL

    @property
    def sandbox(self) -> bool:
        return self.root != "/"


@dataclass(frozen=True)
class Inventory:
    file: str
    hosts: tuple[Host, ...]
    # Every host of the inventory file, whatever the selection: replication pairs hosts
    # across regions the same way whichever of them a run selects.
    every: tuple[Host, ...] = ()

    @property
    def fleet(self) -> tuple[Host, ...]:
        return self.every or self.hosts

    def select(self, region: str | None = None, limit: tuple[str, ...] = ()) -> Inventory:
        hosts = tuple(h for h in self.hosts
                      if (region is None or h.region == region)
                      and (not limit or h.name in limit))
        return Inventory(self.file, hosts, self.fleet)

    def shard(self, index: int, count: int) -> Inventory:
        """Shard `index` (1-based) of `count`: contiguous slices of the hosts in rollout
        order (regions in deployment order, then names), so each shard holds whole regions
        where the sizes allow and every host is in exactly one shard, the same on every
        runner."""
        n = len(self.hosts)
        lo, hi = (index - 1) * n // count, index * n // count
        return Inventory(self.file, self.hosts[lo:hi], self.fleet)

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.region for h in self.hosts))


def build(data: dict[str, Any], file: str, region_order: list[str]) -> Inventory:
    base = os.path.dirname(os.path.abspath(file))
    hosts: list[Host] = []
    for region, body in data["regions"].items():
        for name, own in body["hosts"].items():
            h = {**(data.get("defaults") or {}), **(body.get("defaults") or {}), **(own or {})}
            root = h.get("root", "/")
            if not os.path.isabs(root):
                root = os.path.normpath(os.path.join(base, root))
            hosts.append(Host(
                name=name, region=region, ssh_host=h.get("ssh_host", name),
                ssh_port=int(h.get("ssh_port", 22)), ssh_user=h.get("ssh_user"),
                ssh_key=h.get("ssh_key"), ssh_known_hosts=h.get("ssh_known_hosts"),
                ssh_host_key_checking=h.get("ssh_host_key_checking", "accept-new"),
                sudo=bool(h.get("sudo", False)), root=root,
                public_address=h.get("public_address", ""),
                replication_address=h.get("replication_address", "")))
    order = {r: i for i, r in enumerate(region_order)}
    hosts.sort(key=lambda h: (order.get(h.region, len(order)), h.region, h.name))
    return Inventory(file, tuple(hosts))
