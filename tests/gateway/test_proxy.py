"""The compiled LiteLLM proxy, really running, enforces openclaw.yaml's policies: retries per
error class, failover, the breaker's cooldown, the Redis cache and per-provider budgets."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.gateway.conftest import MASTER_KEY, Gateway, free_port
from tests.hosts.fake.provider import FakeProvider

SECRETS = {"PRIMARY_API_KEY": "sk-primary-test", "SECONDARY_API_KEY": "sk-secondary-test",
           "LITELLM_MASTER_KEY": MASTER_KEY}


def config(primary: FakeProvider, secondary: FakeProvider, *, threshold: int = 3,
           cache: bool = False, budget: int | None = None, extra: str = "") -> str:
    budgets = "" if budget is None else f"""cost_management:
  budgets:
    - name: primary_daily
      limit: {budget} tokens
      scope: per_provider
      providers: [primary]
      action: switch_provider
      reset: daily
"""
    return f"""version: 1
llm_gateway:
  enabled: true
  port: {free_port()}
  master_key_env: LITELLM_MASTER_KEY
  redis: {{port: {free_port()}}}
circuit_breaker:
  metrics:
    failure_threshold: {threshold}
    cooldown_period: {{min: 60s, max: 120s}}
retry:
  max_attempts: 3
  initial_delay: 0s
  max_delay: 1s
  retry_on: [rate_limit (429), timeout (504), server_error (5xx)]
  do_not_retry_on: [bad_request (400), unauthorized (401), forbidden (403)]
routing:
  strategy: priority
  providers:
    - name: primary
      model: model-a
      endpoint: {primary.endpoint}
      api_key_env: PRIMARY_API_KEY
      timeout: 5s
    - name: secondary
      model: model-b
      endpoint: {secondary.endpoint}
      api_key_env: SECONDARY_API_KEY
      timeout: 5s
caching:
  exact: {{enabled: {str(cache).lower()}, ttl: 10m}}
{budgets}alerting:
  channels:
    - webhook: {{url: 'http://127.0.0.1:9/hook'}}
secrets:
  env:
    PRIMARY_API_KEY: {{env: PRIMARY_API_KEY}}
    SECONDARY_API_KEY: {{env: SECONDARY_API_KEY}}
    LITELLM_MASTER_KEY: {{env: LITELLM_MASTER_KEY}}
