"""The LiteLLM proxy's config, built as data from routing, retry, circuit_breaker, caching and
budgets (the mapping is the README's table). API keys are referred to by .env name
(`os.environ/NAME`), never written."""

from __future__ import annotations

from typing import Any

import yaml

from openclaw.model import Budget, Config, Provider

# routing.strategy -> LiteLLM routing_strategy. `priority` keeps one model group per provider
# and a strict failover chain; the others put every provider in one group and let the router
# choose among the healthy ones.
STRATEGIES = {"priority": "simple-shuffle", "quality_aware": "simple-shuffle",
              "latency_aware": "latency-based-routing", "cost_aware": "cost-based-routing"}
SHARED_GROUP = "auto"
# cost_management resets -> LiteLLM budget_duration
DURATIONS = {"hourly": "1h", "daily": "1d", "weekly": "7d", "monthly": "1mo"}
# Spend is counted at one "dollar" per token so budgets in tokens are enforced exactly.
TOKEN_PRICE = 1.0
# The custom callback (config/openclaw_usage.py) that writes the usage records.
USAGE_CALLBACK = "openclaw_usage.recorder"
USAGE_KEEP_DAYS = 62  # the longest budget period (a month), twice
# The custom callback (config/openclaw_policy.py) that applies the degradation mode in force
# and resets a provider's failure count when it answers.
POLICY_CALLBACK = "openclaw_policy.policy"


def usage_settings(cfg: Config, directory: str) -> dict[str, Any]:
    """config/usage.json: where the records go, and each priced provider's prices."""
    return {"dir": directory, "keep_days": USAGE_KEEP_DAYS,
            "prices": {p.name: list(p.price) for p in cfg.routing.providers if p.price}}


def policy_settings(cfg: Config, record: str) -> dict[str, Any]:
    """config/policy.json: what each degradation mode changes on the request path. From
    DEGRADED on, OpenClaw's primary model group is served by its first fallback (none
    without a failover chain); MAINTENANCE ("read-only") offers the model no tools."""
    fallbacks = _fallbacks(cfg)
    reroute = {g: chain[0] for g, chain in fallbacks[0].items()} if fallbacks else {}
    return {"record": record, "modes": {
        "FULL": {"reroute": {}, "tools": True},
        "DEGRADED": {"reroute": reroute, "tools": True},
        "MINIMAL": {"reroute": reroute, "tools": True},
        "MAINTENANCE": {"reroute": reroute, "tools": False}}}


def groups(cfg: Config) -> list[tuple[str, tuple[Provider, ...]]]:
    """The model groups OpenClaw can ask for, in preference order."""
    providers = cfg.routing.providers
    if cfg.routing.strategy in ("priority", "quality_aware"):
        return [(p.name, (p,)) for p in providers]
    return [(SHARED_GROUP, providers)]


def model_refs(cfg: Config) -> list[str]:
    """OpenClaw's model reference of each provider, in routing order: through the gateway
    when it runs, else the provider's own."""
    gw = cfg.llm_gateway
    if not gw.enabled:
        return [f"{p.name}/{p.model}" for p in cfg.routing.providers]
    names = dict((p.name, g) for g, members in groups(cfg) for p in members)
    return [f"{gw.provider}/{names[p.name]}" for p in cfg.routing.providers]


def env_names(cfg: Config) -> list[str]:
    """Every .env key the proxy's config refers to; the unit refuses to start without them."""
    names = [p.api_key_env for p in cfg.routing.providers if p.api_key_env]
    if cfg.llm_gateway.master_key_env:
        names.append(cfg.llm_gateway.master_key_env)
    return sorted(set(names))


def uses_redis(cfg: Config) -> bool:
    """Redis holds the exact cache (and then cooldowns and budget counters). The semantic
    cache is never compiled: it needs a vector store openclaw does not provision (W001/W002)."""
    return cfg.llm_gateway.enabled and cfg.caching.exact_enabled


