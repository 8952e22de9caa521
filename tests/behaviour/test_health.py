"""The health report, the degradation mode and threshold alerts, from compiled values."""

from __future__ import annotations

import time

from tests.behaviour.conftest import World


def test_report_of_a_healthy_host(world: World) -> None:
    host = world.host()
    (host.root / "workspace/AGENTS.md").write_text("x")
    assert host.health(1_699_999_000).returncode == 0
    assert host.check("workspace")["detail"] == "missing: SOUL.md"
    assert host.report()["mode"] == "DEGRADED"  # 1 of 7 checks failed: over 5% errors
    (host.root / "workspace/SOUL.md").write_text("x")
    # Back to FULL only after three healthy runs in a row (hysteresis).
    for now in (1_699_999_600, 1_699_999_800):
        assert host.health(now).returncode == 0
        assert host.report()["mode"] == "DEGRADED"
        assert (host.root / "state/mode").read_text() == "DEGRADED\n"
    r = host.health(1_700_000_000)
    assert r.returncode == 0, r.stderr
    report = host.report()
    assert report["timestamp"] == 1_700_000_000
    assert (report["host"], report["region"], report["healthy"], report["mode"]) == (
        "box", "lab", True, "FULL")
    assert host.check("workspace")["detail"] == "2 file(s) present"
    status = {c["name"]: c["status"] for c in report["checks"]}
    assert status == {"probe:gateway": "ok", "readiness": "ok", "probe:primary": "ok",
                      "units": "skipped", "disk": "ok", "memory": "ok", "workspace": "ok"}
    assert set(report["breakers"]) == {"gateway", "primary"}
    assert world.gateway.hits("/healthz") == 4 and world.gateway.hits("/readyz") == 4  # 4 runs
    prom = host.metrics()
    assert 'openclaw_degradation_mode{mode="FULL"} 1' in prom
    assert 'openclaw_check_ok{check="workspace"} 1' in prom
    assert (host.root / "state/mode").read_text() == "FULL\n"


def test_missing_workspace_files_fail_the_check(world: World) -> None:
    host = world.host()
    host.health(1_000_000)
    assert host.check("workspace") == {"name": "workspace", "status": "fail",
                                       "detail": "missing: AGENTS.md SOUL.md"}


def test_degradation_modes_follow_their_triggers(world: World) -> None:
    host = world.host(extra="degradation:\n  triggers:\n    high_latency: '> 0.2s p99'\n"
                            "    high_error_rate: '> 90%'\n"
                            "    resource_pressure: '< 1MB memory'\n")
    world.gateway.set("/healthz", 200, delay=0.4)  # slower than 0.2s, faster than timeout
    host.health(1_000_000)
    assert host.report()["mode"] == "DEGRADED"
    assert any("box is DEGRADED: high_latency" in m for m in world.messages())

    world.gateway.set("/healthz", 200)
    world.provider.set("/v1/models", 500)
    for t in (1_000_060, 1_000_120, 1_000_180):  # the provider's breaker opens
        host.health(t)
    assert host.breaker("primary")["state"] == "OPEN"
    assert host.report()["mode"] == "MINIMAL"  # all providers down

    (host.root / "state/maintenance").write_text("")
    host.health(1_000_240)
    assert host.report()["mode"] == "MAINTENANCE"
    (host.root / "state/maintenance").unlink()
    world.provider.set("/v1/models", 200)
    host.health(1_000_240 + 3600)  # cooldown over, probe succeeds
    assert host.report()["mode"] == "MAINTENANCE"  # a milder mode waits three runs
    host.health(1_000_240 + 3660)
    host.health(1_000_240 + 3720)
    assert host.report()["mode"] == "FULL"
    assert any("[resolved] box back to FULL service" in m for m in world.messages())


def test_a_mode_the_config_does_not_list_gives_way_to_a_milder_one(world: World) -> None:
    """Without MINIMAL in degradation.modes, all providers down degrades to DEGRADED."""
    host = world.host(extra="degradation:\n  modes:\n    - FULL: all\n    - DEGRADED: less\n")
    world.provider.set("/v1/models", 500)
    for t in (1_000_060, 1_000_120, 1_000_180):
        host.health(t)
    assert host.breaker("primary")["state"] == "OPEN"
    assert host.report()["mode"] == "DEGRADED"