deployment:
  regions:
    - name: lab
      weight: 1.0
{extra}"""


@pytest.fixture
def providers() -> Iterator[tuple[FakeProvider, FakeProvider]]:
    with FakeProvider("primary") as a, FakeProvider("secondary") as b:
        yield a, b


Make = Callable[[str, dict[str, str]], Gateway]


def answer(body: dict[str, object]) -> str:
    return str(body["choices"][0]["message"]["content"])  # type: ignore[index]


def test_rate_limit_is_retried_then_served_by_the_fallback(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    primary, secondary = providers
    gw = gateways(config(primary, secondary, threshold=10), SECRETS)
    gw.start()
    primary.status = 429
    status, body, _ = gw.ask("primary")
    assert status == 200, body
    assert answer(body) == "answer from secondary"
    assert primary.completions == 3  # max_attempts: the first call and two retries
    assert secondary.completions == 1
    # Keys came from the .env by name; the client's master key never reached a provider.
    assert {c["auth"] for c in primary.calls} == {"Bearer sk-primary-test"}
    assert {c["auth"] for c in secondary.calls} == {"Bearer sk-secondary-test"}


@pytest.mark.parametrize("code", [401, 403])
def test_do_not_retry_on_is_never_retried(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider], code: int) -> None:
    """unauthorized (401), forbidden (403): 403 has no retry class of its own in LiteLLM."""
    primary, secondary = providers
    gw = gateways(config(primary, secondary, threshold=10), SECRETS)
    gw.start()
    primary.status = code
    gw.ask("primary")
    assert primary.completions == 1


def test_bad_gateway_counts_towards_the_breaker_without_retries(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    """502 shares LiteLLM's retry count with 403 (W015): not retried, but it opens the
    breaker on the failure_threshold-th failed request like every other 5xx."""
    primary, secondary = providers
    gw = gateways(config(primary, secondary, threshold=3), SECRETS)
    gw.start()
    primary.status = 502
    assert [gw.ask("primary")[0] for _ in range(3)] == [200, 200, 200]
    assert primary.completions == 3
    primary.status = 200
    status, body, _ = gw.ask("primary")
    assert status == 200 and answer(body) == "answer from secondary"
    assert primary.completions == 3


@pytest.mark.parametrize("code", [500, 503])
def test_breaker_skips_the_primary_for_the_cooldown(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider], code: int) -> None:
    primary, secondary = providers
    gw = gateways(config(primary, secondary, threshold=3), SECRETS)
    gw.start()
    primary.status = code
    # A failure is a request the primary failed after its retries, as for the health
    # check's breaker: two of them leave it closed...
    assert [gw.ask("primary")[0] for _ in range(2)] == [200, 200]  # served by the fallback
    assert primary.completions == 2 * 3
    # ...the third (failure_threshold) opens it: no retries once it is open...
    assert gw.ask("primary")[0] == 200
    assert primary.completions == 2 * 3 + 1
    # ...and for the cooldown (60 s) the primary is skipped, recovered or not.
    primary.status = 200
    for _ in range(2):
        status, body, _ = gw.ask("primary")
        assert status == 200 and answer(body) == "answer from secondary"
    assert primary.completions == 2 * 3 + 1


def test_a_success_resets_the_count_of_failures(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    """failure_threshold counts failures in a row, as the report's breaker does: LiteLLM
    alone counts them in its window, so fail, succeed, fail, succeed, fail cooled a healthy
    primary down; the compiled policy callback resets the count on each answer."""
    import time
    primary, secondary = providers
    gw = gateways(config(primary, secondary, threshold=3), SECRETS)
    gw.start()
    for status in (500, 200, 500, 200, 500):
        primary.status = status
        assert gw.ask("primary")[0] == 200
        time.sleep(1)  # the success callback runs after the answer
    primary.status = 200
    status, body, _ = gw.ask("primary")
    assert status == 200 and answer(body) == "answer from primary"


def test_identical_request_is_served_from_redis(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    primary, secondary = providers
    gw = gateways(config(primary, secondary, cache=True), SECRETS)
    gw.start()
    first = gw.ask("primary", "what is the capital of France?")
    second = gw.ask("primary", "what is the capital of France?")
    assert first[0] == second[0] == 200
    assert answer(first[1]) == answer(second[1]) == "answer from primary"
    assert primary.completions == 1
    assert second[2].get("x-litellm-cache-key")
    gw.ask("primary", "something else")
    assert primary.completions == 2


def test_budget_switches_to_the_next_provider(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    primary, secondary = providers  # each answer costs 10 + 5 tokens
    gw = gateways(config(primary, secondary, budget=30, cache=True), SECRETS)
    gw.start()
    served = [answer(gw.ask("primary", f"question {i}")[1]) for i in range(4)]
    assert served[:2] == ["answer from primary"] * 2
    assert served[2:] == ["answer from secondary"] * 2
    assert primary.completions == 2
    # The spend counters are in the router's Redis, not the cache's.
    state = gw.redis_socket.replace("/redis/", "/redis-state/")
    assert int(redis(state, "DBSIZE").strip(":\r\n")) > 0


def test_an_input_over_max_length_reaches_no_provider(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    primary, secondary = providers
    gw = gateways(config(primary, secondary, extra="safety:\n  input:\n    - max_length: 50\n"),
                  SECRETS)
    gw.start()
    assert gw.ask("primary", "a short question")[0] == 200
    status, body, _ = gw.ask("primary", " ".join(["word"] * 400))
    assert status == 400 and "error" in body
    assert primary.completions == 1 and secondary.completions == 0


def test_callers_without_the_master_key_are_refused(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    primary, secondary = providers
    gw = gateways(config(primary, secondary), SECRETS)
    gw.start()
    status, body, _ = gw.ask("primary", key="sk-wrong")
    # Without a database LiteLLM knows only the master key; any other is refused (400
    # "No connected db." in 1.108.7, 401 with a database) before reaching a provider.
    assert status in (400, 401) and "error" in body
    assert primary.completions == 0


def test_a_missing_key_stops_the_unit_before_start(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    primary, secondary = providers
    gw = gateways(config(primary, secondary), SECRETS)
    env = gw.environment()
    del env["SECONDARY_API_KEY"]
    check = gw.pre_start(env)
    assert check.returncode == 78  # RestartPreventExitStatus: no restart loop
    assert "SECONDARY_API_KEY" in check.stderr
    assert "sk-" not in check.stdout + check.stderr


def test_redis_is_reachable_only_through_the_service_accounts_socket(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    import os
    import re
    import socket
    import stat
    primary, secondary = providers
    text = config(primary, secondary, cache=True)
    m = re.search(r"redis: \{port: (\d+)\}", text)
    assert m is not None
    tcp_port = int(m.group(1))
    gw = gateways(text, SECRETS)
    gw.start()
    assert gw.ask("primary", "cache me")[0] == 200
    assert stat.S_IMODE(os.stat(gw.redis_socket).st_mode) == 0o700
    redis_dir = next(d for d in gw.plan.directories if d.path.endswith("/redis"))
    assert (redis_dir.mode, redis_dir.owner) == (0o700, gw.cfg.llm_gateway.user)  # its alone
    with pytest.raises(ConnectionRefusedError):  # no TCP port, not even on loopback
        socket.create_connection(("127.0.0.1", tcp_port), timeout=2).close()
    assert int(redis(gw.redis_socket, "DBSIZE").strip(":\r\n")) > 0  # the cache is in
    # The cache is evicted when full; the router's cooldowns and budget counters live in a
    # Redis of their own that evicts nothing.
    state = gw.redis_socket.replace("/redis/", "/redis-state/")
    assert "allkeys-lru" in redis(gw.redis_socket, "CONFIG GET maxmemory-policy")
    assert "noeviction" in redis(state, "CONFIG GET maxmemory-policy")
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700


def redis(path: str, command: str) -> str:
    """One command to a Redis on its unix socket, the raw reply."""
    import socket
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(command.encode() + b"\r\n")
        return s.recv(4096).decode()


def test_the_gateway_gets_its_own_keys_only(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    """LiteLLM reads DATABASE_URL as its own database: the task queue's URL in the shared .env
    made it exit at start ('unsupported scheme'), in a restart loop."""
    primary, secondary = providers
    text = config(primary, secondary).replace(
        "    LITELLM_MASTER_KEY: {env: LITELLM_MASTER_KEY}\n",
        "    LITELLM_MASTER_KEY: {env: LITELLM_MASTER_KEY}\n"
        "    DATABASE_URL: {env: DATABASE_URL}\n")
    assert "DATABASE_URL: {env: DATABASE_URL}" in text
    gw = gateways(text, {**SECRETS, "DATABASE_URL": "mysql://queue:canary-db@127.0.0.1/q"})
    env = gw.environment()
    assert "DATABASE_URL" not in env and env["PRIMARY_API_KEY"] == "sk-primary-test"
    gw.start()
    status, body, _ = gw.ask("primary")
    assert status == 200 and answer(body) == "answer from primary"


def test_every_request_leaves_a_usage_record_the_budget_check_counts(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    """The compiled callback in the real proxy: one record per provider call (answered,
    failed, served from the cache), priced from routing.providers[].price; the budget check
    counts the answered ones."""
    import subprocess
    import time
    from pathlib import Path
    primary, secondary = providers  # each answer: 10 tokens in, 5 out
    text = config(primary, secondary, cache=True, threshold=10).replace(
        "      api_key_env: PRIMARY_API_KEY\n",
        "      api_key_env: PRIMARY_API_KEY\n      price: {input: 0.5, output: 2}\n")
    text += """cost_management:
  budgets:
    - name: primary_daily
      limit: 100 tokens
      scope: per_provider
      providers: [primary]
      action: alert
      reset: daily
