"""deployment.dns compiled into octoDNS records: weights per region, geo pools, regions out of
service, IPv6; each dynamic record checked by octoDNS's own validation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from octodns.record import Record
from octodns.zone import Zone

from openclaw.compile import dns
from openclaw.inventory import Host, Inventory
from openclaw.model import Config, Dns, Region
from tests.compile.cases import project


def host(name: str, region: str, ssh_host: str, public: str = "") -> Host:
    return Host(name, region, ssh_host, 22, None, None, None, "accept-new", False, "/",
                public)


INVENTORY = Inventory("inv.yaml", (
    host("u1", "us", "10.0.0.1", "198.51.100.1"), host("u2", "us", "198.51.100.2"),
    host("u3", "us", "u3.internal", "198.51.100.3"),
    host("e1", "eu", "203.0.113.1"), host("e2", "eu", "2001:db8::2"),
    host("n1", "eu", "e3.internal")))


def config(regions: tuple[Region, ...], latency: str = "geoDNS") -> Config:
    cfg = project("reference").config
    return replace(cfg, deployment=replace(
        cfg.deployment, regions=regions, latency_routing=latency,
        dns=Dns("example.com.", "agents", 60, (("class", "octodns_bind.Rfc2136Provider"),))))


def valid(records: list[dict[str, Any]]) -> None:
    zone = Zone("example.com.", [])
    for data in records:
        Record.new(zone, "agents", data)  # raises ValidationError when octoDNS refuses it


def test_weights_geo_pools_and_plain_values() -> None:
    cfg = config((Region("us", 0.6, (), ("NA",)), Region("eu", 0.3, (), ("EU",)),
                  Region("ap", 0.1, ())))
    a, aaaa = dns.records(cfg, INVENTORY)
    valid([a, aaaa])
    assert a["values"] == ["198.51.100.1", "198.51.100.2", "198.51.100.3", "203.0.113.1"]
    # us: 0.6 over three hosts (0.2 each), eu: 0.3 over two (0.15 each): 100 and 75.
    assert a["dynamic"]["pools"]["weighted"]["values"] == [
        {"value": "198.51.100.1", "weight": 100}, {"value": "198.51.100.2", "weight": 100},
        {"value": "198.51.100.3", "weight": 100}, {"value": "203.0.113.1", "weight": 75}]
    assert a["dynamic"]["rules"] == [{"geos": ["NA"], "pool": "us"},
                                     {"geos": ["EU"], "pool": "eu"}, {"pool": "weighted"}]
    assert a["dynamic"]["pools"]["eu"] == {"values": [{"value": "203.0.113.1"}],
                                           "fallback": "weighted"}
    assert aaaa["type"] == "AAAA" and aaaa["values"] == ["2001:db8::2"]
    assert dns.unpublished(INVENTORY) == ["n1"]
    assert dns.records(cfg, INVENTORY) == [a, aaaa]  # deterministic


def test_a_region_out_of_service_leaves_every_answer() -> None:
    cfg = config((Region("us", 0.5, (), ("NA",)), Region("eu", 0.5, (), ("EU",))))
    (a, aaaa) = dns.records(cfg, INVENTORY, out={"us": "to=eu at=2026-12-02T16:00:00Z"})
    valid([a, aaaa])
    assert a["values"] == ["203.0.113.1"] and "us" not in a["dynamic"]["pools"]
    assert a["dynamic"]["rules"] == [{"geos": ["EU"], "pool": "eu"}, {"pool": "weighted"}]


def test_equal_weights_without_geos_is_a_plain_record() -> None:
    cfg = config((Region("us", 1.0, ()), Region("eu", 0.0, ())), latency="none")
    (a,) = dns.records(cfg, INVENTORY)
    assert a == {"type": "A", "ttl": 60,
                 "values": ["198.51.100.1", "198.51.100.2", "198.51.100.3"]}


def test_octodns_config_touches_only_the_fleets_name() -> None:
    cfg = config((Region("us", 1.0, ()),))
    assert cfg.deployment.dns is not None
    doc = dns.octodns_config(cfg.deployment.dns, "/tmp/zones")
    assert doc["processors"][dns.FILTER]["allowlist"] == ["agents", "_openclaw-failover.agents"]
    assert doc["zones"]["example.com."] == {"sources": ["openclaw"], "targets": ["dns"],
                                            "processors": [dns.FILTER]}


def test_a_standby_region_takes_the_weight_of_the_region_it_replaces() -> None:
    """eu of weight 0 is the standby: after a failover of us to it, it takes us's weight."""
    cfg = config((Region("us", 1.0, ()), Region("eu", 0.0, ())), latency="none")
    assert [r.name for r in dns.in_service(cfg)] == ["us"]
    out = {"us": "to=eu at=2026-12-02T16:00:00Z"}
    assert [(r.name, r.weight) for r in dns.in_service(cfg, out)] == [("eu", 1.0)]
    (a, aaaa) = dns.records(cfg, INVENTORY, out)
    assert a["values"] == ["203.0.113.1"] and aaaa["values"] == ["2001:db8::2"]
    # A chain ending out of service serves nobody; a loop is not followed.
    assert dns.takeover({"us": "to=eu", "eu": "to=us"}, "us") == ""
    assert dns.takeover({"us": "to=eu"}, "us") == "eu"
