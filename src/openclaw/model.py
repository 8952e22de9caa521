"""The typed, immutable model. Built from normalized, validated data; durations are seconds,
percentages fractions, sizes bytes. Nothing after this stage reads YAML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openclaw import units
from openclaw.rules import cooldown_bounds, status_spec

MODES = ("FULL", "DEGRADED", "MINIMAL", "MAINTENANCE")


@dataclass(frozen=True)
class Runtime:
    """The pinned OpenClaw and the Node it runs on."""

    version: str
    node: str
    install: str  # bundle | npm | none
    bundle_cache: str  # controller directory (install: bundle)
    registry: str  # install: npm
    command: str  # install: none


@dataclass(frozen=True)
class Service:
    user: str
    group: str
    root: str
    gateway_port: int
    gateway_bind: str
    gateway_token_env: str
    worker_command: str
    dashboard_enabled: bool
    dashboard_port: int
    dashboard_command: str
    runtime: Runtime
    packages: tuple[str, ...] = ()
    gateway_stop_timeout: float = 330.0


@dataclass(frozen=True)
class CircuitBreaker:
    failure_threshold: int
    cooldown_min: float
    cooldown_max: float
    probe_interval: float


@dataclass(frozen=True)
class Retry:
    max_attempts: int
    backoff: str
    initial_delay: float
    max_delay: float
    retry_on: tuple[str, ...]  # "429", "5xx", "timeout"
    do_not_retry_on: tuple[str, ...]


@dataclass(frozen=True)
class Probe:
    endpoint: str
    interval: float
    timeout: float
    failure_threshold: int


@dataclass(frozen=True)
class HealthChecks:
    interval: float
    liveness: Probe
    readiness: Probe
    startup_endpoint: str
    startup_initial_delay: float
    disk_max_usage: float
    memory_min_free: int
    workspace_files: tuple[str, ...]


@dataclass(frozen=True)
class Degradation:
    triggers: tuple[tuple[str, units.Threshold], ...]
    trigger_modes: tuple[tuple[str, str], ...]
    # The modes a host may enter (degradation.modes; all of them when not listed).
    modes: tuple[str, ...] = ("FULL", "DEGRADED", "MINIMAL", "MAINTENANCE")

    def effective(self, mode: str) -> str:
        """The mode a host enters for `mode`: itself when listed, else the next milder
        listed one (FULL when none is)."""
        order = ("FULL", "DEGRADED", "MINIMAL", "MAINTENANCE")
        for m in reversed(order[:order.index(mode) + 1]):
            if m in self.modes:
                return m
        return "FULL"


@dataclass(frozen=True)
class Budget:
    name: str
    limit_tokens: int
    scope: str
    providers: tuple[str, ...]
    alert_threshold: float
    action: str
    reset: str  # hourly | daily | weekly | monthly


@dataclass(frozen=True)
class Tracking:
    granularity: str
    aggregation: str
    export: str
    usage_file: str
    check_interval: float


@dataclass(frozen=True)
class Provider:
    name: str
    model: str
    threshold: str | None
    endpoint: str | None
    api_key_env: str | None
    health_path: str
    timeout: float
    price: tuple[float, float] | None = None  # US dollars per 1,000 tokens in, out


@dataclass(frozen=True)
class Failover:
    on_error: bool
    on_timeout: bool
    on_rate_limit: bool
    status_codes: tuple[int, ...]


@dataclass(frozen=True)
class Routing:
    strategy: str
    providers: tuple[Provider, ...]
    failover: Failover


@dataclass(frozen=True)
class Caching:
    semantic_enabled: bool
    semantic_similarity: float
    semantic_ttl: float
    exact_enabled: bool
    exact_ttl: float
    backend: str
    providers: tuple[str, ...]


@dataclass(frozen=True)
class LLMGateway:
    enabled: bool
    port: int
    master_key_env: str | None
    install_method: str  # index | wheels | none
    version: str
    wheels: str | None
    python: str
    redis_port: int
    redis_persistence: bool
    user: str = "openclaw-llm"

    @property
    def provider(self) -> str:
        """OpenClaw's name for the gateway, the prefix of its model references."""
        return "llm-gateway"


@dataclass(frozen=True)
class PermissionLevel:
    level: str
    allowed: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Security:
    level: str
    permission_model: tuple[PermissionLevel, ...]
    auto_approve: tuple[str, ...]
    require_approval: tuple[str, ...]
    human_approval_channel: str | None


@dataclass(frozen=True)
class SecretSource:
    kind: str  # "env" | "file"
    ref: str

    def describe(self) -> str:
        return f"{self.kind}:{self.ref}"


