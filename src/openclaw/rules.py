"""Semantic rules JSON Schema cannot express. Each takes the normalized config and yields
findings located at the raw YAML the value came from."""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from openclaw import units
from openclaw.findings import WARNING, Finding
from openclaw.load import Document, PathT
from openclaw.secrets_scan import scan
from openclaw.tool_names import APPROVABLE, openclaw_tools

Rule = Callable[["Context"], Iterator[Finding]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


class Context:
    def __init__(self, doc: Document, data: dict[str, Any], origins: dict[PathT, PathT]):
        self.doc, self.data, self.origins = doc, data, origins

    def at(self, npath: PathT, message: str, code: str, *, severity: str = "error",
           key: bool = False) -> Finding:
        raw = self.origins.get(npath)
        p = npath
        while raw is None and p:
            p = p[:-1]
            raw = self.origins.get(p)
        return self.doc.finding(raw or (), message, code, severity=severity, key=key)

    def get(self, *path: str) -> Any:
        node: Any = self.data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return node


def run_rules(doc: Document, data: dict[str, Any], origins: dict[PathT, PathT]
              ) -> list[Finding]:
    ctx = Context(doc, data, origins)
    return [f for r in RULES for f in r(ctx)]


def _duplicates(ctx: Context, items: list[dict[str, Any]], base: PathT, what: str,
                code: str) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        name = item.get("name")
        if name in seen:
            yield ctx.at((*base, i, "name"), f"duplicate {what} name {name!r} (also item "
                         f"{seen[name]})", code)
        else:
            seen[str(name)] = i


@rule
def unique_names(ctx: Context) -> Iterator[Finding]:
    yield from _duplicates(ctx, ctx.get("deployment", "regions") or [],
                           ("deployment", "regions"), "region", "R001")
    yield from _duplicates(ctx, ctx.get("routing", "providers") or [],
                           ("routing", "providers"), "provider", "R002")
    yield from _duplicates(ctx, ctx.get("cost_management", "budgets") or [],
                           ("cost_management", "budgets"), "budget", "R003")


@rule
def region_weights(ctx: Context) -> Iterator[Finding]:
    regions = ctx.get("deployment", "regions") or []
    total = sum(float(r.get("weight", 0)) for r in regions)
    if regions and abs(total - 1.0) > 1e-6:
        yield ctx.at(("deployment", "regions"), f"region weights sum to {total:g}, "
                     "expected 1.0", "R004")


@rule
def region_failover_peers(ctx: Context) -> Iterator[Finding]:
    regions = ctx.get("deployment", "regions") or []
    names = {r["name"] for r in regions}
    for i, region in enumerate(regions):
        for j, peer in enumerate(region.get("failover_to") or []):
            where = ("deployment", "regions", i, "failover_to", j)
            if peer == region["name"]:
                yield ctx.at(where, "a region cannot fail over to itself", "R005")
            elif peer not in names:
                yield ctx.at(where, f"unknown region {peer!r} (regions: "
                             f"{', '.join(sorted(names))})", "R005")


@rule
def providers_exist(ctx: Context) -> Iterator[Finding]:
    names = {p["name"] for p in ctx.get("routing", "providers") or []}
    known = ", ".join(sorted(names)) or "none defined in routing.providers"
    refs: list[PathT] = []
    for i, budget in enumerate(ctx.get("cost_management", "budgets") or []):
        refs += [("cost_management", "budgets", i, "providers", j)
                 for j in range(len(budget.get("providers") or []))]
    refs += [("caching", "providers", j) for j in range(len(ctx.get("caching", "providers")
                                                            or []))]
    for path in refs:
        value = _at(ctx.data, path)
        if value not in names:
            yield ctx.at(path, f"unknown provider {value!r} (providers: {known})", "R006")


def _at(data: Any, path: PathT) -> Any:
    for part in path:
        data = data[part]
    return data


@rule
def retry_delays(ctx: Context) -> Iterator[Finding]:
    retry = ctx.get("retry") or {}
    lo, hi = units.duration(retry["initial_delay"]), units.duration(retry["max_delay"])
    if lo > hi:
        yield ctx.at(("retry", "initial_delay"), f"initial_delay ({retry['initial_delay']}) "
                     f"is longer than max_delay ({retry['max_delay']})", "R007")


def status_spec(value: int | str) -> str:
    """'rate_limit (429)' -> '429'; '5xx' -> '5xx'; 'timeout' -> 'timeout'."""
    text = str(value).strip()
    if "(" in text:
        text = text.split("(", 1)[1].rstrip(") ")
    return text.strip().lower()


def _overlaps(a: str, b: str) -> bool:
    if a == b:
        return True
    if "timeout" in (a, b):
        return False
    return (a.endswith("xx") and b[0] == a[0]) or (b.endswith("xx") and a[0] == b[0])


@rule
def retry_classes(ctx: Context) -> Iterator[Finding]:
    retry = ctx.get("retry") or {}
    never = [status_spec(x) for x in retry["do_not_retry_on"]]
    for i, item in enumerate(retry["retry_on"]):
        spec = status_spec(item)
        clash = next((n for n in never if _overlaps(spec, n)), None)
        if clash:
            yield ctx.at(("retry", "retry_on", i), f"{spec} is also in do_not_retry_on "
                         f"({clash}); a status must be in one list only", "R008")


def cooldown_bounds(value: Any) -> tuple[float, float]:
    if isinstance(value, dict):
        return units.duration(value["min"]), units.duration(value["max"])
    if isinstance(value, str) and "-" in value:
        lo, rest = value.split("-", 1)
        unit = rest.strip().lstrip("0123456789 ")
        return units.duration(lo.strip() + unit), units.duration(rest.strip())
    return units.duration(value), units.duration(value)


@rule
def cooldown_order(ctx: Context) -> Iterator[Finding]:
    path = ("circuit_breaker", "metrics", "cooldown_period")
    lo, hi = cooldown_bounds(ctx.get(*path))
    if lo > hi:
        yield ctx.at(path, f"cooldown minimum ({lo:g}s) is above its maximum ({hi:g}s)",
                     "R009")
    elif lo < 1 or hi > 86400:  # LiteLLM's cooldown_time: seconds, and the breaker must open
        yield ctx.at(path, f"expected a cooldown between 1s and 1d, got {lo:g}s to {hi:g}s",
                     "R009")


@rule
def scaling_bounds(ctx: Context) -> Iterator[Finding]:
    inst = ctx.get("scaling", "agent_instances") or {}
    if inst["min"] > inst["max"]:
        yield ctx.at(("scaling", "agent_instances", "min"), f"min ({inst['min']}) is above "
                     f"max ({inst['max']})", "R010")


@rule
def kvlist_repeats(ctx: Context) -> Iterator[Finding]:
    """The same setting twice in a list-of-one-key-mappings block: the second would win."""
    def walk(node: Any, path: PathT) -> Iterator[Finding]:
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, (*path, k))
        elif isinstance(node, list):
            singles = [x for x in node if isinstance(x, dict) and len(x) == 1]
            if node and len(singles) == len(node):
                counts = Counter(next(iter(x)) for x in singles)
                for i, item in enumerate(singles):
                    key = next(iter(item))
                    if counts[key] > 1 and [next(iter(x)) for x in singles].index(key) != i:
                        yield ctx.doc.finding((*path, i, key), f"{key!r} is set more than "
                                              "once in this list", "R011", key=True)
            for i, v in enumerate(node):
                yield from walk(v, (*path, i))
    yield from walk(ctx.doc.data, ())


