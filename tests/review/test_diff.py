"""openclaw diff against a git repository built here, one commit per kind of change."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from openclaw import resources

REPO = Path(__file__).parent.parent.parent
OPENCLAW = str(Path(sys.executable).parent / "openclaw")
CANARY = {"OPENROUTER_API_KEY": "diff-canary-or-J8s2Kd", "MINIMAX_API_KEY": "diff-canary-mm"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c",
                           "user.name=t", *args], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "fleet"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    shutil.copy(REPO / "openclaw.yaml", r)
    for d in ("inventory", "templates", "schema"):
        shutil.copytree(REPO / d, r / d)
    git(r, "add", "-A")
    git(r, "commit", "-qm", "base")
    return r


def edit(repo: Path, path: str, old: str, new: str) -> None:
    f = repo / path
    text = f.read_text()
    assert text.count(old) == 1, old
    f.write_text(text.replace(old, new))


def diff(repo: Path, *args: str, base: str = "main") -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENCLAW, "diff", "--base", base, "-i", "inventory/production.yaml",
                           *args], cwd=repo, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **CANARY})


def settings(out: str) -> list[str]:
    block = out.split("Settings:\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines()]


def test_no_change_exits_0(repo: Path) -> None:
    r = diff(repo)
    assert r.returncode == 0, r.stderr
    assert settings(r.stdout) == ["no setting changed"]


def test_policy_value(repo: Path) -> None:
    edit(repo, "openclaw.yaml", "failure_threshold: 3 consecutive failures",
         "failure_threshold: 5")
    r = diff(repo)
    assert r.returncode == 2
    assert settings(r.stdout) == [
        "circuit_breaker.metrics.failure_threshold: 3 consecutive failures → 5 (failover.json, "
        "health-check.conf, llm-gateway.yaml on 6 host(s): us-east 3, eu-west 2, "
        "asia-pacific 1)"]
    groups = [line for line in r.stdout.splitlines() if line.endswith(":") and
              not line.startswith(" ")]
    assert groups == ["Settings:", "the same change on 6 hosts in asia-pacific, eu-west, "
                                   "us-east:"]
    assert "-BREAKER_FAILURE_THRESHOLD=3\n      +BREAKER_FAILURE_THRESHOLD=5" in r.stdout
    # Oneshot inputs and the LLM gateway's config (LiteLLM reads it only at start).
    assert "restart: openclaw-llm-gateway.service\n" in r.stdout


def test_host_added(repo: Path) -> None:
    edit(repo, "inventory/production.yaml", "      agent-euw1-02.example.com:\n",
         "      agent-euw1-03.example.com: {}\n      agent-euw1-02.example.com:\n")
    git(repo, "commit", "-qam", "host")
    r = diff(repo, base="main~1")
    assert r.returncode == 2
    assert settings(r.stdout) == ["inventory: host agent-euw1-03.example.com added to eu-west"]
    assert "agent-euw1-03.example.com (eu-west):\n  host added: 54 file(s) to create" in r.stdout
    assert ("enable and start: openclaw-redis.service, openclaw-redis-state.service, "
            "openclaw-llm-gateway.service, openclaw-gateway.service, "
            "openclaw-worker@1.service") in r.stdout
    # Replication pairs hosts across regions by position: the new host ships to us-east's
    # third host, and us-east's third now ships to it instead of to eu-west's first.
    assert "2 host(s) changed, 1 added, 0 removed, 4 unchanged" in r.stdout
    assert "agent-use1-03.example.com (us-east):\n  ~ /opt/openclaw/config/failover.json\n" \
        in r.stdout
    assert "  + /opt/openclaw/replicas/.ssh/authorized_keys" in r.stdout


def test_region_added(repo: Path) -> None:
    edit(repo, "openclaw.yaml", "    - name: asia-pacific\n      weight: 0.1\n",
         "    - name: asia-pacific\n      weight: 0.05\n    - name: sa-east\n"
         "      weight: 0.05\n")
    with open(repo / "inventory/production.yaml", "a") as fh:
        fh.write("  sa-east:\n    hosts:\n      agent-sae1-01.example.com: {}\n")
    r = diff(repo)
    assert r.returncode == 2, r.stderr
    lines = settings(r.stdout)
    # Alone (without the new region), the weight reaches the hosts that existed before.
    assert lines[0] == ("deployment.regions[asia-pacific].weight: 0.1 → 0.05 (failover.json on "
                        "6 host(s): us-east 3, eu-west 2, asia-pacific 1)")
    assert lines[1].startswith("deployment.regions[sa-east]: (unset) → {name: sa-east, "
                               "weight: 0.05} (failover.json on 6 host(s)")
    assert lines[2:] == ["inventory: host agent-sae1-01.example.com added to sa-east",
                         "inventory: region sa-east added"]
    assert "agent-sae1-01.example.com (sa-east):\n  host added" in r.stdout


def test_secret_source_changed_shows_key_and_source_only(repo: Path) -> None:
    edit(repo, "openclaw.yaml", "OPENROUTER_API_KEY: {env: OPENROUTER_API_KEY}",
         "OPENROUTER_API_KEY: {file: /etc/openclaw/openrouter}")
    for fmt in ("text", "markdown", "json"):
        r = diff(repo, "--format", fmt)
        assert r.returncode == 2
        for secret in CANARY.values():
            assert secret not in r.stdout + r.stderr
    r = diff(repo)
    assert settings(r.stdout) == [
        "secrets.env.OPENROUTER_API_KEY: {env: OPENROUTER_API_KEY} → {file: "
        "/etc/openclaw/openrouter} (llm-gateway.env on 6 host(s): us-east 3, eu-west 2, "
        "asia-pacific 1)"]
    assert ("~ OPENROUTER_API_KEY (source env:OPENROUTER_API_KEY -> "
            "file:/etc/openclaw/openrouter)") in r.stdout
    # The provider key is the LLM gateway's alone: the agent's units keep running.
    assert "restart: openclaw-llm-gateway.service\n" in r.stdout


def test_template_changed(repo: Path) -> None:
    edit(repo, "templates/openclaw-gateway.service.j2", "KillMode=mixed",
         "KillMode=control-group")
    r = diff(repo)
    assert r.returncode == 2
    assert settings(r.stdout) == ["template changed: templates/openclaw-gateway.service.j2"]
    assert "-KillMode=mixed\n      +KillMode=control-group" in r.stdout
    assert "restart: openclaw-gateway.service\n" in r.stdout
    assert "systemd-analyze verify (agent-use1-01.example.com and 5 more): 1 changed unit(s) " \
           "clean" in r.stdout
    assert "openclaw-gateway.service exposure (agent-use1-01.example.com and 5 more): " \
           "1.4 → 1.4" in r.stdout
    # The working tree and index are untouched by reading the base.
    assert git(repo, "status", "--porcelain").strip() == "M templates/openclaw-gateway.service.j2"


def test_head_revision_and_files_without_git(repo: Path, tmp_path: Path) -> None:
    edit(repo, "openclaw.yaml", "max_attempts: 3", "max_attempts: 4")
    git(repo, "commit", "-qam", "retries")
    (repo / "openclaw.yaml").write_text("garbage: [\n")  # the working tree is not read
    r = subprocess.run([OPENCLAW, "diff", "--base", "main~1", "--head", "main", "-i",
                        "inventory/production.yaml"], cwd=repo, capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    # More attempts lengthen the health check's worst case: its unit's timeout follows.
    assert settings(r.stdout)[0].startswith("retry.max_attempts: 3 → 4 (failover.json, "
                                            "health-check.conf, llm-gateway.yaml, "
                                            "openclaw-health-check.service on 6 host(s)")
    old = tmp_path / "old.yaml"
    old.write_text((REPO / "openclaw.yaml").read_text())
    r = subprocess.run([OPENCLAW, "diff", "--base-config", str(old), "-c",
                        str(REPO / "openclaw.yaml"), "-i",
                        str(REPO / "inventory/production.yaml")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "no setting changed" in r.stdout


def test_base_that_does_not_validate_is_an_error_with_both_findings(repo: Path) -> None:
    edit(repo, "openclaw.yaml", "max_attempts: 3", "max_attempts: 0")
    git(repo, "commit", "-qam", "broken")
    edit(repo, "openclaw.yaml", "max_attempts: 0", "max_attempts: 3")
    edit(repo, "openclaw.yaml", "backoff: exponential", "backoff: exponental")
    r = diff(repo)
    assert r.returncode == 1
    assert "error: the base (main) does not validate; its findings:" in r.stderr
    assert "main:openclaw.yaml:36:17: retry.max_attempts: must be at least 1, got 0" in r.stderr
    assert "and the head's findings:" in r.stderr
    assert "openclaw.yaml:37:12: retry.backoff: 'exponental' is not one of" in r.stderr


def test_unknown_revision(repo: Path) -> None:
    r = diff(repo, base="no-such-branch")
    assert r.returncode == 1 and "unknown revision 'no-such-branch'" in r.stderr


def test_json_report_matches_its_schema(repo: Path) -> None:
    edit(repo, "openclaw.yaml", "failure_threshold: 3 consecutive failures",
         "failure_threshold: 5")
    edit(repo, "inventory/production.yaml", "      agent-euw1-02.example.com:\n",
         "      agent-euw1-03.example.com: {}\n      agent-euw1-02.example.com:\n")
    r = diff(repo, "--format", "json")
    doc = json.loads(r.stdout)
    schema = resources.schema("diff-report.schema.json")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc)) == []
    assert doc["counts"] == {"added": 1, "changed": 6, "removed": 0, "same": 0}
    # The breaker change on all six, two of them re-paired for replication (test_host_added).
    assert [len(g["hosts"]) for g in doc["groups"]] == [4, 1, 1, 1]
    assert diff(repo, "--format", "json").stdout == r.stdout  # stable


def test_template_code_from_a_pull_request_does_not_run(repo: Path) -> None:
    proof = repo / "proof"
    edit(repo, "templates/openclaw-gateway.service.j2", "KillMode=mixed",
         "KillMode=mixed\n{{ cycler.__init__.__globals__.os.popen('id > proof') }}")
    r = diff(repo)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "refused by the template sandbox" in r.stderr and "Traceback" not in r.stderr
    assert not proof.exists()
