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


def test_a_failed_delivery_is_retried_and_does_not_start_the_window(world: World) -> None:
    """A delivery that failed was recorded as sent: a webhook answering 503 at T0 kept the
    alerts of +300 s and +3000 s back."""
    host = world.host()  # deduplication_window: 1h
    token = "/bot111:behaviour-token/sendMessage"
    t = 8_000_000
    world.telegram.set(token, 503)
    host.run("alert.sh", t, "fire", "gateway-down", "critical", "gateway down")
    assert world.messages() == ["[critical] gateway down"]  # tried, refused
    world.telegram.set(token, 200)
    host.run("alert.sh", t + 300, "fire", "gateway-down", "critical", "gateway down")
    assert world.messages() == ["[critical] gateway down"] * 2  # retried: delivered now
    host.run("alert.sh", t + 600, "fire", "gateway-down", "critical", "gateway down")
    assert len(world.messages()) == 2  # the window starts at the delivery
    log = (host.root / "logs/alerts.log").read_text()
    assert "FAILED gateway-down (firing) via telegram" in log


def test_a_worse_state_under_the_same_key_is_news(world: World) -> None:
    """DEGRADED then MINIMAL: same key, same severity, but a different state, so sent."""
    host = world.host()
    t = 9_000_000
    host.run("alert.sh", t, "fire", "degradation", "warning", "box is DEGRADED", "DEGRADED")
    host.run("alert.sh", t + 60, "fire", "degradation", "warning", "box is MINIMAL", "MINIMAL")
    host.run("alert.sh", t + 120, "fire", "degradation", "warning", "box is MINIMAL",
             "MINIMAL")
    assert world.messages() == ["[warning] box is DEGRADED", "[warning] box is MINIMAL"]


def test_a_mode_change_from_degraded_to_minimal_alerts(world: World) -> None:
    host = world.host(extra="degradation:\n  triggers:\n    high_latency: '> 0.2s p99'\n")
    world.gateway.set("/healthz", 200, delay=0.4)
    host.health(1_000_000)
    assert host.report()["mode"] == "DEGRADED"
    world.provider.set("/v1/models", 500)
    for t in (1_000_060, 1_000_120, 1_000_180):  # the provider's breaker opens
        host.health(t)
    assert host.report()["mode"] == "MINIMAL"
    modes = [m for m in world.messages() if " is DEGRADED" in m or " is MINIMAL" in m]
    assert [m.split(":")[0] for m in modes] == ["[warning] box is DEGRADED",
                                               "[critical] box is MINIMAL"]
