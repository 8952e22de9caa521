"""Replication pairing and the files that carry it, from data: who ships to whom, what a
reported key may be, and what a peer outside the run keeps."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest

from openclaw.compile import compile_fleet, replication
from openclaw.inventory import Inventory
from openclaw.project import Project, load
from openclaw.status import probe as status_probe
from openclaw.status import render as status_render
from openclaw.sync import probe, runner

REPO = Path(__file__).parent.parent.parent
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOQ3b7Kx1sBvWkHq5mJdyCqYbGzP3Yj0v1kF0nXoQ2Tc"
OTHER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB8m8hL4F0y9tqX7aZ3o1cQ2eWkJ5vN6rT0pY4uM9sDz"


@pytest.fixture(scope="module")
def project() -> Project:
    return load(str(REPO / "openclaw.yaml"), str(REPO / "inventory/production.yaml"))


def test_each_host_ships_to_one_host_of_its_first_failover_region(project: Project) -> None:
    peers = replication.pairing(project.config, project.inventory.fleet).peers
    assert {s: (p.host, p.region) for s, p in peers.items()} == {
        # us-east's three over eu-west's two, by position; the others to us-east
        "agent-use1-01.example.com": ("agent-euw1-01.example.com", "eu-west"),
        "agent-use1-02.example.com": ("agent-euw1-02.example.com", "eu-west"),
        "agent-use1-03.example.com": ("agent-euw1-01.example.com", "eu-west"),
        "agent-euw1-01.example.com": ("agent-use1-01.example.com", "us-east"),
        "agent-euw1-02.example.com": ("agent-use1-02.example.com", "us-east"),
        "agent-apne1-01.example.com": ("agent-use1-01.example.com", "us-east"),
    }
    # The peer's SSH port and address: replication_address, else ssh_host.
    assert peers["agent-use1-02.example.com"].port == 2222
    assert peers["agent-euw1-01.example.com"].address == "agent-use1-01.example.com"
    rep = replication.pairing(project.config, project.inventory.fleet).of(
        project.config, "agent-euw1-01.example.com")
    assert rep is not None and rep.sources == ("agent-use1-01.example.com",
                                               "agent-use1-03.example.com")


def test_off_without_replicate_and_for_sandboxes(project: Project) -> None:
    cfg = project.config
    off = replace(cfg, deployment=replace(cfg.deployment, replicate=False))
    assert replication.pairing(off, project.inventory.fleet).peers == {}
    assert all(p.replication is None for p in compile_fleet(off, project.inventory))
    boxed = tuple(replace(h, root=f"/srv/{h.name}") for h in project.inventory.fleet)
    assert replication.pairing(cfg, boxed).peers == {}


@pytest.mark.parametrize("reported, kept", [
    (KEY, KEY),
    (KEY + " root@host", KEY),  # the comment is the host's: replaced by ours
    ('command="/bin/sh" ' + KEY, ""),  # options smuggled in front of the key
    (KEY + "\nssh-ed25519 AAAA evil", KEY),  # a second line is dropped
    ("ssh-ed25519 AAAA+/= x", "ssh-ed25519 AAAA+/="),
    ("ssh-dss AAAAB3NzaC1kc3M", ""),  # a key type sshd no longer takes
    ("", ""),
])
def test_a_reported_key_is_taken_only_as_type_and_base64(reported: str, kept: str) -> None:
    assert replication.clean_key(reported) == kept


def test_authorized_keys_force_a_write_only_rsync_into_the_source_replica() -> None:
    rep = replication.Replication(None, ("a1", "a2"), "/opt/openclaw")
    text = replication.authorized_keys(rep, {"a1": KEY + " comment", "a2": OTHER})
    assert text.splitlines()[2:] == [
        f'restrict,command="/usr/bin/rrsync -wo -munge /opt/openclaw/replicas/a1" {KEY} '
        "openclaw-replication@a1",
        f'restrict,command="/usr/bin/rrsync -wo -munge /opt/openclaw/replicas/a2" {OTHER} '
        "openclaw-replication@a2"]
    # a2 outside the run (no key reported): its line as the last apply wrote it stays; a
    # line for a host that no longer ships here does not.
    current = text + f'restrict,command="x" {KEY} openclaw-replication@gone\n'
    again = replication.authorized_keys(rep, {"a1": KEY}, current)
    assert again == text
    assert replication.authorized_keys(rep, {}) == replication.HEADER


def test_known_hosts_name_the_peer_by_address_and_port() -> None:
    peer = replication.Peer("b1", "beta", "10.0.0.5", 2222)
    rep = replication.Replication(peer, (), "/opt/openclaw")
    text = replication.known_hosts(rep, {"b1": KEY})
    assert text.splitlines()[-1] == f"[10.0.0.5]:2222 {KEY} openclaw-replication@b1"
    assert replication.known_hosts(rep, {}, text) == text
    assert replication.known_hosts(replace(rep, peer=replace(peer, port=22)),
                                   {"b1": KEY}).splitlines()[-1].startswith("10.0.0.5 ssh-")


def test_pairing_files_are_filled_from_the_probed_keys(project: Project) -> None:
    plans = list(compile_fleet(project.config, project.inventory))
    states = {p.host: replace(probe.HostState(True, "root"), replication_key=KEY,
                              host_key=OTHER) for p in plans}
    out = {p.host: p for p in runner.paired(plans, states)}
    euw = out["agent-euw1-01.example.com"]
    keys = euw.file("/opt/openclaw/replicas/.ssh/authorized_keys").content.decode()
    assert keys.count(KEY) == 2 and "openclaw-replication@agent-use1-03.example.com" in keys
    known = out["agent-use1-02.example.com"].file(
        "/opt/openclaw/config/replication-known-hosts").content.decode()
    assert known.endswith(f"[agent-euw1-02.example.com]:2222 {OTHER} "
                          "openclaw-replication@agent-euw1-02.example.com\n")
    # A run of one region reads the keys of the peers it leaves out.
    us = project.inventory.select("us-east")
    assert {h.name for h in replication.outside(project.config, us.hosts, us.fleet)} == {
        "agent-euw1-01.example.com", "agent-euw1-02.example.com",
        "agent-apne1-01.example.com"}
    assert isinstance(us, Inventory) and len(us.fleet) == 6


def test_probe_reports_keys_and_creates_one_only_when_asked(project: Project) -> None:
    plan = compile_fleet(project.config, project.inventory)[0]
    assert "ssh-keygen" not in probe.state_script(plan, "salt")
    assert "ssh-keygen" in probe.state_script(plan, "salt", make_key=True)
    assert "ssh-keygen" not in probe.keys_script()
    assert probe.parse_keys(f"REPLKEY\t{KEY} c\nHOSTKEY\tgarbage\nEND\n") == (KEY, "")


def test_status_shows_the_replica_age_against_the_rpo() -> None:
    out = "NOW\t1000\nREPLICA\t" + base64.b64encode(b"950 b1\n").decode() + "\nEND\n"
    fresh = status_probe.parse("a1", "alpha", out, 60, ("b1", 60))
    assert (fresh.replica_peer, fresh.replica_age, fresh.replica_stale) == ("b1", 50, False)
    stale = status_probe.parse("a1", "alpha", out, 60, ("b1", 30))
    never = status_probe.parse("a1", "alpha", "NOW\t1000\nEND\n", 60, ("b1", 60))
    assert stale.replica_stale and never.replica_age is None and never.replica_stale
    text = status_render.text([fresh, stale, never])
    assert "REPLICA" in text and "on b1 50s ago\n" in text and "on b1 never OVER RPO" in text
    assert status_render.as_dict(fresh)["replica"] == {"peer": "b1", "age_seconds": 50,
                                                       "over_rpo": False}
    plain = status_probe.parse("a1", "alpha", out, 60)
    assert "REPLICA" not in status_render.text([plain])


def test_failover_json_splices_each_hosts_block_as_a_whole_dump_would(
        project: Project) -> None:
    """failover.json is dumped once per region and each host's replication block spliced in;
    the bytes must be those of dumping the host's whole document."""
    from openclaw.compile import documents
    pairs = replication.pairing(project.config, project.inventory.fleet)
    for plan in compile_fleet(project.config, project.inventory):
        rep = pairs.of(project.config, plan.host)
        whole = documents.dumps(documents.failover(
            project.config, plan.region, replication.document(project.config, rep)))
        got = next(f for f in plan.files if f.path.endswith("/failover.json"))
        assert got.content.decode() == whole, plan.host
        assert '"peer"' in whole