@dataclass(frozen=True)
class Secrets:
    env: tuple[tuple[str, SecretSource], ...]
    log_access: bool
    alert_on_access: bool
    rotate_enabled: bool


@dataclass(frozen=True)
class Safety:
    max_input_tokens: int
    filter_prompts: tuple[str, ...]
    validate_json: bool
    sanitize_tool_calls: bool
    filter_sensitive: tuple[str, ...]
    rate_limit_per_hour: float


@dataclass(frozen=True)
class Logging:
    format: str
    level: str
    local_dir: str | None
    stdout: bool
    remote: str | None
    retention_local: float
    retention_remote: float
    journal_max_use: int = 1 << 30
    otel_endpoint: str | None = None
    otel_protocol: str = "http/protobuf"
    otel_service: str = "openclaw"

    @property
    def remote_url(self) -> str | None:
        """The remote destination when it is a URL journal-upload can ship to."""
        r = self.remote or ""
        return r if r.startswith(("http://", "https://")) else None


@dataclass(frozen=True)
class Metrics:
    textfile: str
    per_minute: bool
    per_hour: bool
    per_day: bool


@dataclass(frozen=True)
class Channel:
    kind: str  # telegram | email | pagerduty | webhook
    settings: tuple[tuple[str, Any], ...]

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.settings).get(key, default)


@dataclass(frozen=True)
class Alerting:
    channels: tuple[Channel, ...]
    thresholds: tuple[tuple[str, units.Threshold], ...]
    dedup_window: float
    escalation_delay: float


@dataclass(frozen=True)
class Scaling:
    min_instances: int
    max_instances: int
    scale_up: str
    scale_down: str
    worker_model: str
    load_balancing: str
    queue_url_env: str | None = None
    depth_query: str = ""
    check_interval: float = 60.0
    lock_url_env: str | None = None

    @property
    def autoscaled(self) -> bool:
        return self.worker_model == "dynamic" and bool(self.queue_url_env)


@dataclass(frozen=True)
class Region:
    name: str
    weight: float
    failover_to: tuple[str, ...]
    geos: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dns:
    """deployment.dns: where the fleet's name is published (through octoDNS)."""
    zone: str
    name: str
    ttl: int
    provider: tuple[tuple[str, str | float | bool], ...]  # octoDNS's provider config


@dataclass(frozen=True)
class Deployment:
    regions: tuple[Region, ...]
    automatic_failover: bool
    rpo: float
    rto: float
    latency_routing: str
    batch_size: str
    health_timeout: float
    dns: Dns | None = None
    replicate: bool = False

    def region(self, name: str) -> Region:
        return next(r for r in self.regions if r.name == name)

    def peers(self, name: str) -> tuple[Region, ...]:
        """Failover peers of a region: as configured, else the others by weight."""
        own = self.region(name)
        if own.failover_to:
            return tuple(self.region(n) for n in own.failover_to)
        others = [r for r in self.regions if r.name != name]
        return tuple(sorted(others, key=lambda r: (-r.weight, r.name)))


@dataclass(frozen=True)
class Config:
    service: Service
    circuit_breaker: CircuitBreaker
    retry: Retry
    health_checks: HealthChecks
    degradation: Degradation
    budgets: tuple[Budget, ...]
    tracking: Tracking
    routing: Routing
    caching: Caching
    llm_gateway: LLMGateway
    security: Security
    secrets: Secrets
    safety: Safety
    logging: Logging
    metrics: Metrics
    alerting: Alerting
    scaling: Scaling
    deployment: Deployment


def _s(v: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in v or ())


def _statuses(items: list[Any]) -> tuple[str, ...]:
    """Status specs; the report's 'timeout (504)' means client timeouts as well as 504."""
    out: list[str] = []
    for item in items:
        out.append(status_spec(item))
        if str(item).strip().startswith("timeout") and "timeout" not in out:
            out.append("timeout")
    return tuple(dict.fromkeys(out))


def _channel(kind: str, value: Any) -> Channel:
    settings = value if isinstance(value, dict) else {"description": value}
    if kind == "telegram":
        settings = {"bot_token_env": "TELEGRAM_BOT_TOKEN",
                    "api_url": "https://api.telegram.org", **settings}
        if not settings.get("chat_id") and not settings.get("chat_id_env"):
            settings["chat_id_env"] = "TELEGRAM_CHAT_ID"
    if kind == "pagerduty":
        settings = {"routing_key_env": "PAGERDUTY_ROUTING_KEY",
                    "api_url": "https://events.pagerduty.com/v2/enqueue", **settings}
    return Channel(kind, tuple(sorted((k, v) for k, v in settings.items() if v is not None)))


