"""The diff comment stays under 65,000 characters for a fleet whose changes all differ."""

from __future__ import annotations

from openclaw.review.compare import FileDelta, Group, HostDelta
from openclaw.review.diff import Report
from openclaw.review.render import LIMIT, markdown


def test_markdown_cap_drops_whole_blocks_and_says_so() -> None:
    groups = []
    for i in range(400):
        diff = "".join(f"-KEY_{i}_{j}=old\n+KEY_{i}_{j}=new\n" for j in range(20))
        d = HostDelta(f"h{i:03d}", "us-east", "changed",
                      (FileDelta("/opt/openclaw/config/x.conf", "update", diff),))
        groups.append(Group([("us-east", d.host)], d))
    report = Report("main", "working tree", hosts=[g.delta for g in groups if g.delta],
                    groups=groups)
    out = markdown(report)
    assert len(out) <= LIMIT
    shown = out.count("<details>")
    assert 0 < shown < 400
    assert out.count("</details>") == shown  # no block cut in half
    assert f"_{400 - shown} change block(s) left out to fit a comment: h{shown:03d} " in out
    assert markdown(report) == out