@rule
def security_level(ctx: Context) -> Iterator[Finding]:
    levels = [p["level"] for p in ctx.get("security", "permission_model") or []]
    level = ctx.get("security", "level")
    if levels and level not in levels:
        yield ctx.at(("security", "level"), f"level {level!r} is not defined in "
                     f"security.permission_model ({', '.join(levels)})", "R012")
    channel = ctx.get("security", "tool_approval", "human_approval_channel")
    channels = ctx.get("alerting", "channels") or {}
    if channel is not None and channel not in channels:
        yield ctx.at(("security", "tool_approval", "human_approval_channel"),
                     f"approval channel {channel!r} is not configured in alerting.channels",
                     "R013")


def secret_refs(data: dict[str, Any]) -> list[tuple[PathT, str]]:
    """Every .env key the config refers to, with where it refers to it."""
    refs: list[tuple[PathT, str]] = []
    for i, p in enumerate(data["routing"].get("providers") or []):
        if p.get("api_key_env"):
            refs.append((("routing", "providers", i, "api_key_env"), p["api_key_env"]))
    gateway = data.get("llm_gateway") or {}
    if gateway.get("enabled") and gateway.get("master_key_env"):
        refs.append((("llm_gateway", "master_key_env"), gateway["master_key_env"]))
    queue = (data.get("scaling") or {}).get("queue") or {}
    for key in ("database_url_env", "lock_redis_url_env"):
        if queue.get(key):
            refs.append((("scaling", "queue", key), queue[key]))
    channels = data["alerting"]["channels"]
    for name, key in (("telegram", "bot_token_env"), ("pagerduty", "routing_key_env"),
                      ("telegram", "chat_id_env"), ("webhook", "url_env")):
        if name not in channels:
            continue
        conf = channels[name]
        if isinstance(conf, dict) and conf.get(key):
            refs.append((("alerting", "channels", name, key), conf[key]))
        elif key in ("bot_token_env", "routing_key_env"):
            default = {"bot_token_env": "TELEGRAM_BOT_TOKEN",
                       "routing_key_env": "PAGERDUTY_ROUTING_KEY"}[key]
            refs.append((("alerting", "channels", name), default))
    return refs


@rule
def secrets_defined(ctx: Context) -> Iterator[Finding]:
    env = ctx.get("secrets", "env") or {}
    # A block lifted from the report names no sources: each key then comes from the
    # controller's variable of the same name (model._env_sources), said here, checked at plan.
    for path, key in secret_refs(ctx.data):
        if key not in env:
            yield ctx.at(path, f".env key {key!r} has no declared source: plan and apply read "
                         f"the controller's environment variable {key} (declare it under "
                         f"secrets.env, e.g. {key}: {{env: {key}}} or {{file: PATH}})", "W014",
                         severity=WARNING)
    if implicit_chat(ctx.data):
        yield ctx.at(("alerting", "channels", "telegram"), "telegram's chat has no chat_id, "
                     "chat_id_env or TELEGRAM_CHAT_ID source: plan and apply read the "
                     "controller's environment variable TELEGRAM_CHAT_ID", "W014",
                     severity=WARNING)


