"""The circuit breaker state machine, walked with an injected clock."""

from __future__ import annotations

from tests.behaviour.conftest import World

MODELS = "/v1/models"


def test_closed_open_half_open_closed(world: World) -> None:
    host = world.host(threshold=3, cooldown="{min: 60s, max: 200s}", probe_interval="30s")
    world.provider.set(MODELS, 500)
    t = 1_000_000
    for n in (1, 2):
        host.health(t)
        b = host.breaker("primary")
        assert (b["state"], b["failures"]) == ("CLOSED", n)
        t += 30
    host.health(t)  # third consecutive failed probe: OPEN
    b = host.breaker("primary")
    assert (b["state"], b["failures"], b["cooldown"], b["opened_at"]) == ("OPEN", 3, 60, t)
    assert world.provider.hits(MODELS) == 9  # 3 probes x 3 attempts (500 is retried)
    assert any("circuit breaker OPEN for primary" in m for m in world.messages())
    opened = t

    world.provider.clear()
    host.health(opened + 10)  # within probe_interval: not even looked at
    assert host.breaker("primary")["last_check"] == opened
    host.health(opened + 40)  # looked at, but the cooldown has not passed: no probe
    assert world.provider.hits(MODELS) == 0
    assert host.breaker("primary")["state"] == "OPEN"
    assert host.check("probe:primary")["detail"].startswith("breaker open")

    host.health(opened + 70)  # looked at again, cooldown passed: HALF_OPEN, one probe;
    assert world.provider.hits(MODELS) == 1  # it fails: OPEN again, cooldown doubled
    b = host.breaker("primary")
    assert (b["state"], b["cooldown"], b["opened_at"]) == ("OPEN", 120, opened + 70)
    reopened = opened + 70
    host.health(reopened + 119)  # cooldown not over
    assert world.provider.hits(MODELS) == 1
    host.health(reopened + 150)  # fails again: 240 capped at the maximum, 200
    assert world.provider.hits(MODELS) == 2
    b = host.breaker("primary")
    assert (b["state"], b["cooldown"]) == ("OPEN", 200)
    reopened += 150

    world.provider.set(MODELS, 200)
    host.health(reopened + 200)  # recovered: CLOSED, counters and cooldown reset
    b = host.breaker("primary")
    assert (b["state"], b["failures"], b["cooldown"]) == ("CLOSED", 0, 60)
    assert any("[resolved] circuit breaker CLOSED again for primary" in m
               for m in world.messages())


def test_gateway_breaker_and_metrics(world: World) -> None:
    host = world.host(threshold=2)
    world.gateway.set("/healthz", 503)
    host.health(2_000_000)
    r = host.health(2_000_060)
    assert r.returncode == 2  # unhealthy: the gateway is down
    assert host.breaker("gateway")["state"] == "OPEN"
    report = host.report()
    assert report["healthy"] is False and report["breakers"]["gateway"]["state"] == "OPEN"
    prom = host.metrics()
    assert 'openclaw_breaker_state{target="gateway"} 2' in prom
    assert 'openclaw_breaker_state{target="primary"} 0' in prom
    assert 'openclaw_check_ok{check="probe:gateway"} 0' in prom
    assert "openclaw_health_check_timestamp_seconds 2000060" in prom
    # Fixed: the next run after probe_interval (30 s, far inside the 60 s cooldown) asks
    # the gateway once, and that success closes its breaker.
    world.gateway.set("/healthz", 200)
    assert host.health(2_000_075).returncode == 2  # inside probe_interval: not asked
    assert host.breaker("gateway")["state"] == "OPEN"
    assert host.health(2_000_095).returncode == 0
    assert host.breaker("gateway")["state"] == "CLOSED" and host.report()["healthy"] is True


def test_corrupt_or_missing_state_is_closed_and_reported(world: World) -> None:
    host = world.host()
    (host.root / "state/breakers").mkdir(parents=True, exist_ok=True)
    (host.root / "state/breakers/primary.json").write_text("{not json at all")
    r = host.health(3_000_000)
    assert r.returncode == 0, r.stderr
    assert host.breaker("primary")["state"] == "CLOSED"
    assert "state file was unreadable; treated as CLOSED" in host.check("probe:primary")[
        "detail"]
    (host.root / "state/breakers/primary.json").unlink()
    assert host.health(3_000_060).returncode == 0
    assert host.breaker("primary")["state"] == "CLOSED"
