"""Findings are data: where, what, how bad. Renderers turn them into text or json."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    col: int
    path: str
    message: str
    code: str = "E000"
    severity: str = ERROR

    def render(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        what = f"{self.path}: " if self.path else ""
        tag = "warning: " if self.severity == WARNING else ""
        return f"{where}: {what}{tag}{self.message}"


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(set(findings), key=lambda f: (f.file, f.line, f.col, f.path, f.code, f.message))


def render_text(findings: Iterable[Finding]) -> str:
    return "".join(f.render() + "\n" for f in findings)


def render_json(findings: Iterable[Finding]) -> str:
    items = [asdict(f) for f in findings]
    doc = {"format_version": 1, "findings": items, "ok": not any(
        i["severity"] == ERROR for i in items)}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