def implicit_chat(data: dict[str, Any]) -> bool:
    """Telegram configured with no chat of its own and no TELEGRAM_CHAT_ID source."""
    tg = (data["alerting"]["channels"] or {}).get("telegram", ...)
    return tg is not ... and not (isinstance(tg, dict) and (tg.get("chat_id") or
                                                             tg.get("chat_id_env"))) \
        and "TELEGRAM_CHAT_ID" not in ((data.get("secrets") or {}).get("env") or {})


# Variables the host scripts read from their compiled .conf files; an .env key of the same
# name would be shadowed by them (tests keep this list in step with the templates).
SCRIPT_VARIABLES = frozenset((
    "ACTIVE_PROVIDERS_FILE", "ALERT_CMD", "FAILOVER_JSON", "KNOWN_HOSTS", "REPLICA_RECORD",
    "REPLICA_RPO", "REPLICA_SINCE_FILE", "AUTOSCALE_REPORT", "DEPTH_QUERY", "DOWN_AT",
    "DOWN_OP", "LOCK_KEY", "LOCK_TTL", "LOCK_URL_ENV", "MAX_INSTANCES", "MIN_INSTANCES",
    "QUEUE_URL_ENV", "UP_AT", "UP_OP", "AUDIT_CHECKPOINT", "AUDIT_HITS_FILE", "AUDIT_KEY",
    "AUDIT_SEEN_FILE", "ALERT_DISK_USAGE", "ALERT_ERROR_RATE",
    "ALERT_LATENCY_P99", "ALERT_LOG", "ALERT_MEMORY_USAGE", "ALERT_STATE_DIR", "BACKUP_DIR",
    "BACKUP_EXCLUDE", "BACKUP_INCLUDE", "BACKUP_KEEP", "BREAKER_COOLDOWN_MAX",
    "BREAKER_COOLDOWN_MIN", "BREAKER_FAILURE_THRESHOLD", "BREAKER_PROBE_INTERVAL",
    "BUDGET_ACTIONS", "BUDGET_ALERT_AT", "BUDGET_LIMITS", "BUDGET_NAMES", "BUDGET_PROVIDERS",
    "BUDGET_RESETS", "BUDGET_SCOPES", "BUDGET_STATE_FILE", "CHANNELS", "CONFIG_SET_CMD",
    "DEDUP_WINDOW", "DEGRADE_HIGH_ERROR_RATE", "DEGRADE_HIGH_LATENCY",
    "DEGRADE_RESOURCE_PRESSURE", "DISK_MAX_USAGE", "ESCALATION_DELAY", "GATEWAY_URL", "HOME",
    "HOOK_URL", "HOOK_URL_ENV", "HOST_NAME", "LIVENESS_PATH", "LIVENESS_TIMEOUT", "LOG_DIR",
    "MAIL_FROM", "MAIL_TO", "MAINTENANCE_FLAG", "MEMORY_MIN_FREE", "METRICS_TEXTFILE",
    "MODEL_REFS", "MODE_ALL_PROVIDERS_DOWN", "PATH", "PD_API_URL", "PD_KEY_ENV",
    "PROVIDER_KEY_ENVS", "PROVIDER_NAMES", "PROVIDER_TIMEOUTS", "PROVIDER_URLS",
    "READINESS_PATH", "READINESS_TIMEOUT", "REGION", "REPORT_FILE", "RETRY_BACKOFF",
    "RETRY_INITIAL_DELAY", "RETRY_MAX_ATTEMPTS", "RETRY_MAX_DELAY", "RETRY_NEVER", "RETRY_ON",
    "ROOT", "STARTUP_DELAY", "STATE_DIR", "TG_API_URL", "TG_CHAT_ID", "TG_CHAT_ID_ENV",
    "TG_TOKEN_ENV", "UNITS", "USAGE_DIR", "WORKSPACE_DIR", "WORKSPACE_FILES",
    "ALL_WORKERS_OFF", "MANAGED", "MIN_REQUESTS", "MIN_WORKERS", "MODE_FILE",
    "MODE_MAINTENANCE", "MODE_RECORD", "OFF_DEGRADED", "OFF_FULL", "OFF_MAINTENANCE",
    "OFF_MINIMAL", "RECOVER_RUNS", "REQUEST_WINDOW",
))


# Variables that change how a program is loaded or a shell runs: a unit or script that reads
# the .env (some run as root) must never get them from openclaw.yaml.
LOADER_AND_SHELL = frozenset((
    "BASH_ENV", "BASH_FUNC", "CDPATH", "ENV", "GCONV_PATH", "GLOBIGNORE", "HOME", "HOSTALIASES",
    "IFS", "LOCALDOMAIN", "LOCPATH", "MALLOC_CHECK_", "NLSPATH", "NODE_OPTIONS", "NODE_PATH",
    "PATH", "PERL5LIB", "PERL5OPT", "PS4", "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP",
    "RES_OPTIONS", "SHELL", "SHELLOPTS", "TMPDIR", "TZDIR",
))


def dangerous_env_name(key: str) -> bool:
    return key in LOADER_AND_SHELL or key.startswith(("LD_", "BASH_FUNC_", "DYLD_"))


