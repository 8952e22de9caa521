"""openclaw.json against the pinned OpenClaw's own schema: every level and approval setting
compiles to a document 2026.9.6 accepts, what it refused before is refused offline (at
validate, before any host), and the committed schema is the one the real package prints."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from openclaw import openclaw_schema
from openclaw.compile import documents
from openclaw.validate import check_config
from tests.compile.cases import CASES, plans, sources

VERSION = "2026.9.6"
RUNTIME = Path(os.environ.get("OPENCLAW_TEST_RUNTIME",
                              "/var/cache/openclaw-test/openclaw-runtime"))


def managed(case: str) -> dict[str, Any]:
    plan = plans(case)[0]
    doc: dict[str, Any] = json.loads(next(f for f in plan.files if f.merge).content)
    return doc


@pytest.mark.parametrize("case", CASES)
def test_every_golden_config_compiles_to_what_openclaw_accepts(case: str) -> None:
    problems = openclaw_schema.problems(VERSION, managed(case))
    assert problems is not None and list(problems) == []


@pytest.mark.parametrize("level", ["none", "read_only", "limited", "unrestricted"])
def test_every_security_level_is_accepted(level: str) -> None:
    from openclaw.project import load
    cfg = load(*map(str, sources("reference"))).config
    cfg = dataclasses.replace(cfg, security=dataclasses.replace(cfg.security, level=level))
    doc = documents.openclaw_managed(cfg, "/opt/openclaw/logs")
    assert list(openclaw_schema.problems(VERSION, doc) or ["no schema"]) == []


def test_what_2026_9_6_refused_is_refused_offline() -> None:
    doc = managed("reference")
    doc["logging"]["redactSensitive"] = "tools"  # what openclaw compiled before
    del doc["gateway"]["mode"]
    doc["gateway"]["bind"] = "everywhere"
    found = dict(openclaw_schema.problems(VERSION, doc) or [])
    assert "'redactSensitive' was unexpected" in found[("logging",)]
    assert "'everywhere' is not one of: auto, lan, loopback" in found[("gateway", "bind")]


def test_a_refused_document_stops_validate_at_the_setting_that_writes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = documents.openclaw_managed

    def old_compiler(*args: Any) -> dict[str, Any]:
        doc = real(*args)
        doc["logging"]["redactSensitive"] = "tools"
        return doc
    monkeypatch.setattr(documents, "openclaw_managed", old_compiler)
    config, _ = sources("reference")
    findings, data = check_config(str(config))
    errors = [f for f in findings if f.severity == "error"]
    assert data is None and [f.code for f in errors] == ["R020"]
    assert errors[0].path == "logging" and errors[0].line > 1
    assert "OpenClaw 2026.9.6 would refuse openclaw.json at logging" in errors[0].message


def pinned(tmp_path: Path, version: str) -> Path:
    """The minimal golden config (it has no service block) with a pinned version."""
    config, _ = sources("minimal")
    path = tmp_path / "openclaw.yaml"
    path.write_text(config.read_text() + f"service:\n  openclaw: {{version: {version}}}\n")
    return path


def test_an_unknown_version_is_checked_on_the_host_only(tmp_path: Path) -> None:
    findings, cfg = check_config(str(pinned(tmp_path, "2099.1.1")))
    assert cfg is not None
    assert [f.code for f in findings if f.code == "W010"] == ["W010"]


def test_latest_is_not_a_version(tmp_path: Path) -> None:
    findings, cfg = check_config(str(pinned(tmp_path, "latest")))
    assert cfg is None
    assert any(f.path == "service.openclaw.version" and "2026.9.6" in f.message
               for f in findings), [f.render() for f in findings]


def test_committed_schema_is_what_the_pinned_package_prints(tmp_path: Path) -> None:
    cli = RUNTIME / f"openclaw-{VERSION}-node-24.22.3" / "bin" / "openclaw"
    if not cli.exists():
        pytest.fail(f"no OpenClaw bundle at {cli.parent.parent}: `make openclaw-bundle` "
                    "(make test runs it)")
    printed = subprocess.run([str(cli), "config", "schema"], capture_output=True, check=True,
                             env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                             timeout=120).stdout
    with gzip.open(openclaw_schema.schema_path(VERSION)) as fh:
        committed = fh.read()
    assert json.loads(printed) == json.loads(committed), \
        "schema/openclaw-json is stale: run `make openclaw-schema`"
