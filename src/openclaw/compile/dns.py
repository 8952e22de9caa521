"""The fleet's name in DNS, as octoDNS configuration: deployment.regions (weights, geos) and
latency_routing become one record set at deployment.dns.name: a dynamic record (a pool per
region with geos, geo rules, a catch-all weighted by region) for providers that support it,
and the plain values of every host in service for those that do not. Pure: the same config
and inventory give the same documents; sync/dns.py hands them to octoDNS."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from openclaw.inventory import Inventory
from openclaw.model import Config, Dns, Region

SOURCE = "openclaw"  # the octoDNS source that holds the compiled zone
TARGET = "dns"  # the operator's provider
FILTER = "openclaw-name-only"
CATCH_ALL = "weighted"
MAX_WEIGHT = 100  # octoDNS's bound on a value's weight in a pool
STATE_LABEL = "_openclaw-failover"


def address(ssh_host: str, public: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host is published at: public_address, else ssh_host if it is one."""
    for text in (public, ssh_host.strip("[]")):
        try:
            return ipaddress.ip_address(text)
        except ValueError:
            continue
    return None


def in_service(cfg: Config, out: Mapping[str, str] | None = None) -> tuple[Region, ...]:
    """Regions that take traffic, with the weight they take: a region out of service
    (failover: region -> "to=PEER ...") hands its weight to its peer, so a standby region of
    weight 0 takes the traffic of the region it replaces."""
    gone = dict(out or {})
    weights = {r.name: r.weight for r in cfg.deployment.regions}
    for region in sorted(gone):
        peer = takeover(gone, region)
        if peer in weights and peer not in gone:
            weights[peer] += weights[region]
    return tuple(replace(r, weight=weights[r.name]) for r in cfg.deployment.regions
                 if weights[r.name] > 0 and r.name not in gone)


def takeover(out: Mapping[str, str], region: str) -> str:
    """The region that serves `region`'s traffic: its failover peer, followed along peers
    that are out themselves ("" when the chain ends out of service)."""
    seen = {region}
    peer = region
    while peer in out:
        words = dict(w.split("=", 1) for w in out[peer].split() if "=" in w)
        peer = words.get("to", "")
        if not peer or peer in seen:
            return ""
        seen.add(peer)
    return peer


def hosts_by_region(inventory: Inventory) -> dict[str, list[str]]:
    """Each region's published addresses, sorted; hosts without an address are left out."""
    out: dict[str, list[str]] = {}
    for h in inventory.hosts:
        ip = address(h.ssh_host, h.public_address)
        if ip is not None:
            out.setdefault(h.region, []).append(str(ip))
    return {r: sorted(set(v), key=_ip_key) for r, v in out.items()}


def unpublished(inventory: Inventory) -> list[str]:
    """Hosts DNS cannot name: no public_address, and an ssh_host that is a name."""
    return sorted(h.name for h in inventory.hosts
                  if address(h.ssh_host, h.public_address) is None)


def _ip_key(text: str) -> tuple[int, int]:
    ip = ipaddress.ip_address(text)
    return ip.version, int(ip)


def _weights(regions: tuple[Region, ...], hosts: dict[str, list[str]], kind: str
             ) -> dict[str, int]:
    """Each address's weight in the catch-all pool: its region's share of the traffic split
    over the region's hosts, scaled so the largest is MAX_WEIGHT (octoDNS: 1 to 100)."""
    share = {ip: r.weight / len(hosts[r.name]) for r in regions for ip in hosts.get(r.name, ())
             if _kind(ip) == kind}
    top = max(share.values(), default=0.0)
    return {ip: max(1, round(MAX_WEIGHT * s / top)) for ip, s in share.items()} if top else {}


def _kind(ip: str) -> str:
    return "A" if ipaddress.ip_address(ip).version == 4 else "AAAA"