def _budget_for(cfg: Config, provider: str) -> Budget | None:
    """The per-provider budget the proxy enforces for a provider: the first one with action
    switch_provider. Others (alert-only, global) stay with the budget-check script."""
    return next((b for b in cfg.budgets if b.scope == "per_provider"
                 and b.action == "switch_provider" and provider in b.providers), None)


def _deployment(cfg: Config, group: str, order: int, p: Provider) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": f"openai/{p.model}" if p.endpoint else f"{p.name}/{p.model}",
        "timeout": _num(p.timeout),
        "max_retries": 0,  # the router retries, per error class; the client must not
        "order": order,
        # With a price, what the provider charges (cost_aware routing compares it); without,
        # one "dollar" per token, so that the proxy's budget counts tokens.
        "input_cost_per_token": p.price[0] / 1000 if p.price else TOKEN_PRICE,
        "output_cost_per_token": p.price[1] / 1000 if p.price else TOKEN_PRICE,
    }
    if p.endpoint:
        params["api_base"] = p.endpoint
    if p.api_key_env:
        params["api_key"] = f"os.environ/{p.api_key_env}"
    budget = _budget_for(cfg, p.name)
    if budget and not p.price:  # priced, its token budget is the budget check's alone
        params["max_budget"] = budget.limit_tokens
        params["budget_duration"] = DURATIONS[budget.reset]
    # safety.input.max_length: with pre-call checks on, a longer prompt reaches no provider.
    return {"model_name": group, "litellm_params": params,
            "model_info": {"id": p.name, "max_input_tokens": cfg.safety.max_input_tokens}}


FIVE = frozenset({"5xx", *(str(c) for c in range(500, 600) if c != 504)})


def default_retries_conflict(cfg: Config) -> bool:
    """LiteLLM has no retry class of its own for 403 (PermissionDeniedError) and 502
    (BadGatewayError): both take the policy's DefaultRetries. When do_not_retry_on names 403
    and retry_on takes 5xx, 403 wins (never retried) and 502 goes unretried (W015)."""
    return "403" in cfg.retry.do_not_retry_on and bool(FIVE & set(cfg.retry.retry_on))


def _retries(cfg: Config) -> dict[str, Any]:
    n = cfg.retry.max_attempts - 1
    on = set(cfg.retry.retry_on)

    def covered(*specs: str) -> int:
        return n if on & set(specs) else 0
    return {
        "num_retries": n,
        "retry_after": _num(cfg.retry.initial_delay),
        "retry_policy": {
            "AuthenticationErrorRetries": covered("401", "4xx"),
            "BadRequestErrorRetries": covered("400", "4xx"),
            "ContentPolicyViolationErrorRetries": 0,
            "InternalServerErrorRetries": covered(*FIVE),
            "ServiceUnavailableErrorRetries": covered(*FIVE),
            "NotFoundErrorRetries": covered("404", "4xx"),
            "RateLimitErrorRetries": covered("429", "4xx"),
            "TimeoutErrorRetries": covered("timeout", "504", "408"),
            # Every other class: 403, 502, connection errors (see default_retries_conflict).
            "DefaultRetries": 0 if default_retries_conflict(cfg) else covered(*FIVE),
        },
    }


def _breaker(cfg: Config) -> dict[str, Any]:
    # LiteLLM cools a deployment down once its failures in the window exceed the allowed
    # number, so the threshold-th failure is the one that opens it.
    allowed = max(cfg.circuit_breaker.failure_threshold - 1, 0)
    return {
        "cooldown_time": _num(cfg.circuit_breaker.cooldown_min),
        # Every retryable class counts the same towards failure_threshold.
        "allowed_fails_policy": {
            "BadGatewayErrorAllowedFails": allowed,
            "InternalServerErrorAllowedFails": allowed,
            "RateLimitErrorAllowedFails": allowed,
            "ServiceUnavailableErrorAllowedFails": allowed,
            "TimeoutErrorAllowedFails": allowed,
        },
    }


