"""JSON artifacts, built as data and dumped with sorted keys: never templated JSON text."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from openclaw.compile import llm_gateway
from openclaw.model import Config
from openclaw.tool_names import APPROVABLE, openclaw_tools

FORMAT_VERSION = 1


def dumps(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# Where a host's replication block goes in its region's failover.json (a value no config
# can hold: drawn afresh each run, replaced before anything is written).
_SLOT = f"\x00{secrets.token_hex(8)}\x00"


def failover_json(region_text: Callable[[Any], str], replication: dict[str, Any] | None
                  ) -> str:
    """failover.json's text: `region_text(slot)` dumps the region's document (built once per
    region by the caller) and each host's replication block is spliced in, as dumps() would
    have written it. An indented dump is pure Python: one per host of a fleet of 1,000 cost
    0.4 s."""
    if replication is None:
        return region_text(None)
    block = json.dumps(replication, sort_keys=True, indent=2, ensure_ascii=False)
    slot = json.dumps(_SLOT, ensure_ascii=False)
    return region_text(_SLOT).replace(slot, block.replace("\n", "\n  "), 1)


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def failover(cfg: Config, region: str, replication: Any = None
             ) -> dict[str, Any]:
    """Routing, retry, breaker, budgets and regions as this host needs them; with
    deployment.failover.replicate, the host's replication peer and sources."""
    fo = cfg.routing.failover
    triggers = {"on_error": fo.on_error, "on_timeout": fo.on_timeout,
                "on_rate_limit": fo.on_rate_limit, "status_codes": list(fo.status_codes)}
    dep = cfg.deployment
    own = dep.region(region)
    return {
        "format_version": FORMAT_VERSION,
        **({"replication": replication} if replication is not None else {}),
        "routing": {"strategy": cfg.routing.strategy},
        "providers": [
            {"name": p.name, "model": p.model, "priority": i, "endpoint": p.endpoint,
             "api_key_env": p.api_key_env, "complexity": p.threshold,
             "timeout_seconds": _num(p.timeout), "triggers": triggers}
            for i, p in enumerate(cfg.routing.providers, start=1)],
        "retry": {
            "max_attempts": cfg.retry.max_attempts, "backoff": cfg.retry.backoff,
            "initial_delay_seconds": _num(cfg.retry.initial_delay),
            "max_delay_seconds": _num(cfg.retry.max_delay),
            "retry_on": list(cfg.retry.retry_on),
            "do_not_retry_on": list(cfg.retry.do_not_retry_on)},
        "circuit_breaker": {
            "failure_threshold": cfg.circuit_breaker.failure_threshold,
            "cooldown_min_seconds": _num(cfg.circuit_breaker.cooldown_min),
            "cooldown_max_seconds": _num(cfg.circuit_breaker.cooldown_max),
            "probe_interval_seconds": _num(cfg.circuit_breaker.probe_interval)},
        "budgets": [
            {"name": b.name, "limit_tokens": b.limit_tokens, "scope": b.scope,
             "providers": list(b.providers), "alert_threshold": _num(b.alert_threshold),
             "action": b.action, "reset": b.reset}
            for b in cfg.budgets],
        "region": {"name": own.name, "weight": _num(own.weight)},
        "failover_regions": [
            {"name": r.name, "weight": _num(r.weight), "priority": i}
            for i, r in enumerate(dep.peers(region), start=1)],
        "regional_failover": {"automatic": dep.automatic_failover,
                              "rpo_seconds": _num(dep.rpo), "rto_seconds": _num(dep.rto),
                              "latency_routing": dep.latency_routing},
    }


def openclaw_managed(cfg: Config, log_dir: str) -> dict[str, Any]:
    """The keys openclaw owns inside OpenClaw's own openclaw.json; merged on the host, every
    other key OpenClaw wrote is kept (while the budget check has switched providers, the
    merge takes the model order from state/active-providers)."""
    order = list(dict.fromkeys(llm_gateway.model_refs(cfg)))
    style = "json" if cfg.logging.format == "json" else "pretty"
    svc = cfg.service
    doc: dict[str, Any] = {
        # Without providers, OpenClaw keeps the model it was onboarded with.
        **({"agents": {"defaults": {"model": {"primary": order[0], "fallbacks": order[1:]}}}}
           if order else {}),
        # A production gateway: runs channels and agents here, listens where configured,
        # and asks every client for the token from the .env (a SecretRef: the value never
        # enters this file).
        "gateway": {"port": svc.gateway_port, "mode": "local", "bind": svc.gateway_bind,
                    "auth": {"mode": "token", "token": {
                        "source": "env", "provider": "default",
                        "id": svc.gateway_token_env}}},
        "logging": {"level": cfg.logging.level, "consoleStyle": style,
                    "file": f"{log_dir}/openclaw.log",
                    **({"redactPatterns": redact_patterns(cfg.safety.filter_sensitive)}
                       if cfg.safety.filter_sensitive else {})},
        # The version is pinned by openclaw.yaml: OpenClaw must not update itself, nor fetch
        # its hosted model catalog (a lookup of catalog.openclaw.ai at every start).
        "update": {"checkOnStart": False, "auto": {"enabled": False}},
        "models": {"catalogRefresh": {"enabled": False}},
    }
    doc["tools"] = tool_policy(cfg)
    approvals = approval_route(cfg, doc["tools"])
    if approvals:
        doc["channels"] = approvals
    if cfg.llm_gateway.enabled:
        doc["models"]["providers"] = {cfg.llm_gateway.provider:
                                      llm_gateway.openclaw_provider(cfg)}
    return doc


