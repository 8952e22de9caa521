"""Configs that must validate clean: the repo's own, and every YAML block of the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from openclaw import model
from openclaw.validate import check_all

HERE = Path(__file__).parent
REPO = HERE.parent.parent
BLOCKS = sorted((HERE / "report_blocks").glob("*.yaml"))


@pytest.mark.parametrize("inventory", ["inventory/local.yaml", "inventory/production.yaml"])
def test_repo_config_and_inventories_are_clean(inventory: str) -> None:
    checked = check_all(str(REPO / "openclaw.yaml"), str(REPO / inventory))
    # No errors; the warnings name what the report asks for and the host cannot enforce.
    # W013: two providers that hang take the health check past its 5-minute interval.
    # W016: what the report asks for that no component on the host implements.
    # W017: the request path's breaker (LiteLLM) is not the report's.
    assert [(f.code, f.path) for f in checked.findings] == [
        ("W017", "circuit_breaker.metrics.cooldown_period"),
        ("W015", "retry.do_not_retry_on[2]"),
        ("W013", "health_checks.interval"),
        ("W016", "health_checks.liveness.interval"),
        ("W016", "health_checks.readiness.interval"),
        ("W016", "health_checks.startup.endpoint"),
        ("W009", "cost_management.tracking.granularity"),
        ("W016", "routing.providers[0].threshold"),
        ("W016", "routing.failover.status_codes"),
        ("W016", "security.tool_approval.auto_approve"),
        ("W006", "security.tool_approval.require_approval[2]"),
        ("W016", "secrets.storage[1].exclude_from_git"),
        ("W016", "secrets.injection[0].environment_variables"),
        ("W016", "secrets.audit[0].log_access"),
        ("W005", "safety.input[1].filter_prompts"),
        ("W005", "safety.input[2].validate_json"),
        ("W005", "safety.output[0].sanitize_tool_calls"),
        ("W005", "safety.output[2].rate_limit_per_user"),
        ("W016", "logging.fields"),
        ("W016", "logging.destinations[0].local_file"),
        ("W016", "logging.retention.remote"),
        ("W009", "metrics.types"),
        ("W012", "alerting.suppression.escalation_delay"),
        ("W009", "orchestration.message_queue"),
        ("W009", "scaling.load_distribution"),
        ("W016", "deployment.regions[0].weight"),
        ("W016", "deployment.failover[0].automatic"),
        ("W016", "deployment.failover[2].rto"),
        ("W016", "deployment.latency_routing")]
    assert checked.config is not None and checked.inventory is not None


def test_repo_config_has_every_block_and_schema_line() -> None:
    text = (REPO / "openclaw.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=./schema/openclaw.schema.json\n")
    checked = check_all(str(REPO / "openclaw.yaml"), None)
    assert checked.config is not None
    import yaml
    raw = yaml.safe_load(text)
    for block in ("circuit_breaker", "retry", "health_checks", "degradation",
                  "cost_management", "routing", "caching", "security", "secrets", "safety",
                  "logging", "metrics", "alerting", "orchestration", "scaling", "deployment",
                  "service", "version"):
        assert block in raw, block
    regions = {r["name"]: r["weight"] for r in raw["deployment"]["regions"]}
    assert regions == {"us-east": 0.6, "eu-west": 0.3, "asia-pacific": 0.1}


@pytest.mark.parametrize("block", BLOCKS, ids=lambda p: p.stem)
def test_report_block_validates_and_builds(block: Path) -> None:
    checked = check_all(str(block), None)
    assert [f.render() for f in checked.findings if f.severity == "error"] == []
    assert checked.config is not None
    model.build(checked.config)  # every default present, every unit parses


def test_report_alerting_block_as_printed_reads_its_keys_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The report names no sources: each key the block needs comes from the controller's
    variable of the same name, said by validate (W014) and named at plan when unset."""
    from openclaw.errors import OpenclawError
    from openclaw.sync.secrets import resolve
    checked = check_all(str(HERE / "report_blocks/4.3-alerting.yaml"), None)
    assert [(f.code, f.path) for f in checked.findings if f.code == "W014"] == [
        ("W014", "alerting.channels[0].telegram"), ("W014", "alerting.channels[0].telegram"),
        ("W014", "alerting.channels[2].pagerduty")]
    assert checked.config is not None
    cfg = model.build(checked.config)
    names = ("GATEWAY_AUTH_TOKEN", "PAGERDUTY_ROUTING_KEY", "TELEGRAM_BOT_TOKEN",
             "TELEGRAM_CHAT_ID")
    assert [(k, s.kind, s.ref) for k, s in cfg.secrets.env] == [(n, "env", n) for n in names]
    for name in names:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(OpenclawError) as e:
        resolve(cfg.secrets.env, tmp_path)
    for name in names:
        assert f"environment variable {name} is not set" in str(e.value)
    for name in names:
        monkeypatch.setenv(name, f"canary-{name.lower()}")
    assert resolve(cfg.secrets.env, tmp_path)["TELEGRAM_CHAT_ID"] == "canary-telegram_chat_id"
