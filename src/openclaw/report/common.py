"""What every renderer says the same way."""

from __future__ import annotations

from typing import Any

from openclaw.sync.changes import FileChange, HostChanges, UnitChange

SYMBOL = {"create": "+", "update": "~", "remove": "-", "ok": "="}


def status(c: HostChanges) -> str:
    if c.error:
        return "error"
    return "changes" if c.changed else "in sync"


def unit_steps(c: HostChanges) -> list[str]:
    steps = []
    stop = [u.name for u in c.units if u.stop or u.disable]
    if stop:  # before the files of what openclaw.yaml dropped are removed
        steps.append(f"stop+disable {', '.join(stop)}")
    steps += ["daemon-reload"] if c.daemon_reload else []
    for verb, attr in (("enable", "enable"), ("restart", "restart"), ("start", "start")):
        names = [u.name for u in c.units if getattr(u, attr)]
        if names:
            steps.append(f"{verb} {', '.join(names)}")
    return steps


def unit_count(units: tuple[UnitChange, ...]) -> int:
    return sum(1 for u in units if u.enable or u.start or u.restart or u.stop or u.disable)


def drift(c: HostChanges) -> list[str]:
    """What was changed on the host by hand since the last apply (apply undoes it)."""
    return [f"{d.path}/: {d.drift}" for d in c.directories if d.drift] + \
        [f"{f.path}: {f.drift}" for f in c.files if f.drift] + \
        [f"{u.name}: {u.drift} on the host" for u in c.units if u.drift]


def headline(f: FileChange) -> str:
    bits = [f"- remove {f.path}" if f.action == "remove" else f"{SYMBOL[f.action]} {f.path}"]
    if f.action == "create" and f.created:
        bits.append(f.created)
    if f.sensitive:
        bits.append("(sensitive)")
    if f.mode:
        bits.append(f"mode {f.mode[0]} -> {f.mode[1]}")
    if f.owner:
        bits.append(f"owner {f.owner[0]} -> {f.owner[1]}")
    if f.drift:
        bits.append(f"[drift: {f.drift} since the last apply]")
    return "  ".join(bits)


def key_lines(f: FileChange) -> list[str]:
    words = {"+": "", "-": "", "~": " (value changed)"}
    return [f"{op} {key}{words[op]}" for op, key in f.keys]


def body(c: HostChanges) -> list[str]:
    """The per-host detail: changed files with diffs or key changes, accounts, units, notes."""
    lines: list[str] = []
    if c.error:
        return [f"error: {c.error}"]
    for step in c.packages:
        lines.append(f"+ {step}")
    if c.runtime:
        lines.append(f"+ install {c.runtime}")
    for account in c.accounts:
        lines.append(f"+ {account}")
    for account in c.retire_accounts:
        lines.append(f"- remove {account}")
    for d in c.directories:
        if d.action != "ok":
            lines.append(headline(d).replace(d.path, d.path + "/", 1))
    for f in c.files:
        if f.action == "ok":
            continue
        lines.append(headline(f))
        lines += ["    " + x for x in key_lines(f)]
        if f.diff:
            lines += ["    " + x for x in f.diff.rstrip("\n").splitlines()]
    unchanged = c.count("ok")
    if unchanged:
        lines.append(f"= {unchanged} file(s) unchanged")
    steps = unit_steps(c)
    if steps:
        lines.append("units: " + "; ".join(steps))
    lines += [f"drift: {u.name} {u.drift} on the host since the last apply"
              for u in c.units if u.drift]
    lines += [f"note: {n}" for n in c.notes]
    return lines


def change_json(path: str, action: str, diff: str, keys: tuple[tuple[str, str], ...],
                mode: tuple[str, str] | None, owner: tuple[str, str] | None
                ) -> dict[str, Any]:
    """One file's change as JSON, the same in plan, apply and diff reports."""
    out: dict[str, Any] = {"path": path, "action": action}
    if diff:
        out["diff"] = diff
    if keys:
        out["keys"] = [{"change": op, "key": key} for op, key in keys]
    if mode:
        out["mode"] = {"old": mode[0], "new": mode[1]}
    if owner:
        out["owner"] = {"old": owner[0], "new": owner[1]}
    return out
