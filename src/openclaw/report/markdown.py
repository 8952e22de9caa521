"""Markdown for a pull-request comment: summary table first, then each host folded in
<details>, whole host blocks left out (and said so) past the size a comment allows."""

from __future__ import annotations

from openclaw.report.common import body, status, unit_count
from openclaw.sync.changes import HostChanges
from openclaw.sync.runner import HostResult

LIMIT = 65_000
NOTE_ROOM = 1300  # the note naming what was left out: up to 1,000 characters of names


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(command: str, changes: list[HostChanges],
           results: list[HostResult] | None = None, limit: int = LIMIT) -> str:
    pending = sum(1 for c in changes if c.changed and not c.error)
    head = [f"### openclaw {command}: {len(changes)} host(s), {pending} with changes", ""]
    if results is not None:
        head += ["| region | host | result | detail |", "| --- | --- | --- | --- |"]
        head += [f"| {r.region} | {r.host} | {r.status} | {_cell(r.error)} |" for r in results]
        return "\n".join(head) + "\n"
    head += ["| region | host | create | update | remove | unchanged | unit steps | status |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for c in changes:
        head.append(f"| {c.region} | {c.host} | {c.count('create')} | {c.count('update')} | "
                    f"{c.count('remove')} | {c.count('ok')} | {unit_count(c.units)} | "
                    f"{status(c)} |")
    blocks: list[str] = []
    region = None
    for c in changes:
        if not (c.changed or c.error):
            continue
        title = ""
        if c.region != region:
            region = c.region
            title = f"\n#### {region}\n"
        summary = (f"<b>{c.host}</b>: {c.count('create')} to create, {c.count('update')} "
                   f"to update" if not c.error else f"<b>{c.host}</b>: error")
        detail = "\n".join(body(c)).replace("```", "ʼʼʼ")
        blocks.append(f"{title}\n<details><summary>{summary}</summary>\n\n```diff\n{detail}\n"
                      "```\n\n</details>\n")
    out = "\n".join(head) + "\n"
    omitted: list[str] = []
    for i, block in enumerate(blocks):
        if len(out) + len(block) + NOTE_ROOM > limit:
            omitted = [c.host for c in changes if c.changed or c.error][i:]
            break
        out += block
    if omitted:
        listed = ", ".join(omitted)
        if len(listed) > 1000:
            listed = listed[:1000] + " ..."
        out += (f"\n_{len(omitted)} host block(s) left out to fit a comment: {listed}. "
                "Run `openclaw plan --format text` for everything._\n")
    return out
