"""Renderers of plans and apply results. Every renderer's output passes the redactor last."""

from __future__ import annotations

from openclaw.report import jsondoc, markdown, text
from openclaw.sync.changes import HostChanges
from openclaw.sync.runner import HostResult
from openclaw.sync.secrets import REDACT


def render(fmt: str, command: str, changes: list[HostChanges],
           results: list[HostResult] | None = None) -> str:
    if fmt == "json":
        out = jsondoc.render(command, changes, results)
    elif fmt == "markdown":
        out = markdown.render(command, changes, results)
    else:
        out = text.render(command, changes, results)
    return REDACT(out)
