"""The example pull-request workflow: code from the pull request never runs with a token that
can write, and openclaw comes from a pinned source, never a bare package name."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

WORKFLOW = Path(__file__).parent.parent.parent / "examples/openclaw-diff-comment.yml"


def test_the_job_that_runs_the_diff_cannot_write() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert doc["permissions"] == {}
    jobs = doc["jobs"]
    runs = {name for name, job in jobs.items()
            if any("run" in s or "actions/checkout" in s.get("uses", "") for s in job["steps"])}
    writers = {name for name, job in jobs.items()
               if "write" in job.get("permissions", {}).values()}
    assert runs == {"diff"} and writers == {"comment"}
    assert jobs["diff"]["permissions"] == {"contents": "read"}
    checkout = next(s for s in jobs["diff"]["steps"] if "checkout" in s.get("uses", ""))
    assert checkout["with"]["persist-credentials"] is False


def test_openclaw_is_installed_from_a_pinned_revision() -> None:
    text = WORKFLOW.read_text()
    source = yaml.safe_load(text)["env"]["OPENCLAW_SOURCE"]
    assert re.fullmatch(r"openclaw-deploy @ git\+https://\S+@[0-9a-f]{40}", source)
    installs = re.findall(r"pip install (.+)", text)
    assert installs == ['"$OPENCLAW_SOURCE"']