"""
    gw = gateways(text, SECRETS)
    gw.start()
    assert gw.ask("primary", "first")[0] == 200
    assert gw.ask("primary", "first")[0] == 200  # from the cache
    primary.status = 500
    assert answer(gw.ask("primary", "second")[1]) == "answer from secondary"
    root = Path(gw.plan.target(gw.cfg.service.root))
    deadline = time.monotonic() + 20
    rows: list[list[str]] = []
    while time.monotonic() < deadline:  # the callback runs after the answer
        rows = [line.split("\t") for f in sorted((root / "usage").glob("usage-*.tsv"))
                for line in f.read_text().splitlines()]
        if len(rows) >= 4 and any(r[1] == "secondary" for r in rows):
            break
        time.sleep(0.2)
    assert all(len(r) == 9 and r[0].isdigit() for r in rows), rows
    summary = sorted((r[1], r[3], r[4], r[5], r[6], r[7]) for r in rows)
    # 10 in at $0.5/1k and 5 out at $2/1k: $0.015; the secondary has no price.
    assert ("primary", "10", "5", "0.01500000", "ok", "200") in summary, summary
    assert ("secondary", "10", "5", "-", "ok", "200") in summary, summary
    assert any(r[4] == "error" and r[5] == "500" for r in summary), summary
    assert sum(1 for r in summary if r[4] == "cached") == 1, summary
    assert all(f.stat().st_mode & 0o777 == 0o640 for f in (root / "usage").iterdir())
    r = subprocess.run([str(root / "scripts/budget-check.sh")], capture_output=True,
                       text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    state = (root / "state/budgets.state").read_text().split()
    assert state[:4] == ["primary_daily", "primary", "15", "100"], state


def test_the_mode_in_force_moves_openclaw_to_the_fallback_and_takes_tools_away(
        gateways: Make, providers: tuple[FakeProvider, FakeProvider]) -> None:
    """The compiled mode policy in the real proxy: root's mode record (mode.sh writes it)
    decides, request by request, without a restart. DEGRADED and MINIMAL serve OpenClaw's
    primary model group from its fallback; MAINTENANCE sends no tool definition to any
    provider; FULL, a missing record and a record naming no mode change nothing."""
    from pathlib import Path

    from openclaw.compile.plan import MODE_RECORD
    primary, secondary = providers
    gw = gateways(config(primary, secondary, threshold=10, extra="""degradation:
  modes: [FULL: all, DEGRADED: fallback, MINIMAL: core, MAINTENANCE: read-only]
