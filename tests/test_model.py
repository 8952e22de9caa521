"""The model: defaults from the schema, human units in base units, report shapes flattened."""

from __future__ import annotations

from pathlib import Path

import pytest

from openclaw import model, resources
from openclaw.load import parse
from openclaw.normalize import normalize

REPO = Path(__file__).parent.parent


def build(text: str) -> model.Config:
    doc = parse(text, "t.yaml")
    data, _ = normalize(doc.data, resources.schema("openclaw.schema.json"))
    return model.build(data)


def test_minimal_config_gets_every_default() -> None:
    c = build("version: 1\n")
    assert c.service.user == "milkbot" and c.service.group == "milkbot"
    assert c.service.root == "/opt/openclaw" and c.service.gateway_port == 18789
    assert c.circuit_breaker == model.CircuitBreaker(3, 900.0, 3600.0, 300.0)
    assert c.retry.retry_on == ("429", "504", "timeout", "5xx")
    assert c.retry.do_not_retry_on == ("400", "401", "403")
    assert c.health_checks.liveness.endpoint == "/healthz"
    assert c.health_checks.interval == 30.0  # the liveness interval
    assert c.health_checks.memory_min_free == 256_000_000
    assert c.alerting.dedup_window == 3600 and c.alerting.escalation_delay == 900
    assert c.deployment.rpo == 900 and c.deployment.rto == 300


def test_report_list_shapes_equal_mapping_shapes() -> None:
    listed = build("version: 1\ndeployment:\n  failover:\n    - automatic: false\n"
                   "    - rpo: 30 minutes\n    - rto: 1h\n")
    mapped = build("version: 1\ndeployment:\n  failover: {automatic: false, rpo: 30m, "
                   "rto: 3600}\n")
    assert listed == mapped
    assert listed.deployment.rpo == 1800 and listed.deployment.automatic_failover is False


@pytest.mark.parametrize("text, expected", [
    ("cooldown_period: 20m", (1200.0, 1200.0)),
    ("cooldown_period: 15-60 minutes", (900.0, 3600.0)),
    ("cooldown_period: {min: 1m, max: 2h}", (60.0, 7200.0)),
])
def test_cooldown_forms(text: str, expected: tuple[float, float]) -> None:
    c = build(f"version: 1\ncircuit_breaker:\n  metrics:\n    {text}\n")
    assert (c.circuit_breaker.cooldown_min, c.circuit_breaker.cooldown_max) == expected


def test_choice_list_takes_first_entry() -> None:
    c = build("version: 1\norchestration:\n  worker_model:\n    - dynamic: scale\n"
              "    - static: fixed\n")
    assert c.scaling.worker_model == "dynamic"


def test_repo_config_model() -> None:
    from openclaw.project import load
    p = load(str(REPO / "openclaw.yaml"), str(REPO / "inventory/production.yaml"))
    c = p.config
    assert [x.name for x in c.routing.providers] == ["minimax", "openrouter"]
    assert c.budgets[0].providers == ("minimax", "openrouter")  # per_provider: all
    assert c.budgets[1].reset == "monthly" and c.budgets[1].limit_tokens == 3_000_000
    assert c.budgets[0].alert_threshold == pytest.approx(0.8)
    assert dict(c.degradation.triggers)["resource_pressure"].value == 256_000_000
    assert c.scaling.min_instances == 2
    assert [r.name for r in c.deployment.peers("asia-pacific")] == ["us-east", "eu-west"]
    assert [h.region for h in p.inventory.hosts] == \
        ["us-east"] * 3 + ["eu-west"] * 2 + ["asia-pacific"]
    ap = p.inventory.hosts[-1]
    assert (ap.ssh_host, ap.ssh_user, ap.sudo) == ("203.0.113.10", "ops", True)
    import dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.service.user = "root"  # type: ignore[misc]
