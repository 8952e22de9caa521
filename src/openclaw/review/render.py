"""The diff report as text, markdown (a pull-request comment) or json."""

from __future__ import annotations

import json
from typing import Any

from openclaw.report.common import change_json
from openclaw.review.compare import FileDelta, Group, HostDelta
from openclaw.review.diff import Report
from openclaw.sync.secrets import REDACT

LIMIT = 65_000
NOTE_ROOM = 1800  # the note naming what was left out: up to 1,500 characters of names
FORMAT_VERSION = 1
SYMBOL = {"create": "+", "remove": "-", "update": "~"}


def where(g: Group) -> str:
    if len(g.hosts) == 1:
        region, host = g.hosts[0]
        return f"{host} ({region})"
    return f"the same change on {len(g.hosts)} hosts in {', '.join(g.regions())}"


def file_lines(f: FileDelta) -> list[str]:
    head = f"{SYMBOL[f.action]} {f.path}"
    if f.mode:
        head += f"  mode {f.mode[0]} -> {f.mode[1]}"
    if f.owner:
        head += f"  owner {f.owner[0]} -> {f.owner[1]}"
    lines = [head]
    sources = {k: (a, b) for k, a, b in f.sources}
    for op, key in f.keys:
        extra = f" (source {sources[key][0]} -> {sources[key][1]})" if key in sources else ""
        lines.append(f"    {op} {key}{extra}")
    if f.diff and f.action != "create":
        lines += ["    " + x for x in f.diff.rstrip("\n").splitlines()]
    return lines


def group_lines(g: Group) -> list[str]:
    d = g.delta
    assert d is not None
    lines: list[str] = []
    if d.status in ("added", "removed"):
        lines.append(f"host {d.status}: {len(d.files)} file(s) to "
                     f"{'create' if d.status == 'added' else 'remove'}")
    for f in d.files:
        lines += file_lines(f) if d.status == "changed" else [f"{SYMBOL[f.action]} {f.path}"]
    if d.restarts:
        lines.append("restart: " + ", ".join(d.restarts))
    if d.starts:
        lines.append("enable and start: " + ", ".join(d.starts))
    if d.stops:
        lines.append("no longer managed: " + ", ".join(d.stops))
    return lines


def template_lines(r: Report) -> list[str]:
    return [f"template changed: templates/{t}" for t in r.templates]


def summary_lines(r: Report) -> list[str]:
    lines = [s.line() for s in r.settings] + r.inventory + template_lines(r)
    return lines or ["no setting changed"]


def counts(r: Report) -> dict[str, int]:
    status = [h.status for h in r.hosts]
    return {k: status.count(k) for k in ("added", "removed", "changed", "same")}


def text(r: Report) -> str:
    c = counts(r)
    out = [f"openclaw diff {r.base} -> {r.head}: {c['changed']} host(s) changed, "
           f"{c['added']} added, {c['removed']} removed, {c['same']} unchanged", ""]
    out += ["Settings:"] + ["  " + x for x in summary_lines(r)] + [""]
    for g in r.groups:
        out.append(where(g) + ":")
        out += ["  " + x for x in group_lines(g)]
        out.append("")
    if r.findings:
        out += ["Checks:"] + ["  " + x for x in r.findings] + [""]
    return REDACT("\n".join(out).rstrip("\n") + "\n")


def markdown(r: Report, limit: int = LIMIT) -> str:
    c = counts(r)
    head = [f"### openclaw diff `{r.base}` → `{r.head}`", "",
            "| | hosts |", "| --- | ---: |",
            f"| changed | {c['changed']} |", f"| added | {c['added']} |",
            f"| removed | {c['removed']} |", f"| unchanged | {c['same']} |", "",
            "**Settings**", ""]
    head += [f"- {s.line(code=True)}" for s in r.settings]
    head += [f"- {x}" for x in r.inventory + template_lines(r)]
    if not (r.settings or r.inventory or r.templates):
        head.append("- no setting changed")
    if r.findings:
        head += ["", "**Checks**", ""] + [f"- {x}" for x in r.findings]
    out = "\n".join(head) + "\n"
    blocks = []
    for g in r.groups:
        body = "\n".join(group_lines(g)).replace("```", "ʼʼʼ")
        blocks.append(f"\n<details><summary><b>{where(g)}</b></summary>\n\n```diff\n{body}\n"
                      "```\n\n</details>\n")
    for i, block in enumerate(blocks):
        if len(out) + len(block) + NOTE_ROOM > limit:
            left = r.groups[i:]
            names = ", ".join(where(g) for g in left)
            names = names if len(names) <= 1500 else names[:1500] + " ..."
            out += (f"\n_{len(left)} change block(s) left out to fit a comment: {names}. Run "
                    "`openclaw diff --format text` for everything._\n")
            break
        out += block
    return REDACT(out)


def _file(f: FileDelta) -> dict[str, Any]:
    out = change_json(f.path, f.action, f.diff, f.keys, f.mode, f.owner)
    if f.sources:
        out["sources"] = [{"key": k, "old": a, "new": b} for k, a, b in f.sources]
    return out


def _host(d: HostDelta) -> dict[str, Any]:
    return {"host": d.host, "region": d.region, "status": d.status,
            "files": [_file(f) for f in d.files], "restart": list(d.restarts),
            "start": list(d.starts), "stop": list(d.stops)}


def as_json(r: Report) -> str:
    doc = {
        "format_version": FORMAT_VERSION, "base": r.base, "head": r.head,
        "differs": r.differs, "counts": counts(r),
        "settings": [{"path": s.path, "old": s.old, "new": s.new,
                      "artifacts": list(s.artifacts),
                      "hosts": [{"region": reg, "count": n} for reg, n in s.hosts],
                      "note": s.note or None} for s in r.settings],
        "inventory": r.inventory,
        "templates": r.templates,
        "groups": [{"hosts": [{"region": reg, "host": h} for reg, h in g.hosts],
                    "change": _host(g.delta)} for g in r.groups if g.delta],
        "findings": r.findings,
    }
    return REDACT(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def render(fmt: str, r: Report) -> str:
    return {"text": text, "markdown": markdown, "json": as_json}[fmt](r)
