"""openclaw's degradation modes on the request path, run by the LLM gateway (LiteLLM's
custom-callback mechanism: litellm_settings.callbacks in llm-gateway.yaml names
`openclaw_mode.policy`).

Before each request it reads the mode in force (root's record "MODE SINCE", which mode.sh
writes when the health check changes the mode) and applies that mode's policy from
mode-policy.json:

    {"record": PATH, "modes": {MODE: {"reroute": {GROUP: GROUP}, "tools": BOOL}}}

reroute: a request for the first group is served by the second (from DEGRADED on, OpenClaw's
primary model group by its first fallback); tools false: the request loses its tool
definitions, so the model can call no tool (MAINTENANCE). A record that cannot be read, or
that names no known mode, means FULL: nothing changes.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

log = logging.getLogger("openclaw_mode")
# Everything in an OpenAI-style request that offers the model a tool.
TOOL_KEYS = ("tools", "tool_choice", "functions", "function_call", "parallel_tool_calls")


def _settings() -> dict[str, Any]:
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "mode-policy.json")) as fh:
        return dict(json.load(fh))


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


policy = Policy()
