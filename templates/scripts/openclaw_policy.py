"""openclaw's policy on the request path, run by the LLM gateway (LiteLLM's custom-callback
mechanism: litellm_settings.callbacks in llm-gateway.yaml names `openclaw_policy.policy`).

The degradation mode in force: before each request it reads root's record "MODE SINCE"
(mode.sh writes it when the health check changes the mode) and applies that mode's policy
from policy.json:

    {"record": PATH, "modes": {MODE: {"reroute": {GROUP: GROUP}, "tools": BOOL}}}

reroute: a request for the first group is served by the second (from DEGRADED on, OpenClaw's
primary model group by its first fallback); tools false: the request loses its tool
definitions, so the model can call no tool (MAINTENANCE). A record that cannot be read, or
that names no known mode, means FULL: nothing changes.

The breaker: LiteLLM counts a provider's failures within its cooldown window, and a success
in between does not reset the count, so fail, succeed, fail, succeed, fail would cool a
healthy provider down. A call the provider answered deletes that count, so the cooldown
comes after circuit_breaker.metrics.failure_threshold failures in a row, as configured.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

log = logging.getLogger("openclaw_policy")
# Everything in an OpenAI-style request that offers the model a tool.
TOOL_KEYS = ("tools", "tool_choice", "functions", "function_call", "parallel_tool_calls")


def _settings() -> dict[str, Any]:
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "policy.json")) as fh:
        return dict(json.load(fh))


def fails_key(deployment: str) -> str:
    """LiteLLM's (1.108.7) count of a deployment's failures, with a router-level
    allowed_fails_policy (router_utils/cooldown_handlers.py)."""
    return f"deployment:{deployment}:allowed_fails"


class Policy(CustomLogger):  # type: ignore[misc]
    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__()
        settings = _settings() if settings is None else settings
        self.record = str(settings["record"])
        self.modes: dict[str, dict[str, Any]] = dict(settings["modes"])

    def mode(self) -> str:
        """The mode in force; FULL when the record is missing or unreadable."""
        try:
            with open(self.record, "rb") as fh:
                word = fh.read(64).split(None, 1)[0].decode("ascii")
        except (OSError, IndexError, UnicodeDecodeError):
            return "FULL"
        return word if word in self.modes else "FULL"

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        mode = self.mode()
        policy = self.modes.get(mode, {})
        target = policy.get("reroute", {}).get(data.get("model"))
        if target:
            log.info("openclaw mode %s: %s served by %s", mode, data.get("model"), target)
            data["model"] = target
        if policy.get("tools") is False:
            for key in TOOL_KEYS:
                data.pop(key, None)
        return data

    # Called by the proxy before routing (and before its cache is asked), for every call type.
    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any,
                                  data: dict[str, Any], call_type: Any) -> dict[str, Any]:
        return self.apply(data)

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any,
                                      end_time: Any) -> None:
        slo = kwargs.get("standard_logging_object") if isinstance(kwargs, dict) else None
        if not isinstance(slo, dict) or slo.get("cache_hit") or not slo.get("model_id"):
            return  # a cached answer asked no provider
        try:
            from litellm.proxy.proxy_server import llm_router
            if llm_router is not None:
                await llm_router.cache.async_delete_cache(fails_key(str(slo["model_id"])))
        except Exception as e:  # never worth a failed request
            log.warning("openclaw policy: failure count not reset: %s", type(e).__name__)


policy = Policy()