@rule
def env_keys_not_reserved(ctx: Context) -> Iterator[Finding]:
    for key in sorted(ctx.get("secrets", "env") or {}):
        if dangerous_env_name(key):
            yield ctx.at(("secrets", "env", key), f".env key {key!r} changes how programs "
                         "are loaded or how a shell runs (units and root-run scripts read the "
                         ".env); choose another name", "R017", key=True)
        elif key in SCRIPT_VARIABLES or key.startswith("OPENCLAW_"):
            yield ctx.at(("secrets", "env", key), f".env key {key!r} would clash with a "
                         "variable of the host scripts or OpenClaw; choose another name",
                         "R017", key=True)


@rule
def redis_socket_path_fits(ctx: Context) -> Iterator[Finding]:
    from openclaw.compile import llm_gateway
    socket = llm_gateway.redis_url(str(ctx.get("service", "root"))).removeprefix("unix://")
    redis = ctx.get("llm_gateway", "enabled") and ctx.get("caching", "exact", "enabled")
    if redis and len(socket.encode()) > 107:
        yield ctx.at(("service", "root"), f"the LLM gateway's Redis socket ({socket}) would be "
                     f"{len(socket.encode())} bytes long; a unix socket path has at most 107: "
                     "choose a shorter service.root", "R023")


@rule
def accounts_apart(ctx: Context) -> Iterator[Finding]:
    """The LLM gateway's account exists to keep the provider keys from the agent's."""
    user = ctx.get("llm_gateway", "user")
    if ctx.get("llm_gateway", "enabled") and user in (ctx.get("service", "user"),
                                                      ctx.get("service", "group")):
        yield ctx.at(("llm_gateway", "user"), f"llm_gateway.user {user!r} is the agent's own "
                     "account: the agent could read the provider keys from the proxy; choose "
                     "another name", "R024")
    for where in (("service", "user"), ("service", "group"), ("llm_gateway", "user")):
        name = ctx.get(*where)
        if isinstance(name, str) and len(name) > 32:
            yield ctx.at(where, f"{'.'.join(where)} is {len(name)} characters long; system "
                         "account names have at most 32", "R024")
        if name in ("root", "wheel", "sudo", "adm", "systemd-journal", "disk", "shadow"):
            yield ctx.at(where, f"{'.'.join(where)} {name!r} is a privileged system account: "
                         "the units' hardening assumes an unprivileged one of their own",
                         "R024")


@rule
def retry_classes_litellm_shares(ctx: Context) -> Iterator[Finding]:
    """LiteLLM retries 403 and 502 by one count (llm_gateway.default_retries_conflict)."""
    if not ctx.get("llm_gateway", "enabled"):
        return
    never = [status_spec(v) for v in ctx.get("retry", "do_not_retry_on") or []]
    on = {status_spec(v) for v in ctx.get("retry", "retry_on") or []}
    five = {"5xx", *(str(c) for c in range(500, 600) if c != 504)}
    if "403" in never and on & five:
        raw = ctx.doc.data.get("retry") if isinstance(ctx.doc.data, dict) else None
        written = isinstance(raw, dict) and "do_not_retry_on" in raw
        where = ("retry", "do_not_retry_on", never.index("403")) if written else \
            ("llm_gateway", "enabled")  # the defaults say so: point at what turned it on
        yield ctx.at(where, "the LLM gateway (LiteLLM) retries 403 "
                     "and 502 by one count: 403 is never retried, so neither is 502 Bad "
                     "Gateway (nor a refused connection); such a request goes to the "
                     "fallback provider at once", "W015", severity=WARNING)


@rule
def request_path_breaker_differs(ctx: Context) -> Iterator[Finding]:
    """W017: LiteLLM's cooldown is not the report's breaker; what the config asks of it that
    the request path does not do is said (the health check's own breaker does all of it)."""
    if not ctx.get("llm_gateway", "enabled"):
        return
    metrics = ("circuit_breaker", "metrics")
    written = [k for k in ("cooldown_period", "probe_interval")
               if _written(ctx, (*metrics, k))]
    lo, hi = cooldown_bounds(ctx.get(*metrics, "cooldown_period"))
    gaps = []
    if "cooldown_period" in written and hi > lo:
        gaps.append(f"it cools a provider down for cooldown_period.min ({lo:g}s) every time, "
                    "never growing towards the max")
    if "probe_interval" in written:
        gaps.append("it has no half-open probe: after the cooldown all traffic returns at once")
    if gaps:
        yield ctx.at((*metrics, written[0]), "on the request path the LLM gateway's breaker "
                     "(LiteLLM's cooldown) differs from this one: " + "; ".join(gaps)
                     + ". The health check's breaker on its probes does all of it", "W017",
                     severity=WARNING)


@rule
def cost_aware_needs_prices(ctx: Context) -> Iterator[Finding]:
    """R028: cost-aware routing compares prices; every provider must have one."""
    if ctx.get("routing", "strategy") != "cost_aware":
        return
    unpriced = [i for i, p in enumerate(ctx.get("routing", "providers") or [])
                if isinstance(p, dict) and not p.get("price")]
    if unpriced:
        yield ctx.at(("routing", "providers", unpriced[0]), "routing.strategy cost_aware "
                     "compares what providers charge: give every provider a price "
                     "(price: {input: USD, output: USD} per 1,000 tokens)", "R028")


