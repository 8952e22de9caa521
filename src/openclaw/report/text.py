"""Plain text: per-host detail with unified diffs, then a summary table."""

from __future__ import annotations

from openclaw.report.common import body, drift, status, unit_count
from openclaw.sync.changes import HostChanges
from openclaw.sync.runner import HostResult


def table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in rows]


def render(command: str, changes: list[HostChanges],
           results: list[HostResult] | None = None) -> str:
    out: list[str] = []
    if results is None:
        for c in changes:
            where = f" ({c.address})" if c.address else ""
            out.append(f"{c.region} / {c.host}{where}")
            out += ["  " + x for x in body(c)]
            out.append("")
        rows = [["REGION", "HOST", "CREATE", "UPDATE", "REMOVE", "UNCHANGED", "UNIT STEPS",
                 "STATUS"]]
        for c in changes:
            rows.append([c.region, c.host, str(c.count("create")), str(c.count("update")),
                         str(c.count("remove")), str(c.count("ok")), str(unit_count(c.units)),
                         status(c)])
        out += table(rows)
        pending = sum(1 for c in changes if c.changed and not c.error)
        errors = sum(1 for c in changes if c.error)
        drifted = sum(1 for c in changes if drift(c))
        out.append(f"{command}: {len(changes)} host(s), {pending} with changes, "
                   f"{errors} with errors" + (f", {drifted} with drift (changed on the host "
                                               "by hand; apply undoes it)" if drifted else ""))
    else:
        rows = [["REGION", "HOST", "RESULT", "DETAIL"]]
        for r in results:
            detail = r.error or ", ".join(
                ([f"{len(r.steps)} step(s)"] if r.steps else [])
                + ([f"health gate passed in {r.gate_seconds} s"]
                   if r.gate_seconds is not None else []))
            rows.append([r.region, r.host, r.status, detail])
        out += table(rows)
        counts = {s: sum(1 for r in results if r.status == s)
                  for s in ("changed", "unchanged", "failed", "rolled back", "skipped")}
        line = (f"{command}: {counts['changed']} changed, {counts['unchanged']} unchanged, "
                f"{counts['failed']} failed")
        if counts["rolled back"] or counts["skipped"]:
            line += f", {counts['rolled back']} rolled back, {counts['skipped']} skipped"
        out.append(line)
    return "\n".join(out) + "\n"