def _env_sources(d: dict[str, Any]) -> dict[str, dict[str, str]]:
    """secrets.env, plus every key the config refers to (the gateway's auth token, provider
    keys, channel keys, Telegram's chat) that has no declared source: it is read from the
    controller's variable of the same name (validate says so, W014)."""
    from openclaw.rules import implicit_chat, secret_refs
    env = dict(d["secrets"].get("env") or {})
    token = d["service"]["gateway"]["auth_token_env"]
    implicit = [token, *(key for _, key in secret_refs(d))]
    if implicit_chat(d):
        implicit.append("TELEGRAM_CHAT_ID")
    for key in implicit:
        env.setdefault(key, {"env": key})
    return env


def build(d: dict[str, Any]) -> Config:
    """Turn normalized data (every default present) into the model."""
    sv, hc, cm = d["service"], d["health_checks"], d["cost_management"]
    oc = sv["openclaw"]
    providers = tuple(
        Provider(p["name"], p["model"], p.get("threshold"), p.get("endpoint"),
                 p.get("api_key_env"), p["health_path"], units.duration(p["timeout"]),
                 (float(p["price"]["input"]), float(p["price"]["output"]))
                 if p.get("price") else None)
        for p in d["routing"].get("providers") or ())
    provider_names = tuple(p.name for p in providers)
    lo, hi = cooldown_bounds(d["circuit_breaker"]["metrics"]["cooldown_period"])
    cbm = d["circuit_breaker"]["metrics"]
    live, ready = hc["liveness"], hc["readiness"]
    fo = d["routing"]["failover"]
    sec, saf, lg = d["security"], d["safety"], d["logging"]
    dest = lg["destinations"]
    inst = d["scaling"]["agent_instances"]
    dep = d["deployment"]
    lgw = d["llm_gateway"]
    queue = d["scaling"]["queue"]
    default_modes = {"high_latency": "DEGRADED", "high_error_rate": "DEGRADED",
                     "resource_pressure": "MINIMAL", "all_providers_down": "MINIMAL"}
    return Config(
        service=Service(sv["user"], sv.get("group") or sv["user"], sv["root"].rstrip("/")
                        or "/", sv["gateway"]["port"], sv["gateway"]["bind"],
                        sv["gateway"]["auth_token_env"],
                        sv["worker"]["command"], sv["dashboard"]["enabled"],
                        sv["dashboard"]["port"], sv["dashboard"]["command"],
                        Runtime(oc["version"], oc["node"], oc["install"], oc["bundle_cache"],
                                oc["registry"].rstrip("/"), oc["command"]),
                        tuple(sv["packages"]), units.duration(sv["gateway"]["stop_timeout"])),
        circuit_breaker=CircuitBreaker(units.count(cbm["failure_threshold"]), lo, hi,
                                       units.duration(cbm["probe_interval"])),
        retry=Retry(d["retry"]["max_attempts"], d["retry"]["backoff"],
                    units.duration(d["retry"]["initial_delay"]),
                    units.duration(d["retry"]["max_delay"]),
                    _statuses(d["retry"]["retry_on"]),
                    _statuses(d["retry"]["do_not_retry_on"])),
        health_checks=HealthChecks(
            units.duration(hc.get("interval") or live["interval"]),
            Probe(live["endpoint"], units.duration(live["interval"]),
                  units.duration(live["timeout"]), units.count(live["failure_threshold"])),
            Probe(ready["endpoint"], units.duration(ready["interval"]),
                  units.duration(ready["timeout"]), 1),
            hc["startup"]["endpoint"], units.duration(hc["startup"]["initial_delay"]),
            units.percent(hc["disk_max_usage"]), units.size(hc["memory_min_free"]),
            _s(hc["workspace_files"])),
        degradation=Degradation(
            tuple(sorted((k, units.threshold(v))
                         for k, v in d["degradation"]["triggers"].items())),
            tuple(sorted({**default_modes, **d["degradation"]["trigger_modes"]}.items())),
            tuple(m for m in ("FULL", "DEGRADED", "MINIMAL", "MAINTENANCE")
                  if not d["degradation"].get("modes")
                  or any(m in item for item in d["degradation"]["modes"]))),
        budgets=tuple(
            Budget(b["name"], units.count(b["limit"]), b["scope"],
                   _s(b.get("providers")) or (provider_names if b["scope"] == "per_provider"
                                              else ()),
                   units.percent(b["alert_threshold"]), b["action"],
                   "monthly" if b["reset"] == "1st of month" else b["reset"])
            for b in cm.get("budgets") or ()),
        tracking=Tracking(cm["tracking"]["granularity"], cm["tracking"]["aggregation"],
                          cm["tracking"]["export"], cm["tracking"]["usage_file"],
                          units.duration(cm["tracking"]["check_interval"])),
        routing=Routing(d["routing"]["strategy"], providers,
                        Failover(fo["on_error"], fo["on_timeout"], fo["on_rate_limit"],
                                 tuple(sorted(fo["status_codes"])))),
        caching=Caching(d["caching"]["semantic"]["enabled"],
                        float(d["caching"]["semantic"]["similarity_threshold"]),
                        units.duration(d["caching"]["semantic"]["ttl"]),
                        d["caching"]["exact"]["enabled"],
                        units.duration(d["caching"]["exact"]["ttl"]),
                        d["caching"]["cache_backend"],
                        _s(d["caching"].get("providers")) or provider_names),
        llm_gateway=LLMGateway(lgw["enabled"], lgw["port"], lgw.get("master_key_env"),
                               lgw["install"]["method"], lgw["install"]["version"],
                               lgw["install"].get("wheels"), lgw["install"]["python"],
                               lgw["redis"]["port"], lgw["redis"]["persistence"],
                               lgw["user"]),
        security=Security(sec["level"], tuple(
            PermissionLevel(p["level"], _s(p.get("allowed")), p.get("description", ""))
            for p in sec.get("permission_model") or ()),
            _s(sec["tool_approval"].get("auto_approve")),
            _s(sec["tool_approval"].get("require_approval")),
            sec["tool_approval"].get("human_approval_channel")
            or next(iter(d["alerting"]["channels"]), None)),
        secrets=Secrets(
            tuple(sorted((k, SecretSource(*next(iter(v.items()))))
                         for k, v in _env_sources(d).items())),
            bool(d["secrets"]["audit"].get("log_access")),
            bool(d["secrets"]["audit"].get("alert_on_access")),
            bool(d["secrets"]["storage"].get("rotate_enabled"))),
        safety=Safety(units.count(saf["input"]["max_length"]),
                      _s(saf["input"].get("filter_prompts")), saf["input"]["validate_json"],
                      saf["output"]["sanitize_tool_calls"],
                      _s(saf["output"].get("filter_sensitive")),
                      units.rate_per_hour(saf["output"]["rate_limit_per_user"])),
        logging=Logging(lg["format"], lg["level"],
                        dest.get("local_file") if isinstance(dest.get("local_file"), str)
                        else None, dest.get("stdout") not in (None, False),
                        dest.get("remote") if isinstance(dest.get("remote"), str) else None,
                        units.duration(lg["retention"]["local"]),
                        units.duration(lg["retention"]["remote"]),
                        units.size(lg["journal_max_use"]),
                        lg["tracing"].get("endpoint"), lg["tracing"]["protocol"],
                        lg["tracing"]["service_name"]),
        metrics=Metrics(d["metrics"]["textfile"],
                        bool(d["metrics"]["aggregation"].get("per_minute")),
                        bool(d["metrics"]["aggregation"].get("per_hour")),
                        bool(d["metrics"]["aggregation"].get("per_day"))),
        alerting=Alerting(
            tuple(_channel(k, v) for k, v in d["alerting"]["channels"].items()),
            tuple(sorted((k, units.threshold(v))
                         for k, v in d["alerting"]["thresholds"].items())),
            units.duration(d["alerting"]["suppression"]["deduplication_window"]),
            units.duration(d["alerting"]["suppression"]["escalation_delay"])),
        scaling=Scaling(inst["min"], inst["max"], inst["scale_up_trigger"],
                        inst["scale_down_trigger"], d["orchestration"]["worker_model"],
                        d["orchestration"]["load_balancing"], queue.get("database_url_env"),
                        queue["depth_query"], units.duration(queue["check_interval"]),
                        queue.get("lock_redis_url_env")),
        deployment=Deployment(
            tuple(Region(r["name"], float(r["weight"]), _s(r.get("failover_to")),
                         _s(r.get("geos")))
                  for r in dep.get("regions") or ()),
            dep["failover"]["automatic"], units.duration(dep["failover"]["rpo"]),
            units.duration(dep["failover"]["rto"]), dep["latency_routing"],
            str(dep["rollout"]["batch_size"]),
            units.duration(dep["rollout"]["health_timeout"]),
            Dns(dep["dns"]["zone"], dep["dns"]["name"], int(units.duration(dep["dns"]["ttl"])),
                tuple(sorted(dep["dns"]["provider"].items())))
            if (dep.get("dns") or {}).get("zone") else None,
            bool(dep["failover"]["replicate"])),
    )