# Directories a service root must not be, or be under: apply would make the service
# account own them, or write where the system keeps itself.
SYSTEM_DIRS = ("/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt",
               "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/local",
               "/var", "/var/lib")
SYSTEM_TREES = ("/proc/", "/sys/", "/dev/", "/run/", "/tmp/", "/boot/")


@rule
def service_root_is_its_own(ctx: Context) -> Iterator[Finding]:
    root = ctx.get("service", "root")
    if not isinstance(root, str):
        return
    where = ("service", "root")
    plain = root.rstrip("/") or "/"
    if "//" in root or posixpath.normpath(plain) != plain:
        yield ctx.at(where, "write the root plainly, as "
                     f"{posixpath.normpath(root.replace('//', '/'))!r}: no '.', '..' or '//' "
                     "(paths are compared as written)", "R027")
    elif plain in SYSTEM_DIRS or plain.startswith(SYSTEM_TREES):
        yield ctx.at(where, f"{plain!r} is a system directory: openclaw makes the root and "
                     "its directories the service account's; give it one of its own, such "
                     "as /opt/openclaw", "R027")


@rule
def ports_apart(ctx: Context) -> Iterator[Finding]:
    """Each listener on the host needs a port of its own (all bind loopback or more)."""
    taken: dict[int, str] = {}
    for where, on in ((("service", "gateway", "port"), True),
                      (("service", "dashboard", "port"), ctx.get("service", "dashboard",
                                                                 "enabled")),
                      (("llm_gateway", "port"), ctx.get("llm_gateway", "enabled"))):
        port = ctx.get(*where)
        if not on or not isinstance(port, int):
            continue
        if port in taken:
            yield ctx.at(where, f"port {port} is already {taken[port]}'s; each listener "
                         "needs its own", "R025")
        taken.setdefault(port, ".".join(where))


@rule
def commands_parse(ctx: Context) -> Iterator[Finding]:
    """The commands become ExecStart= lines: each must split into words the way a shell
    would, so that every word can be quoted and escaped for systemd."""
    from openclaw.compile.render import command_words
    for where in (("service", "worker", "command"), ("service", "dashboard", "command")):
        value = ctx.get(*where)
        if not isinstance(value, str):
            continue
        try:
            command_words(value)
        except ValueError as e:
            yield ctx.at(where, f"not a command line: {str(e).lower()}; write it as a shell "
                         "would take it (quote words with spaces; '%i' is the worker's "
                         "instance, every other '%' and '$' is taken literally)", "R026")


@rule
def redis_port_unused(ctx: Context) -> Iterator[Finding]:
    where = ("llm_gateway", "redis", "port")
    raw = ctx.doc.data.get("llm_gateway") if isinstance(ctx.doc.data, dict) else None
    redis = raw.get("redis") if isinstance(raw, dict) else None
    if isinstance(redis, dict) and "port" in redis:
        yield ctx.at(where, "no effect: the LLM gateway's Redis listens on a unix socket that "
                     "only its own account can reach (redis/redis.sock), "
                     "no TCP port",
                     "W011", severity=WARNING)


@rule
def no_secret_literals(ctx: Context) -> Iterator[Finding]:
    for path, value in scan(ctx.doc.data):
        how = ("write env/NAME instead: octoDNS reads it from the controller's environment"
               if tuple(path[:3]) == ("deployment", "dns", "provider") else
               "add a key under secrets.env with its source ({env: VAR} or {file: PATH}) and "
               "refer to that key")
        yield ctx.doc.finding(path, "this looks like a secret value; openclaw.yaml must not "
                              f"hold secrets: {how}", "R016",
                              key=bool(path) and path[-1] == value)


@rule
def semantic_cache_store(ctx: Context) -> Iterator[Finding]:
    if ctx.get("caching", "semantic", "enabled") and \
            ctx.get("caching", "cache_backend") in ("redis", "memory"):
        yield ctx.at(("caching", "semantic", "enabled"), "the semantic cache needs a "
                     "vector-capable store (cache_backend: redis-stack or qdrant); with "
                     f"{ctx.get('caching', 'cache_backend')} requests pass uncached",
                     "W001", severity=WARNING)
    elif ctx.get("caching", "semantic", "enabled") and ctx.get("llm_gateway", "enabled"):
        yield ctx.at(("caching", "semantic", "enabled"), "the LLM gateway compiles the exact "
                     "cache only: openclaw provisions Debian's Redis, which has no vector "
                     f"search, not {ctx.get('caching', 'cache_backend')}; requests are not "
                     "cached by meaning", "W002", severity=WARNING)


@rule
def llm_gateway_install(ctx: Context) -> Iterator[Finding]:
    install = ctx.get("llm_gateway", "install") or {}
    if install.get("method") == "wheels" and not install.get("wheels"):
        yield ctx.at(("llm_gateway", "install", "method"), "install method 'wheels' needs "
                     "llm_gateway.install.wheels: the controller directory of the wheels",
                     "R018")


@rule
def remote_log_destination(ctx: Context) -> Iterator[Finding]:
    dest = ctx.get("logging", "destinations") or {}
    remote = dest.get("remote") if isinstance(dest, dict) else None
    if isinstance(remote, str) and not remote.startswith(("http://", "https://")):
        yield ctx.at(("logging", "destinations", "remote"), f"logs are not shipped to "
                     f"{remote!r}: name the http(s) URL of a systemd-journal-remote receiver "
                     "(or a collector that speaks its protocol)", "W003", severity=WARNING)


