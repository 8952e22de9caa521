"""The report's tool names (security.permission_model, tool_approval) as OpenClaw's tools.
Names not listed pass through, so a permission model may name OpenClaw's tools or groups
(group:fs) directly."""

from __future__ import annotations

TOOLS = {
    "read_file": ("read",),
    "write_file": ("write", "edit", "apply_patch"),
    "delete_file": ("exec",),  # OpenClaw deletes through exec; it has no delete tool
    "exec_command": ("exec", "process"),
    "http_get": ("web_fetch", "web_search"),
    "http_post": ("browser",),
}
# The only tools OpenClaw asks a human about before running (exec approvals).
APPROVABLE = frozenset({"exec", "process"})


def openclaw_tools(names: tuple[str, ...] | list[str]) -> set[str]:
    return {t for n in names for t in TOOLS.get(n, (n,))}
