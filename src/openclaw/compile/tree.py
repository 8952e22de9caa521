"""Write compiled HostPlans as a tree: DIR/<region>/<host>/<absolute path>, plus manifest.json."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openclaw.compile.plan import HostPlan


def manifest(plans: Iterable[HostPlan]) -> dict[str, Any]:
    hosts = []
    for p in plans:
        hosts.append({
            "host": p.host, "region": p.region, "root": "/" if p.root == "/" else "sandbox",
            "directories": [{"path": d.path, "mode": f"{d.mode:04o}", "owner": d.owner,
                             "group": d.group} for d in p.directories],
            "files": [{"path": f.path, "mode": f"{f.mode:04o}", "owner": f.owner,
                       "group": f.group, "sha256": f.sha256, "sensitive": f.sensitive,
                       # merged into the host's copy: this file holds openclaw's keys only
                       **({"merge": True} if f.merge else {})}
                      for f in p.files],
            "units": [{"name": u.name, "enable": u.enable, "start": u.start,
                       "restart_on": list(u.restart_on)} for u in p.units],
        })
    return {"format_version": 1, "hosts": hosts}


def write_tree(plans: Iterable[HostPlan], out: Path) -> int:
    """Replace OUT with the compiled tree; returns the number of files written. The new tree
    is written beside OUT and swapped in: any failure leaves the previous tree as it was."""
    from openclaw.errors import OpenclawError
    plans = list(plans)
    if out.exists() and not (out / "manifest.json").exists() and any(out.iterdir()):
        raise OpenclawError(f"{out} exists and is not a compiled tree (no manifest.json); "
                            "refusing to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{out.name}.openclaw-new-", dir=out.parent))
    try:
        count = _write(plans, fresh)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.openclaw-old-", dir=out.parent))
            os.rename(out, old / "tree")
            os.rename(fresh, out)
            shutil.rmtree(old)
        else:
            os.rename(fresh, out)
    except OSError as e:
        shutil.rmtree(fresh, ignore_errors=True)
        where = f": {e.filename}" if e.filename else ""
        raise OpenclawError(f"cannot write the compiled tree ({e.strerror}){where}; "
                            f"{out} is left as it was") from None
    return count


def _write(plans: list[HostPlan], out: Path) -> int:
    """Each distinct content (and mode) is written once, at its first path; every other
    host's copy is a hard link to it: a fleet's hosts share all but a few files."""
    os.chmod(out, 0o755)
    count = 0
    made: set[str] = set()
    first: dict[tuple[str, int], str] = {}

    def mkdirs(path: str) -> None:
        if path not in made:
            os.makedirs(path, exist_ok=True)
            made.add(path)

    for plan in plans:
        base = os.path.join(out, plan.region, plan.host)
        for d in plan.directories:
            mkdirs(base + d.path)
        for f in plan.files:
            target = base + f.path
            mkdirs(os.path.dirname(target))
            key = (f.sha256, f.mode)
            if key in first:
                os.link(first[key], target)
            else:
                # Create with the final mode: a sensitive file is never readable by others.
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, f.mode)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(f.content)
                os.chmod(target, f.mode)
                first[key] = target
            count += 1
        for d in plan.directories:
            os.chmod(base + d.path, d.mode | 0o700)
    (out / "manifest.json").write_text(_dumps(manifest(plans)))
    return count


def _dumps(doc: dict[str, Any]) -> str:
    """The manifest with one host per line: diffable, and written by json's C encoder (an
    indented dump of 1,000 hosts takes half a second)."""
    hosts = doc["hosts"]
    head = json.dumps({k: v for k, v in doc.items() if k != "hosts"}, sort_keys=True)
    lines = ",\n".join(json.dumps(h, sort_keys=True, separators=(",", ":")) for h in hosts)
    return head[:-1] + ', "hosts": [\n' + lines + "\n]}\n"