# What nothing on the host enforces (W005); max_length only without the LLM gateway.
UNENFORCED_SAFETY = {
    ("safety", "input", "filter_prompts"): "no component on the host filters prompts by "
    "content (LiteLLM's keyword guardrails are enterprise-only)",
    ("safety", "input", "validate_json"): "OpenClaw checks tool arguments against each "
    "tool's own schema; there is no setting for openclaw to compile",
    ("safety", "output", "sanitize_tool_calls"): "there is no setting in OpenClaw or the LLM "
    "gateway for openclaw to compile",
    ("safety", "output", "rate_limit_per_user"): "per-user limits need LiteLLM virtual keys, "
    "which need PostgreSQL",
}


@rule
def safety_enforcement(ctx: Context) -> Iterator[Finding]:
    """Say which safety settings are not enforced on the host, instead of accepting them."""
    checks = dict(UNENFORCED_SAFETY)
    if not ctx.get("llm_gateway", "enabled"):
        checks[("safety", "input", "max_length")] = "input length is enforced by the LLM " \
            "gateway (llm_gateway.enabled), which is off"
    for path, why in checks.items():
        raw = ctx.origins.get(path)
        if raw and raw[-1] == path[-1]:  # set in the file, not a default
            yield ctx.at(path, f"not enforced: {why}", "W005", severity=WARNING)


@rule
def approval_only_for_exec(ctx: Context) -> Iterator[Finding]:
    """OpenClaw asks a human only before exec; other tools that need approval are denied."""
    budgets = ctx.get("cost_management", "budgets") or []
    if budgets and not ctx.get("llm_gateway", "enabled"):
        yield ctx.at(("cost_management", "budgets"), "no effect on the host without the LLM "
                     "gateway (cost_management.budgets): its usage records are what the "
                     "budget check counts; nothing else records tokens", "W016",
                     severity=WARNING)
    approval = ctx.get("security", "tool_approval") or {}
    auto = openclaw_tools(approval.get("auto_approve") or [])
    for i, name in enumerate(approval.get("require_approval") or []):
        tools = sorted(openclaw_tools([name]) - APPROVABLE - auto)
        if tools:
            yield ctx.at(("security", "tool_approval", "require_approval", i),
                         f"OpenClaw asks for approval only before exec: {name} "
                         f"({', '.join(tools)}) is denied instead", "W006", severity=WARNING)


@rule
def escalation_needs_a_second_channel(ctx: Context) -> Iterator[Finding]:
    raw = ctx.doc.data.get("alerting") if isinstance(ctx.doc.data, dict) else None
    suppression = raw.get("suppression") if isinstance(raw, dict) else None
    channels = ctx.get("alerting", "channels") or {}
    if isinstance(suppression, dict) and "escalation_delay" in suppression \
            and len(channels) < 2:
        yield ctx.at(("alerting", "suppression", "escalation_delay"), "no effect: an alert "
                     "still firing escalates to the next channel of alerting.channels, and "
                     "there is only one; add a second channel", "W012", severity=WARNING)


@rule
def health_check_fits_its_interval(ctx: Context) -> Iterator[Finding]:
    from openclaw.compile.timing import health_check_worst
    from openclaw.model import build
    try:
        cfg = build(ctx.data)
    except (ValueError, KeyError, TypeError, AttributeError):
        return  # other findings say why
    worst, interval = health_check_worst(cfg), cfg.health_checks.interval
    # Providers that hang are what makes a run long (the gateway is local and its probe
    # timeouts short); without a provider endpoint there is nothing to warn of.
    probed = any(p.endpoint for p in cfg.routing.providers)
    where = ("health_checks", "interval") if ctx.get("health_checks", "interval") else \
        ("health_checks",)
    if probed and worst > interval:
        yield ctx.at(where, f"a health-check run can take up to {worst:g}s "
                     f"(every probe retried retry.max_attempts times up to its timeout), "
                     f"longer than its interval of {interval:g}s: runs start late; lower "
                     "retry.max_attempts or the probe timeouts", "W013", severity=WARNING)


@rule
def autoscaler(ctx: Context) -> Iterator[Finding]:
    """Dynamic workers need the queue to read; the triggers must be about its depth."""
    model = ctx.get("orchestration", "worker_model")
    if isinstance(model, list) and model and isinstance(model[0], dict):
        model = next(iter(model[0]))  # the report's list form: its first entry is in force
    if model != "dynamic":
        return
    if not ctx.get("scaling", "queue", "database_url_env"):
        yield ctx.at(("orchestration", "worker_model"), "dynamic workers are not scaled: "
                     "name the queue's database in scaling.queue.database_url_env; instances "
                     "stay at scaling.agent_instances.min", "W007", severity=WARNING)
        return
    for key in ("scale_up_trigger", "scale_down_trigger"):
        trigger = str(ctx.get("scaling", "agent_instances", key) or "")
        if trigger.split(" ")[0].strip() != "queue_depth" and \
                not trigger.strip().startswith("queue_depth"):
            yield ctx.at(("scaling", "agent_instances", key), f"the autoscaler reads the "
                         f"queue depth only: write {key} as 'queue_depth > N'", "R019")