"""), SECRETS)
    record = Path(gw.plan.target(MODE_RECORD))
    record.parent.mkdir(parents=True, exist_ok=True)
    gw.start()
    tool = {"type": "function", "function": {"name": "exec", "parameters": {
        "type": "object", "properties": {"command": {"type": "string"}}}}}

    def served(mode: str | None) -> tuple[str, bool]:
        if mode is None:
            record.unlink(missing_ok=True)
        else:
            record.write_text(f"{mode} 1767225600\n")
        before = {p.name: len(p.calls) for p in providers}
        status, body, _ = gw.ask("primary", f"in {mode}", tools=[tool], tool_choice="auto")
        assert status == 200, body
        new = [c for p in providers for c in p.calls[before[p.name]:]]
        assert len(new) == 1, new
        return answer(body), "tools" in new[0]["body"] or "tool_choice" in new[0]["body"]

    assert served(None) == ("answer from primary", True)
    assert served("FULL") == ("answer from primary", True)
    assert served("DEGRADED") == ("answer from secondary", True)
    assert served("MINIMAL") == ("answer from secondary", True)
    assert served("MAINTENANCE") == ("answer from secondary", False)
    assert served("BOGUS") == ("answer from primary", True)
    # The fallback's own group is not moved anywhere.
    record.write_text("DEGRADED 1767225600\n")
    assert answer(gw.ask("secondary", "direct")[1]) == "answer from secondary"
