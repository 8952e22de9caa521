"""The markdown plan fits a pull-request comment, whatever the fleet size."""

from __future__ import annotations

from openclaw.report import markdown, render
from openclaw.sync.changes import FileChange, HostChanges


def big_fleet(n: int) -> list[HostChanges]:
    diff = "".join(f"-OLD_{i}=1\n+NEW_{i}=2\n" for i in range(60))
    return [HostChanges(f"host-{i:03d}", "us-east" if i % 2 else "eu-west",
                        files=(FileChange("/opt/openclaw/config/x.conf", "update",
                                          diff=diff),))
            for i in range(n)]


def test_markdown_is_capped_and_says_what_was_left_out() -> None:
    fleet = big_fleet(120)
    out = markdown.render("plan", fleet)
    assert len(out) <= markdown.LIMIT
    shown = out.count("<details>")
    assert 0 < shown < 120
    assert f"_{120 - shown} host block(s) left out to fit a comment: host-{shown:03d}" in out
    # The summary table is complete even when blocks are not.
    assert out.count("| host-") == 120
    assert markdown.render("plan", fleet) == out  # stable


def test_every_format_is_redacted() -> None:
    from openclaw.sync.secrets import REDACT
    REDACT.add("leaky-value-1234")
    fleet = [HostChanges("h", "r", error="ssh said leaky-value-1234")]
    for fmt in ("text", "markdown", "json"):
        out = render(fmt, "plan", fleet)
        assert "leaky-value-1234" not in out and "********" in out