@rule
def approval_channel_route(ctx: Context) -> Iterator[Finding]:
    """OpenClaw sends exec approval prompts through its own chat channels only."""
    approval = ctx.get("security", "tool_approval") or {}
    channel = approval.get("human_approval_channel")
    path = ("security", "tool_approval", "human_approval_channel")
    raw = ctx.origins.get(path)
    if channel and channel != "telegram" and raw and raw[-1] == path[-1]:
        yield ctx.at(path, f"OpenClaw routes exec approval prompts only through its chat "
                     f"channels (telegram here), not {channel}: approvals stay in the Control "
                     "UI", "W008", severity=WARNING)


# Settings the report lists that change nothing on the host, by block, and why (W009).
DOCUMENTATION_ONLY: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("cost_management", "tracking"), ("granularity", "aggregation", "export"),
     "the budget check reads per-request usage records and sums them per budget period; "
     "there is no separate tracking pipeline to configure"),
    (("metrics",), ("types", "aggregation", "dashboard"),
     "hosts export a Prometheus textfile (metrics.textfile); aggregation and dashboards are "
     "the scraper's (and openclaw status)"),
    (("orchestration",), ("message_queue", "load_balancing"),
     "the queue and how workers take tasks from it are the application's; openclaw reads "
     "the depth through scaling.queue"),
    (("scaling",), ("load_distribution", "state_sharing"),
     "coordination and shared state are the application's; the autoscaler's own lock is "
     "scaling.queue.lock_redis_url_env"),
)


# Settings with a meaning on the host that nothing there implements (W016): each block's
# keys written in openclaw.yaml, and why.
NO_EFFECT: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("health_checks", "liveness"), ("interval", "failure_threshold"),
     "the health check probes once per run (health_checks.interval), retried per retry.*; "
     "there is no separate liveness schedule or count"),
    (("health_checks", "readiness"), ("interval",),
     "the readiness probe runs once per health-check run"),
    (("health_checks", "startup"), ("endpoint",),
     "a gateway that is still starting is judged by its unit's state and "
     "startup.initial_delay, not by a probe"),
    (("routing", "failover"), ("status_codes",),
     "the LLM gateway falls back after any error once retries are spent; the list reaches "
     "failover.json only"),
    (("secrets", "storage"), ("exclude_from_git",),
     "openclaw.yaml holds no secret values (R016); keeping their sources out of git is yours"),
    (("secrets", "injection"), ("environment_variables",),
     "values always reach the units as environment files (EnvironmentFile=)"),
    (("logging",), ("fields",),
     "OpenClaw and LiteLLM write their own record fields; openclaw sets format and level"),
    (("logging", "destinations"), ("local_file", "stdout"),
     "OpenClaw logs under <root>/logs/ and every unit to the journal in any case"),
    (("logging", "retention"), ("remote",), "kept by the receiving end"),
    (("cost_management", "tracking"), ("usage_file",),
     "the LLM gateway writes the usage records, one file per day under <root>/usage/"),
)


def _written(ctx: Context, npath: PathT) -> bool:
    raw = ctx.origins.get(npath)
    return bool(raw) and raw is not None and raw[-1] == npath[-1]


@rule
def no_effect(ctx: Context) -> Iterator[Finding]:
    """W016: what openclaw.yaml says that no component on the host implements."""
    for block, keys, why in NO_EFFECT:
        present = [k for k in keys if _written(ctx, (*block, k))]
        if present:
            names = ", ".join(".".join((*block, k)) for k in present)
            yield ctx.at((*block, present[0]), f"no effect on the host ({names}): {why}",
                         "W016", severity=WARNING)
    providers = ctx.get("routing", "providers") or []
    graded = [i for i, p in enumerate(providers) if _written(ctx, ("routing", "providers", i,
                                                                     "threshold"))]
    if graded:
        yield ctx.at(("routing", "providers", graded[0], "threshold"), "no effect on the host "
                     "(routing.providers[].threshold): providers are tried in order; nothing "
                     "grades requests by complexity (the value reaches failover.json only)",
                     "W016", severity=WARNING)
    yield from _dns_keys(ctx)
    if ctx.get("secrets", "audit", "log_access") and "auditd" not in (
            ctx.get("service", "packages") or []):
        yield ctx.at(("secrets", "audit", "log_access"), "the audit rules are written, but "
                     "they load only where auditd runs, which openclaw does not install: add "
                     "auditd to service.packages", "W016", severity=WARNING)
    failover = [k for k in ("on_error", "on_timeout", "on_rate_limit")
                if _written(ctx, ("routing", "failover", k))]
    if failover and not ctx.get("llm_gateway", "enabled"):
        yield ctx.at(("routing", "failover", failover[0]), "no effect on the host without the "
                     "LLM gateway (routing.failover." + ", routing.failover.".join(failover)
                     + "): OpenClaw moves to its fallback models on any error; the values "
                     "reach failover.json only", "W016", severity=WARNING)
    approval = ctx.get("security", "tool_approval") or {}
    auto = set(approval.get("auto_approve") or []) if isinstance(approval, dict) else set()
    asked = set(approval.get("require_approval") or []) if isinstance(approval, dict) else set()
    if auto and not auto & asked and _written(ctx, ("security", "tool_approval",
                                                     "auto_approve")):
        yield ctx.at(("security", "tool_approval", "auto_approve"), "no effect on the host "
                     "(security.tool_approval.auto_approve): only tools in require_approval "
                     "are ever asked about; these run without asking in any case", "W016",
                     severity=WARNING)
    yield from _modes_on_the_request_path(ctx)
    if ctx.get("logging", "tracing", "endpoint"):
        yield ctx.at(("logging", "tracing", "endpoint"), "only the OTEL_* environment is set: "
                     "OpenClaw sends spans only with its diagnostics.otel settings and the LLM "
                     "gateway's virtualenv has no OTLP exporter, so no trace reaches the "
                     "endpoint", "W016", severity=WARNING)


