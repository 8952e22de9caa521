"""Batches of a rolling apply, and the health gate's verdicts."""

from __future__ import annotations

import pytest

from openclaw.live import batches
from openclaw.sync.gate import verdict


@pytest.mark.parametrize("size, expected", [
    ("1", [["a"], ["b"], ["c"], ["d"], ["e"]]),
    ("2", [["a"], ["b", "c"], ["d", "e"]]),
    ("50%", [["a"], ["b", "c", "d"], ["e"]]),  # half of a 5-host region, rounded up
    ("100%", [["a"], ["b", "c", "d", "e"]]),
    ("10", [["a"], ["b", "c", "d", "e"]]),
])
def test_the_canary_goes_alone_then_batches(size: str, expected: list[list[str]]) -> None:
    assert batches(["a", "b", "c", "d", "e"], size) == expected
    assert batches([], size) == []
    assert batches(["solo"], size) == [["solo"]]


@pytest.mark.parametrize("output, expected", [
    ("PASS\n", ("pass", "")),
    ("SKIP\tno running systemd\n", ("skip", "no running systemd")),
    ("FAIL\topenclaw-gateway.service is failed\n",
     ("fail", "openclaw-gateway.service is failed")),
    ("", ("fail", "no verdict from the health gate")),
])
def test_gate_verdicts(output: str, expected: tuple[str, str]) -> None:
    assert verdict(output) == expected


def test_a_peer_not_bootstrapped_yet_is_left_to_its_own_bootstrap() -> None:
    """Bootstrapping the first region of a new fleet: the other region's bare hosts get no
    failover.json (its group does not exist yet), only a note; bootstrapped peers get it."""
    from openclaw.live import failover_only
    from openclaw.sync.changes import FileChange, HostChanges
    failover = FileChange("/opt/openclaw/config/failover.json", "create")
    other = FileChange("/opt/openclaw/config/host.conf", "create")
    bare = HostChanges("node2", "beta", files=(failover, other), accounts=("group milkbot",),
                       directories=(FileChange("/opt/openclaw/config", "create"),))
    shaped = failover_only(bare, "bootstrap updates failover.json only here")
    assert not shaped.changed and shaped.notes == (
        "not bootstrapped yet: its own bootstrap writes failover.json",)
    ready = HostChanges("node1", "alpha", files=(
        FileChange("/opt/openclaw/config/failover.json", "update"), other))
    shaped = failover_only(ready, "bootstrap updates failover.json only here")
    assert [f.path for f in shaped.files] == ["/opt/openclaw/config/failover.json"]
    assert shaped.changed and shaped.notes == ("bootstrap updates failover.json only here",)


def test_hosts_not_serving_yet_need_no_canary() -> None:
    from openclaw.live import serving
    from openclaw.sync.changes import HostChanges, UnitChange
    up = HostChanges("a", "r", units=(UnitChange("openclaw-gateway.service", restart=True),))
    fresh = HostChanges("b", "r", units=(UnitChange("openclaw-gateway.service", enable=True,
                                                    start=True),))
    assert serving(up) and not serving(fresh)
    assert not serving(HostChanges("c", "r", systemd=False))  # nothing can serve there


def test_hosts_not_serving_go_first_together_then_regions_canary_first() -> None:
    """A fresh host (its gateway to be started by this apply) or one without systemd serves
    no traffic: no canary protects anything there, so they go in one first round. Serving
    hosts keep region order, canary alone, then batches."""
    from openclaw.live import rollout_rounds
    from openclaw.sync.changes import HostChanges, UnitChange
    start = (UnitChange("openclaw-gateway.service", enable=True, start=True),)
    restart = (UnitChange("openclaw-gateway.service", restart=True),)
    changes = [HostChanges("e1", "east", units=restart), HostChanges("e2", "east", units=start),
               HostChanges("e3", "east", units=restart), HostChanges("e4", "east", units=restart),
               HostChanges("w1", "west", units=restart), HostChanges("w2", "west", systemd=False),
               HostChanges("w3", "west", units=restart), HostChanges("w4", "west")]
    pending = {"e1", "e2", "e3", "e4", "w1", "w2", "w3"}  # w4 is in sync
    assert rollout_rounds(["west", "east"], changes, pending, "2") == [
        ("the hosts not serving yet", ["e2", "w2"]),
        ("west", ["w1"]), ("west", ["w3", "w4"]),
        ("east", ["e1"]), ("east", ["e3", "e4"])]
    # Every host serving: no first round, the canary of each region first.
    assert rollout_rounds(["east"], changes[:1] + changes[2:4], {"e1", "e3"}, "100%") == [
        ("east", ["e1"]), ("east", ["e3", "e4"])]