def unset_owned(cfg: Config, doc: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    """The keys of openclaw.json that openclaw sets under some config and `doc` (this
    config's) does not: removed from the host's copy, so a setting turned off leaves."""
    owned = (("models", "providers", cfg.llm_gateway.provider), ("logging", "redactPatterns"),
             ("tools", "allow"), ("tools", "deny"), ("channels", "telegram", "execApprovals"))

    def has(node: Any, path: tuple[str, ...]) -> bool:
        return not path or (isinstance(node, dict) and path[0] in node
                            and has(node[path[0]], path[1:]))
    return tuple(p for p in owned if not has(doc, p))


# Setting redactPatterns replaces OpenClaw's own defaults, so the common credential shapes
# are kept alongside the keys safety.output.filter_sensitive names.
CREDENTIAL_SHAPES = (r"\bsk-[A-Za-z0-9_-]{16,}", r"\bBearer\s+[A-Za-z0-9._~+/=-]{16,}",
                     r"\b\d{6,}:[A-Za-z0-9_-]{30,}")


def redact_patterns(keys: tuple[str, ...]) -> list[str]:
    """`api_key: xyz`, `"password"="xyz"`, `token=xyz` for each key, and credential shapes."""
    import re
    named = [rf"\b{re.escape(k)}[\"']?\s*[:=]\s*[\"']?[^\s\"',}}]+" for k in keys]
    return [*named, *CREDENTIAL_SHAPES]


def tool_policy(cfg: Config) -> dict[str, Any]:
    """security.level's permissions and tool_approval as OpenClaw's tool settings: a base
    profile, the allow list of the level in force, and exec approvals (OpenClaw asks a human
    only before exec: other tools that require approval are denied instead)."""
    sec = cfg.security
    if sec.level == "none":
        return {"profile": "minimal", "exec": {"security": "deny", "ask": "off"}}
    level = next((p for p in sec.permission_model if p.level == sec.level), None)
    allowed = openclaw_tools(level.allowed if level else ("*",))
    everything = "*" in allowed
    needs_human = openclaw_tools(sec.require_approval) - openclaw_tools(sec.auto_approve)
    refused = (needs_human - APPROVABLE) if everything else \
        (needs_human - APPROVABLE) & allowed
    out: dict[str, Any] = {"profile": "full"}
    if not everything:
        out["allow"] = sorted(allowed - refused)
    if refused:
        out["deny"] = sorted(refused)
    may_exec = everything or bool(APPROVABLE & allowed)
    security = "deny" if not may_exec else ("full" if sec.level == "unrestricted"
                                            else "allowlist")
    ask = "off"
    if may_exec:
        ask = "always" if APPROVABLE & needs_human else \
            ("on-miss" if security == "allowlist" else "off")
    out["exec"] = {"security": security, "ask": ask}
    return out


def approval_route(cfg: Config, tools: dict[str, Any]) -> dict[str, Any]:
    """security.tool_approval.human_approval_channel: OpenClaw's Telegram channel becomes an
    exec-approval client whose approver is the alert chat (OpenClaw reads the bot token from
    TELEGRAM_BOT_TOKEN, the same .env key the alerts use). Other channels: W008."""
    if tools.get("exec", {}).get("ask", "off") == "off":
        return {}
    name = cfg.security.human_approval_channel
    channel = next((c for c in cfg.alerting.channels if c.kind == name), None)
    if name != "telegram" or channel is None:
        return {}
    chat = channel.get("chat_id") or f"${{{channel.get('chat_id_env')}}}"
    return {"telegram": {"execApprovals": {"enabled": True, "approvers": [str(chat)],
                                           "target": "dm"}}}