def _dns_keys(ctx: Context) -> Iterator[Finding]:
    """Region weights and latency_routing mean something through deployment.dns only."""
    regions = [r for r in ctx.get("deployment", "regions") or [] if isinstance(r, dict)]
    dns = ctx.get("deployment", "dns", "zone")
    if len(regions) > 1 and not dns:
        yield ctx.at(("deployment", "regions", 0, "weight"), "no effect without "
                     "deployment.dns (deployment.regions[].weight): written to failover.json "
                     "only; `openclaw dns` publishes the weights when it is set", "W016",
                     severity=WARNING)
    failover = ("deployment", "failover")
    if _written(ctx, (*failover, "automatic")) and ctx.get(*failover, "automatic"):
        replicated = ("it restores the replicas" if ctx.get(*failover, "replicate") else
                      "state is not replicated: set replicate")
        yield ctx.at((*failover, "automatic"), "decided only where `openclaw failover "
                     "--auto` runs: put it on a schedule (cron, a systemd timer, a CI "
                     "schedule) on a controller; the DNS provider's health checks are not "
                     f"used ({replicated})", "W016", severity=WARNING)
    if _written(ctx, (*failover, "rto")) and not dns:
        yield ctx.at((*failover, "rto"), "no effect without deployment.dns "
                     "(deployment.failover.rto): `openclaw failover` measures its time "
                     "against it", "W016", severity=WARNING)
    if not _written(ctx, ("deployment", "latency_routing")):
        return
    if not dns:
        yield ctx.at(("deployment", "latency_routing"), "no effect without deployment.dns "
                     "(deployment.latency_routing): written to failover.json only", "W016",
                     severity=WARNING)
    elif not any(r.get("geos") for r in regions):
        yield ctx.at(("deployment", "latency_routing"), "no effect: no region has geos, so "
                     "every client gets the answer weighted by region", "W016",
                     severity=WARNING)


def _modes_on_the_request_path(ctx: Context) -> Iterator[Finding]:
    """The LLM gateway moves OpenClaw to its fallback model (from DEGRADED on) and takes its
    tools away (MAINTENANCE); without it those modes stop units only."""
    listed = ctx.get("degradation", "modes")
    if not isinstance(listed, list) or not _written(ctx, ("degradation", "modes")):
        return
    names = {n for item in listed for n in (item if isinstance(item, dict) else [item])
             if isinstance(n, str)}
    gateway = ctx.get("llm_gateway", "enabled")
    changed = sorted(names & {"DEGRADED", "MINIMAL", "MAINTENANCE"})
    if changed and not gateway:
        yield ctx.at(("degradation", "modes"), f"{', '.join(changed)} only stop units "
                     "without the LLM gateway, which applies the rest of a mode on the request "
                     "path (OpenClaw's fallback model; no tools in MAINTENANCE)",
                     "W016", severity=WARNING)
        return
    providers = ctx.get("routing", "providers") or []
    failover = ctx.get("routing", "failover") or {}
    chained = isinstance(failover, dict) and any(
        failover.get(k, True) for k in ("on_error", "on_timeout", "on_rate_limit"))
    if changed and (len(providers) < 2 or not chained or ctx.get("routing", "strategy") not in
                    (None, "priority", "quality_aware")):
        yield ctx.at(("degradation", "modes"), f"{', '.join(changed)}: OpenClaw keeps its "
                     "model (a fallback model needs a failover chain of two providers or more, "
                     "routing.strategy priority or quality_aware)", "W016", severity=WARNING)


@rule
def documentation_only(ctx: Context) -> Iterator[Finding]:
    """Say which of the report's settings are descriptions only, one warning per block."""
    for block, keys, why in DOCUMENTATION_ONLY:
        present = [k for k in keys if (raw := ctx.origins.get((*block, k))) and raw[-1] == k]
        if present:
            names = ", ".join(".".join((*block, k)) for k in present)
            yield ctx.at((*block, present[0]), f"documentation only ({names}): {why}",
                         "W009", severity=WARNING)
    storage = ctx.get("secrets", "storage") or {}
    injection = ctx.get("secrets", "injection") or {}
    if isinstance(storage, dict) and storage.get("rotate_enabled"):
        yield ctx.at(("secrets", "storage", "rotate_enabled"), "secrets are not rotated on "
                     "the host: rotate them at their source; the next apply ships the new "
                     "values", "W009", severity=WARNING)
    if isinstance(injection, dict) and injection.get("secrets_service"):
        yield ctx.at(("secrets", "injection", "secrets_service"), "no secrets service is "
                     "used: values reach the units through the .env (EnvironmentFile=)",
                     "W009", severity=WARNING)
