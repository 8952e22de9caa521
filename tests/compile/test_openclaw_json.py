"""What openclaw sets in OpenClaw's own openclaw.json for security.level, tool_approval and
the approval channel, case by case."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from openclaw.compile import documents
from tests.compile.cases import plans, sources


def config(level: str, **approval: Any) -> Any:
    from openclaw.project import load
    cfg = load(*map(str, sources("reference"))).config
    sec = dataclasses.replace(cfg.security, level=level, **approval)
    return dataclasses.replace(cfg, security=sec)


@pytest.mark.parametrize("level, approval, tools", [
    ("none", {}, {"profile": "minimal", "exec": {"security": "deny", "ask": "off"}}),
    # limited: read_file, http_get, http_post; http_post needs a human OpenClaw cannot ask
    ("limited", {}, {"profile": "full", "allow": ["read", "web_fetch", "web_search"],
                     "deny": ["browser"], "exec": {"security": "deny", "ask": "off"}}),
    ("read_only", {}, {"profile": "full", "allow": ["read", "web_fetch", "web_search"],
                       "exec": {"security": "deny", "ask": "off"}}),
    ("unrestricted", {}, {"profile": "full", "deny": ["browser"],
                          "exec": {"security": "full", "ask": "always"}}),
    ("unrestricted", {"require_approval": (), "auto_approve": ()},
     {"profile": "full", "exec": {"security": "full", "ask": "off"}}),
])
def test_tool_policy(level: str, approval: dict[str, Any], tools: dict[str, Any]) -> None:
    assert documents.tool_policy(config(level, **approval)) == tools


def test_exec_approvals_go_to_the_telegram_alert_chat() -> None:
    doc = documents.openclaw_managed(config("unrestricted"), "/logs")
    assert doc["channels"] == {"telegram": {"execApprovals": {
        "enabled": True, "approvers": ["${TELEGRAM_CHAT_ID}"], "target": "dm"}}}
    # Nothing to approve (exec denied): no approval client is configured.
    assert "channels" not in documents.openclaw_managed(config("limited"), "/logs")


def test_reference_hosts_get_the_tool_settings() -> None:
    import json
    plan = plans("reference")[0]
    doc = json.loads(plan.file("/opt/openclaw/state/openclaw/openclaw.json").content)
    assert doc["tools"]["exec"] == {"security": "deny", "ask": "off"}
    assert doc["logging"]["redactPatterns"][0].startswith(r"\bapi_key")


def test_a_pinned_gateway_never_updates_itself_nor_fetches_the_model_catalog() -> None:
    doc = documents.openclaw_managed(config("limited"), "/logs")
    assert doc["update"] == {"checkOnStart": False, "auto": {"enabled": False}}
    assert doc["models"]["catalogRefresh"] == {"enabled": False}