def test_error_rate_and_latency_come_from_the_requests(world: World) -> None:
    """With the LLM gateway's usage records, the triggers read requests, not probes: 3 of 20
    calls failed (15% > 5%), then a p99 of 6 s (> 5 s) with every probe answering at once."""
    host = world.host(extra="degradation:\n  triggers:\n    high_latency: '> 5s p99'\n"
                            "    high_error_rate: '> 5%'\n")
    conf = host.root / "config/health-check.conf"
    conf.write_text(conf.read_text().replace("USAGE_DIR=''", f"USAGE_DIR={host.root}/usage"))
    (host.root / "usage").mkdir()
    now = 1_700_000_000
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    rows = [(now - 60 - i, "ok", 200) for i in range(17)] + \
        [(now - 30 - i, "error", 900) for i in range(3)] + [(now - 4000, "error", 10)]
    (host.root / f"usage/usage-{day}.tsv").write_text("".join(
        f"{ts}\tprimary\tprimary\t10\t5\t-\t{o}\t200\t{ms}\n" for ts, o, ms in rows))
    host.health(now)
    assert host.report()["mode"] == "DEGRADED"
    assert any("high_error_rate: 0.15 (requests: 20 call(s), 3 failed, in 300s)" in m
               for m in world.messages()), world.messages()
    rows = [(now + 60 - i, "ok", 6000 if i == 0 else 100) for i in range(20)]
    (host.root / f"usage/usage-{day}.tsv").write_text("".join(
        f"{ts}\tprimary\tprimary\t10\t5\t-\t{o}\t200\t{ms}\n" for ts, o, ms in rows))
    host.health(now + 60)
    report = host.report()
    assert report["mode"] == "DEGRADED" and report["error_rate"] == 0
    assert report["p99_latency"] == 6
    assert "high_latency: 6s p99 (requests: 20 call(s), 0 failed, in 300s)" in \
        report["mode_reasons"], report


def test_resource_pressure_trigger(world: World) -> None:
    host = world.host(extra="degradation:\n  triggers:\n    resource_pressure: '< 1000TB'\n")
    host.health(1_000_000)
    assert host.report()["mode"] == "MINIMAL"


def test_threshold_alerts_fire_and_clear(world: World) -> None:
    host = world.host(world.text().replace('disk_usage: "> 100%"', 'disk_usage: "> 0%"'))
    host.health(1_000_000)
    assert any(m.startswith("[warning] disk use") for m in world.messages())
    assert (host.root / "state/alerts/disk_usage").exists()


def test_a_gateway_still_starting_is_not_a_readiness_failure(world: World) -> None:
    """health_checks.startup.initial_delay: /readyz not ready within it is 'starting'."""
    host = world.host()
    world.gateway.set("/readyz", 503, body=b'{"ready":false,"failing":["startup-sidecars"],'
                                           b'"uptimeMs":4200}')
    host.health(1_000_000)
    assert host.check("readiness")["status"] == "skipped"
    assert host.check("readiness")["detail"].startswith("starting: up 4s of the ")
    world.gateway.set("/readyz", 503, body=b'{"ready":false,"failing":["startup-sidecars"],'
                                           b'"uptimeMs":3600000}')
    host.health(1_000_100)
    assert host.check("readiness")["status"] == "fail"


def test_memory_figures_are_right_above_2_gib(world: World) -> None:
    """mawk's printf %d stops at 2^31 - 1: on a host with more than 2 GiB every figure read
    2147483647 and memory_usage could never fire. Bash's own 64-bit arithmetic is used."""
    host = world.host(world.text().replace('memory_usage: "> 100%"', 'memory_usage: "> 90%"'))
    meminfo = world.tmp / "meminfo"
    meminfo.write_text("MemTotal:       67108864 kB\nMemFree:         1048576 kB\n"
                       "MemAvailable:    3145728 kB\n")
    host.health(1_000_000, env={"OPENCLAW_MEMINFO": str(meminfo)})
    assert host.check("memory")["detail"] == "3221225472 bytes available"
    # 61 of 64 GiB in use: over 90%.
    assert any(m.startswith("[warning] memory use 0.953") for m in world.messages())
