"""JSON for machines; `format_version` changes only when a key's meaning does."""

from __future__ import annotations

import json
from typing import Any

from openclaw.report.common import change_json, drift, status
from openclaw.sync.changes import FileChange, HostChanges
from openclaw.sync.runner import HostResult

FORMAT_VERSION = 1


def _file(f: FileChange) -> dict[str, Any]:
    return {**change_json(f.path, f.action, f.diff, f.keys, f.mode, f.owner),
            "sensitive": f.sensitive, "drift": f.drift or None}


def host(c: HostChanges) -> dict[str, Any]:
    return {
        "host": c.host, "region": c.region, "address": c.address, "status": status(c),
        "error": c.error or None, "files": [_file(f) for f in c.files],
        "directories": [_file(d) for d in c.directories], "accounts": list(c.accounts),
        "retire_accounts": list(c.retire_accounts),
        "units": [{"name": u.name, "enable": u.enable, "start": u.start, "restart": u.restart,
                   "stop": u.stop, "disable": u.disable, "drift": u.drift or None}
                  for u in c.units],
        # Changes made on the host by hand since the last apply, apart from openclaw.yaml's.
        "drift": drift(c),
        "daemon_reload": c.daemon_reload, "systemd": c.systemd, "sandbox": c.sandbox,
        "notes": list(c.notes), "packages": list(c.packages), "runtime": c.runtime or None,
    }


def render(command: str, changes: list[HostChanges],
           results: list[HostResult] | None = None) -> str:
    doc: dict[str, Any] = {"format_version": FORMAT_VERSION, "command": command,
                           "hosts": [host(c) for c in changes]}
    if results is not None:
        doc["results"] = [{"host": r.host, "region": r.region, "status": r.status,
                           "steps": list(r.steps), "error": r.error or None,
                           "gate_seconds": r.gate_seconds} for r in results]
    doc["summary"] = {
        "hosts": len(changes), "with_changes": sum(1 for c in changes if c.changed),
        "with_drift": sum(1 for c in changes if drift(c)),
        "errors": sum(1 for c in changes if c.error)}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
