"""Budgets: alert at the threshold, switch provider at the limit, reset with the period."""

from __future__ import annotations

import time

from tests.behaviour.conftest import World
from tests.behaviour.host import SandboxHost

DAY = 86400
BUDGETS = """cost_management:
  budgets:
    - name: daily
      limit: 1000 tokens
      scope: per_provider
      alert_threshold: 80%
      action: switch_provider
      reset: daily
    - name: monthly
      limit: 5000 tokens
      scope: global
      alert_threshold: 90%
      action: alert
      reset: 1st of month
"""


def usage(host: SandboxHost, *entries: tuple[int, str, int], outcome: str = "ok") -> None:
    """Usage records as the LLM gateway writes them (config/openclaw_usage.py)."""
    import time
    folder = host.root / "usage"
    folder.mkdir(exist_ok=True)
    for ts, provider, tokens in entries:
        day = time.strftime("%Y-%m-%d", time.gmtime(ts))
        with open(folder / f"usage-{day}.tsv", "a") as fh:
            fh.write(f"{ts}\t{provider}\tgroup\t{tokens - tokens // 3}\t{tokens // 3}\t-\t"
                     f"{outcome}\t200\t120\n")


def config_sets(host: SandboxHost) -> list[str]:
    return host.config_sets.read_text().splitlines() if host.config_sets.exists() else []


def test_threshold_limit_switch_and_daily_reset(world: World) -> None:
    text = world.text(extra=BUDGETS).replace("""routing:
  providers:
    - name: primary
      model: model-a
      endpoint""", """routing:
  providers:
    - name: secondary
      model: model-b
    - name: primary
      model: model-a
      endpoint""")
    host = world.host(text)
    day0 = 20_000 * DAY  # midnight UTC
    usage(host, (day0 + 10, "secondary", 500), (day0 - 100, "secondary", 900))
    assert host.run("budget-check.sh", day0 + 60).returncode == 0
    assert world.messages() == []
    # First run, every provider in force: openclaw.json has that order already, and
    # OpenClaw's CLI is not run (it must not meet a gateway migrating its state).
    assert config_sets(host) == []
    assert (host.root / "state/active-providers").read_text() == "secondary\nprimary\n"

    usage(host, (day0 + 100, "secondary", 350))  # 850 of 1000: over the 80% threshold
    host.run("budget-check.sh", day0 + 120)
    assert world.messages() == ["[warning] budget daily (secondary) at 85% on box"]
    assert config_sets(host) == []  # order unchanged: nothing sent to the gateway

    usage(host, (day0 + 200, "secondary", 200))  # 1050: exhausted, switch_provider
    world.gateway.set("/readyz", 503, body=b'{"ready":false,"failing":["startup-sidecars"]}')
    host.run("budget-check.sh", day0 + 230)  # the gateway is starting: the switch waits
    assert config_sets(host) == []
    world.gateway.set("/readyz")
    host.run("budget-check.sh", day0 + 240)
    assert any(m.startswith("[critical] budget daily exhausted for secondary")
               for m in world.messages())
    assert config_sets(host)[0:] == [
        "config set agents.defaults.model.primary primary/model-a",
        "config set agents.defaults.model.fallbacks []"]
    assert (host.root / "state/active-providers").read_text() == "primary\n"
    state = (host.root / "state/budgets.state").read_text().splitlines()
    assert "daily secondary 1050 1000 1.0500" in state

    host.run("budget-check.sh", day0 + DAY + 60)  # a new day: the budget resets
    assert (host.root / "state/active-providers").read_text() == "secondary\nprimary\n"
    assert config_sets(host)[2:] == [
        "config set agents.defaults.model.primary secondary/model-b",
        'config set agents.defaults.model.fallbacks ["primary/model-a"]']
    assert any("[resolved] budget daily (secondary) back under" in m
               for m in world.messages())

    host.health(day0 + DAY + 120)  # metrics carry budget use
    assert 'openclaw_budget_used_ratio{budget="daily",provider="secondary"} 0.0000' in \
        host.metrics()


def test_global_budget_alerts_without_switching(world: World) -> None:
    host = world.host(extra=BUDGETS)
    month = 1_767_225_600  # 2026-01-01T00:00:00Z
    usage(host, (month - 10, "primary", 4000), (month + 10, "primary", 999),
          (month + 20, "primary", 4001))
    host.run("budget-check.sh", month + 100)
    msgs = world.messages()
    assert "[critical] budget daily exhausted for primary on box (5000 of 1000 tokens): " \
           "primary taken out of routing until daily reset" in msgs
    assert "[critical] budget monthly exhausted (all) on box: 5000 of 5000 tokens" in msgs
    # The only provider exhausted: the gateway keeps its model, an alert says so.
    assert "[critical] every provider is over budget on box" in msgs
    assert config_sets(host) == []


def test_only_answered_requests_count_and_malformed_records_are_said(world: World) -> None:
    """A cached answer or a failed request used no provider tokens; a line that is not a
    record is counted and alerted, never read as zero."""
    host = world.host(extra=BUDGETS)
    day0 = 20_001 * DAY
    usage(host, (day0 + 10, "primary", 300))
    usage(host, (day0 + 20, "primary", 5000), outcome="cached")
    usage(host, (day0 + 30, "primary", 5000), outcome="error")
    with open(host.root / f"usage/usage-{time.strftime('%Y-%m-%d', time.gmtime(day0))}.tsv",
              "a") as fh:
        fh.write('{"ts": "2024-10-01T00:00:00Z", "usage": {"total_tokens": 9000}}\n')
        fh.write(f"{day0 + 40}\tprimary\tgroup\tmany\t1\t-\tok\t200\t5\n")
    host.run("budget-check.sh", day0 + 60)
    state = (host.root / "state/budgets.state").read_text().splitlines()
    assert "daily primary 300 1000 0.3000" in state
    assert world.messages() == ["[warning] 2 usage record(s) on box are malformed and not "
                                "counted towards the budgets"]
