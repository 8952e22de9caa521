"""Which secrets each unit gets: one environment file per consumer, each holding only the
keys that consumer uses (root's, mode 0600: systemd reads them before it drops privileges).

The agent's own account never holds a provider key while the LLM gateway does: the gateway
reaches its models with the LLM gateway's master key, and the health check probes providers
without a key (the LLM gateway runs as an account of its own)."""

from __future__ import annotations

from collections.abc import Iterable

from openclaw.compile import llm_gateway
from openclaw.model import Config, SecretSource

# Consumer -> the file under config/ its units read.
FILES = {
    "gateway": "gateway.env",          # the OpenClaw gateway
    "checks": "checks.env",            # health and budget checks (they alert; budget drives
                                       # OpenClaw's CLI, which loads openclaw.json's refs)
    "workers": "workers.env",          # queue workers and the dashboard (operator programs)
    "autoscale": "autoscale.env",      # the root-run autoscaler: the queue and lock URLs
    "llm-gateway": "llm-gateway.env",  # the LiteLLM proxy: provider keys, master key
}


def channel_keys(cfg: Config) -> list[str]:
    """The .env keys the alert channels read."""
    keys: list[str] = []
    for channel in cfg.alerting.channels:
        for setting in ("bot_token_env", "chat_id_env", "routing_key_env", "url_env"):
            value = channel.get(setting)
            if value:
                keys.append(str(value))
    return keys


def _approval_keys(cfg: Config) -> list[str]:
    """OpenClaw's Telegram channel (exec approvals) reads the alert bot's token itself."""
    from openclaw.compile import documents
    if not documents.approval_route(cfg, documents.tool_policy(cfg)):
        return []
    channel = next(c for c in cfg.alerting.channels if c.kind == "telegram")
    return [str(v) for v in (channel.get("bot_token_env"), channel.get("chat_id_env")) if v]


def keys_by_consumer(cfg: Config) -> dict[str, tuple[str, ...]]:
    """Consumer -> the .env keys it gets, in secrets.env's order. Keys the config does not
    refer to are the operator's own: they go to the operator's programs (workers, dashboard)."""
    gw = cfg.llm_gateway
    providers = [p.api_key_env for p in cfg.routing.providers if p.api_key_env]
    master = [gw.master_key_env] if gw.enabled and gw.master_key_env else []
    model_keys = master if gw.enabled else providers
    token = [cfg.service.gateway_token_env]
    queue = [k for k in (cfg.scaling.queue_url_env, cfg.scaling.lock_url_env) if k]
    channels = channel_keys(cfg)
    referred = set(providers) | set(master) | set(token) | set(queue) | set(channels)
    own = [k for k, _ in cfg.secrets.env if k not in referred]
    wanted: dict[str, Iterable[str]] = {
        "gateway": [*token, *model_keys, *_approval_keys(cfg)],
        "checks": [*token, *model_keys, *channels],
        "workers": [*token, *queue, *own],
        "autoscale": queue if cfg.scaling.autoscaled else (),
        "llm-gateway": llm_gateway.env_names(cfg) if gw.enabled else (),
    }
    out: dict[str, tuple[str, ...]] = {}
    for name, keys in wanted.items():
        chosen = set(keys)
        out[name] = tuple(k for k, _ in cfg.secrets.env if k in chosen)
    return out


def entries(cfg: Config) -> dict[str, tuple[tuple[str, SecretSource], ...]]:
    """Consumer -> its keys with their sources (the same for every host of a fleet)."""
    sources = dict(cfg.secrets.env)
    return {name: tuple((k, sources[k]) for k in keys)
            for name, keys in keys_by_consumer(cfg).items()}