def records(cfg: Config, inventory: Inventory, out: Mapping[str, str] | None = None
            ) -> list[dict[str, Any]]:
    """The record set at deployment.dns.name: an A (and an AAAA) record of every host of the
    regions in service, dynamic when there is more than one pool to choose from."""
    dns = cfg.deployment.dns
    assert dns is not None
    regions = in_service(cfg, out)
    hosts = hosts_by_region(inventory)
    geo = cfg.deployment.latency_routing.strip().lower() not in ("", "none", "off")
    result: list[dict[str, Any]] = []
    for kind in ("A", "AAAA"):
        weights = _weights(regions, hosts, kind)
        if not weights:
            continue
        record: dict[str, Any] = {"type": kind, "ttl": dns.ttl,
                                  "values": sorted(weights, key=_ip_key)}
        dynamic = _dynamic(regions, hosts, kind, weights, geo)
        if dynamic:
            record["dynamic"] = dynamic
        result.append(record)
    return result


def _dynamic(regions: tuple[Region, ...], hosts: dict[str, list[str]], kind: str,
             weights: dict[str, int], geo: bool) -> dict[str, Any] | None:
    """A pool per region with geos, answered by geo rules, falling back to the catch-all
    pool of every host in service weighted by region; None when every answer would be the
    same (no geo rule, equal weights)."""
    ordered = sorted(weights.items(), key=lambda x: _ip_key(x[0]))
    # octoDNS: a pool of one value has weight 1.
    pools: dict[str, Any] = {CATCH_ALL: {"values": [
        {"value": ip, "weight": w if len(ordered) > 1 else 1} for ip, w in ordered]}}
    rules: list[dict[str, Any]] = []
    for r in regions:
        own = [ip for ip in hosts.get(r.name, ()) if _kind(ip) == kind]
        if geo and r.geos and own:
            pools[r.name] = {"values": [{"value": ip} for ip in own], "fallback": CATCH_ALL}
            rules.append({"geos": sorted(r.geos), "pool": r.name})
    if not rules and len(set(weights.values())) <= 1:
        return None
    return {"pools": pools, "rules": [*rules, {"pool": CATCH_ALL}]}


def state_name(dns: Dns) -> str:
    """The TXT record beside the fleet's name that holds the regions out of service."""
    return f"{STATE_LABEL}.{dns.name}"


def zone_document(cfg: Config, inventory: Inventory, out: dict[str, str]
                  ) -> dict[str, list[dict[str, Any]]]:
    """octoDNS's YAML zone: the fleet's records without the regions in `out` (region ->
    "to=PEER at=TIME"), and the TXT record that says which they are."""
    dns = cfg.deployment.dns
    assert dns is not None
    doc: dict[str, list[dict[str, Any]]] = {}
    fleet = records(cfg, inventory, out)
    if fleet:
        doc[dns.name] = fleet
    if out:
        doc[state_name(dns)] = [{"type": "TXT", "ttl": dns.ttl, "values": [
            f"{region} {detail}".strip().replace(";", "\\;")
            for region, detail in sorted(out.items())]}]
    return doc


def octodns_config(dns: Dns, zone_dir: str) -> dict[str, Any]:
    """octoDNS's own config: the compiled zone as the source, the operator's provider as the
    target, and a filter so that only deployment.dns.name is read or changed there (every
    other record of the zone stays as it is)."""
    provider = dict(dns.provider)
    return {
        "manager": {"plan_outputs": {}},
        "providers": {
            SOURCE: {"class": "octodns.provider.yaml.YamlProvider", "directory": zone_dir,
                     "default_ttl": dns.ttl, "enforce_order": False,
                     "supports_root_ns": False},
            TARGET: provider,
        },
        "processors": {FILTER: {"class": "octodns.processor.filter.NameAllowlistFilter",
                                "allowlist": [dns.name, state_name(dns)]}},
        "zones": {dns.zone: {"sources": [SOURCE], "targets": [TARGET],
                             "processors": [FILTER]}},
    }
