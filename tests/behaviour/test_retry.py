"""Each probe retries only the retry_on classes, with exponential backoff."""

from __future__ import annotations

import pytest

from tests.behaviour.conftest import World

MODELS = "/v1/models"


@pytest.mark.parametrize("status, attempts", [
    (200, 1), (500, 3), (503, 3), (504, 3), (429, 3),  # retry_on: 429, 504, timeout, 5xx
    (400, 1), (401, 1), (403, 1),  # do_not_retry_on
    (404, 1),  # in neither list: not retried
])
def test_attempts_per_status_class(world: World, status: int, attempts: int) -> None:
    host = world.host()
    world.provider.set(MODELS, status)
    host.health(1_000_000)
    assert world.provider.hits(MODELS) == attempts
    # Backoff between attempts: initial_delay 1s, doubled, capped at max_delay 1.5s.
    assert host.pauses() == [1.0, 1.5][: attempts - 1]
    detail = host.check("probe:primary")["detail"]
    assert detail == f"{status} after {attempts} attempt(s)"


def test_a_hang_is_a_timeout_and_retried(world: World) -> None:
    host = world.host()
    world.provider.set(MODELS, 200, delay=3)  # the provider's timeout is 1s
    host.health(1_000_000)
    assert world.provider.hits(MODELS) == 3
    assert host.check("probe:primary")["detail"] == "timeout after 3 attempt(s)"


def test_the_api_key_is_sent_but_never_on_a_command_line(world: World) -> None:
    host = world.host()
    host.health(1_000_000)
    (req,) = [r for r in world.provider.requests if r.path == MODELS]
    assert req.headers["Authorization"] == "Bearer behaviour-primary-key"
    script = (host.root / "scripts/health-check.sh").read_text()
    assert "--config -" in script  # curl reads URL and headers from standard input


def test_with_the_llm_gateway_providers_are_probed_without_a_key(world: World) -> None:
    """The provider keys are the LLM gateway's alone (its own account and env file): the
    health check sends none, and a provider refusing the missing key has answered."""
    host = world.host(world.text().replace("secrets:\n  env:", (
        "llm_gateway:\n  enabled: true\n  master_key_env: LITELLM_MASTER_KEY\n"
        "secrets:\n  env:\n    LITELLM_MASTER_KEY: {env: LITELLM_MASTER_KEY}")))
    assert "PRIMARY_API_KEY" not in host.plan.file(
        "/opt/openclaw/config/checks.env").content.decode()
    world.provider.set(MODELS, 401)
    host.health(1_000_000)
    (req,) = [r for r in world.provider.requests if r.path == MODELS]
    assert "Authorization" not in req.headers
    assert host.check("probe:primary") == {"name": "probe:primary", "status": "ok",
                                           "detail": "401 after 1 attempt(s)"}
    world.provider.set(MODELS, 503)  # a provider that fails is still a failure, and retried
    host.health(1_000_060)
    assert host.check("probe:primary")["detail"] == "503 after 3 attempt(s)"
    assert host.check("probe:primary")["status"] == "fail"