def _fallbacks(cfg: Config) -> list[dict[str, list[str]]]:
    fo = cfg.routing.failover
    names = [g for g, _ in groups(cfg)]
    if len(names) < 2 or not (fo.on_error or fo.on_timeout or fo.on_rate_limit):
        return []
    return [{g: names[i + 1:]} for i, g in enumerate(names[:-1])]


def _cache(cfg: Config, root: str) -> dict[str, Any]:
    c = cfg.caching
    if not uses_redis(cfg):
        return {}
    return {"cache": True, "cache_params": {
        "type": "redis", "url": redis_url(root), "namespace": "openclaw",
        "ttl": _num(c.exact_ttl)}}


# The gateway's two Redis instances, each on a unix socket in its own directory: the cache
# (evicted, least recently used first, when full) and the router's state (cooldowns and
# budget counters), which nothing evicts.
REDIS_INSTANCES = (
    {"name": "redis", "role": "cache", "maxmemory": "256mb", "policy": "allkeys-lru"},
    {"name": "redis-state", "role": "cooldowns and budget counters", "maxmemory": "64mb",
     "policy": "noeviction"},
)


def redis_instances(cfg: Config) -> tuple[dict[str, str], ...]:
    """The Redis instances this host runs for the gateway (none without the exact cache)."""
    return REDIS_INSTANCES if uses_redis(cfg) else ()


def redis_url(root: str, name: str = "redis") -> str:
    """A Redis of the gateway listens on this socket only (redis.conf.j2), under the service
    root as the host's artifacts see it."""
    return f"unix://{root}/{name}/redis.sock"


def litellm_config(cfg: Config, root: str | None = None) -> dict[str, Any]:
    gw = cfg.llm_gateway
    model_list = [_deployment(cfg, g, i, p) for g, members in groups(cfg)
                  for i, p in enumerate(members, start=1)]
    router: dict[str, Any] = {"routing_strategy": STRATEGIES[cfg.routing.strategy],
                              "enable_pre_call_checks": True, **_retries(cfg),
                              **_breaker(cfg)}
    fallbacks = _fallbacks(cfg)
    if fallbacks:
        router["fallbacks"] = fallbacks
    if uses_redis(cfg):  # cooldowns and budget counters outlive a restart; never evicted
        router.update(redis_url=redis_url(root or cfg.service.root, "redis-state"))
    settings: dict[str, Any] = {"drop_params": True, **_cache(cfg, root or cfg.service.root),
                                # one usage record per request, for the budget check;
                                # the degradation mode and the breaker's success reset
                                "callbacks": [USAGE_CALLBACK, POLICY_CALLBACK]}
    general: dict[str, Any] = {}
    if gw.master_key_env:
        general["master_key"] = f"os.environ/{gw.master_key_env}"
    out: dict[str, Any] = {"model_list": model_list, "router_settings": router,
                           "litellm_settings": settings}
    if general:
        out["general_settings"] = general
    return out


def dumps(doc: dict[str, Any]) -> str:
    head = ("# Managed by openclaw: the LiteLLM proxy compiled from routing, retry,\n"
            "# circuit_breaker, caching and cost_management.budgets. Keys are named, never\n"
            "# written (os.environ/NAME from the .env).\n")
    return head + yaml.safe_dump(doc, sort_keys=True, default_flow_style=False, width=100)


def openclaw_provider(cfg: Config) -> dict[str, Any]:
    """The gateway as a custom provider in OpenClaw's openclaw.json."""
    gw = cfg.llm_gateway
    key = f"${{{gw.master_key_env}}}" if gw.master_key_env else "no-key"
    return {"baseUrl": f"http://127.0.0.1:{gw.port}/v1", "apiKey": key,
            "api": "openai-completions",
            "models": [{"id": g, "name": f"{g} (through the LLM gateway)"}
                       for g, _ in groups(cfg)]}


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
