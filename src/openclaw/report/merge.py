"""One report from the JSON reports of sharded runs (`--shard I/N` on N CI runners): the
hosts and results of every shard, the summary counted again. A host in two shards, reports of
different commands or format versions, or a file that is not such a report is refused."""

from __future__ import annotations

import json
from typing import Any

from openclaw.errors import OpenclawError
from openclaw.report.jsondoc import FORMAT_VERSION
from openclaw.report.text import table

FAILED = ("failed", "rolled back", "skipped")


def load(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise OpenclawError(f"{path}: not a JSON report: {type(e).__name__}") from None
    if not (isinstance(doc, dict) and isinstance(doc.get("hosts"), list)
            and doc.get("format_version") == FORMAT_VERSION and "command" in doc):
        raise OpenclawError(f"{path}: not an openclaw JSON report of format_version "
                            f"{FORMAT_VERSION} (write them with --format json)")
    return doc


def merge(paths: list[str]) -> dict[str, Any]:
    docs = [load(p) for p in paths]
    commands = sorted({str(d["command"]) for d in docs})
    if len(commands) != 1:
        raise OpenclawError(f"reports of different commands: {', '.join(commands)}")
    seen: dict[str, str] = {}
    for path, doc in zip(paths, docs, strict=True):
        for h in doc["hosts"]:
            name = str(h.get("host"))
            if name in seen:
                raise OpenclawError(f"{name} is in two reports ({seen[name]}, {path}): "
                                    "shards overlap")
            seen[name] = path
    hosts = [h for d in docs for h in d["hosts"]]
    out: dict[str, Any] = {"format_version": FORMAT_VERSION, "command": commands[0],
                           "shards": len(docs), "hosts": hosts}
    if any("results" in d for d in docs):
        out["results"] = [r for d in docs for r in d.get("results") or []]
    out["summary"] = {"hosts": len(hosts), **{
        key: sum(int((d.get("summary") or {}).get(key, 0)) for d in docs)
        for key in ("with_changes", "with_drift", "errors")}}
    return out


def exit_code(doc: dict[str, Any]) -> int:
    """As the command itself would exit: apply-like 0/1; plan 0 in sync, 2 changes, 1
    errors."""
    if "results" in doc:
        return 1 if any(r.get("status") in FAILED for r in doc["results"]) else 0
    if doc["summary"]["errors"]:
        return 1
    return 2 if doc["summary"]["with_changes"] else 0


def render_text(doc: dict[str, Any]) -> str:
    command = doc["command"]
    if "results" in doc:
        rows = [["REGION", "HOST", "RESULT", "DETAIL"]]
        rows += [[str(r.get("region")), str(r.get("host")), str(r.get("status")),
                  str(r.get("error") or "")] for r in doc["results"]]
        counts = {s: sum(1 for r in doc["results"] if r.get("status") == s)
                  for s in ("changed", "unchanged", *FAILED)}
        line = (f"{command}: {counts['changed']} changed, {counts['unchanged']} unchanged, "
                f"{counts['failed']} failed, {counts['rolled back']} rolled back, "
                f"{counts['skipped']} skipped")
    else:
        rows = [["REGION", "HOST", "STATUS"]]
        rows += [[str(h.get("region")), str(h.get("host")), str(h.get("status"))]
                 for h in doc["hosts"]]
        s = doc["summary"]
        line = (f"{command}: {s['hosts']} host(s), {s['with_changes']} with changes, "
                f"{s['errors']} with errors")
    return "\n".join([*table(rows), f"{line} ({doc['shards']} shard(s))"]) + "\n"
