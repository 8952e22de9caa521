"""Alerts: deduplication window, escalation to the next channel, recovery, failing channels."""

from __future__ import annotations

from tests.behaviour.conftest import World


def test_dedup_window(world: World) -> None:
    host = world.host()  # deduplication_window: 1h
    t = 5_000_000
    host.run("alert.sh", t, "fire", "disk", "warning", "disk full")
    host.run("alert.sh", t + 1800, "fire", "disk", "warning", "disk full")
    assert world.messages() == ["[warning] disk full"]
    host.run("alert.sh", t + 3600, "fire", "disk", "warning", "disk full")
    assert world.messages() == ["[warning] disk full"] * 2
    assert world.messages() and world.telegram.requests[0].form["chat_id"] == "4242"
    host.run("alert.sh", t + 3700, "fire", "disk", "critical", "disk really full")
    assert world.messages()[-1] == "[critical] disk really full"  # severity changed: sent


def test_escalation_and_recovery(world: World) -> None:
    host = world.host()  # escalation_delay: 15m; channels: telegram, then webhook
    t = 6_000_000
    host.run("alert.sh", t, "fire", "gateway-down", "critical", "gateway down")
    host.run("alert.sh", t + 600, "escalate")
    assert world.hooks() == []
    host.run("alert.sh", t + 900, "escalate")
    (hook,) = world.hooks()
    assert (hook["key"], hook["severity"], hook["status"], hook["host"]) == (
        "gateway-down", "critical", "firing", "box")
    assert "still firing" in hook["message"]
    host.run("alert.sh", t + 2000, "escalate")  # no channel left to escalate to
    assert len(world.hooks()) == 1
    host.run("alert.sh", t + 2100, "resolve", "gateway-down", "gateway back")
    assert world.messages()[-1] == "[resolved] gateway back"
    assert world.hooks()[-1]["status"] == "resolved"
    # Cleared: the next occurrence is new, not deduplicated.
    host.run("alert.sh", t + 2200, "fire", "gateway-down", "critical", "gateway down")
    assert world.messages()[-1] == "[critical] gateway down"


def test_a_failing_channel_never_breaks_the_caller(world: World) -> None:
    host = world.host()
    world.telegram.set("/bot111:behaviour-token/sendMessage", 500)
    r = host.run("alert.sh", 7_000_000, "fire", "x", "warning", "hello")
    assert r.returncode == 0
    log = (host.root / "logs/alerts.log").read_text()
    assert "FAILED x (firing) via telegram" in log
    world.gateway.set("/healthz", 503)
    r = host.health(7_000_100)
    assert r.returncode == 2 and host.report()["healthy"] is False  # report still written


def test_usage_errors_are_exit_64(world: World) -> None:
    host = world.host()
    assert host.run("alert.sh", 1, "fire", "only-key").returncode == 64
    assert host.run("alert.sh", 1, "bogus").returncode == 64
