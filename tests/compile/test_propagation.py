"""A value changed in openclaw.yaml changes exactly the artifacts that depend on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from openclaw.compile import compile_fleet
from openclaw.project import load
from tests.compile.cases import plans, sources

CONF = "/opt/openclaw/config/"
OPENCLAW_JSON = "/opt/openclaw/state/openclaw/openclaw.json"
UNITS = "/etc/systemd/system/"

# (text replaced in the repo's openclaw.yaml, its replacement, paths changed on every host)
CHANGES = [
    ("failure_threshold: 3 consecutive failures", "failure_threshold: 5",
     {CONF + "health-check.conf", CONF + "failover.json", CONF + "llm-gateway.yaml"}),
    ("    port: 18789", "    port: 18800",
     {UNITS + "openclaw-gateway.service", CONF + "health-check.conf", OPENCLAW_JSON,
      CONF + "budget-check.conf"}),
    ("  port: 4000\n", "  port: 4010\n",
     {UNITS + "openclaw-llm-gateway.service", OPENCLAW_JSON}),
    ("    ttl: 24 hours", "    ttl: 12 hours", {CONF + "llm-gateway.yaml"}),
    ("    persistence: false", "    persistence: true",
     {CONF + "redis.conf", CONF + "redis-state.conf"}),
    ("deduplication_window: 1 hour", "deduplication_window: 2 hours", {CONF + "alert.conf"}),
    # The service's start timeout is the run's worst case (462 s here), not the interval.
    ("  interval: 5m\n  liveness:", "  interval: 2m\n  liveness:",
     {UNITS + "openclaw-health-check.timer"}),
    ("    - rpo: 15 minutes", "    - rpo: 30 minutes",
     {UNITS + "openclaw-backup.service", UNITS + "openclaw-backup.timer",
      CONF + "backup.conf", CONF + "failover.json",
      # replication: every rpo/2, the health check's replica age against the rpo
      UNITS + "openclaw-replicate.service", UNITS + "openclaw-replicate.timer",
      CONF + "health-check.conf"}),
    ("  level: limited\n", "  level: read_only\n",
     {UNITS + n for n in ("openclaw-gateway.service", "openclaw-worker@.service",
                          "openclaw-health-check.service", "openclaw-budget-check.service",
                          "openclaw-backup.service", "openclaw-dashboard.service",
                          "openclaw-autoscale.service", "openclaw-mode.service",
                          "openclaw-llm-gateway.service", "openclaw-redis.service",
                          "openclaw-redis-state.service", "openclaw-replicate.service")}
     | {OPENCLAW_JSON}),  # OpenClaw's tool settings follow the level
    ("      alert_threshold: 80%", "      alert_threshold: 75%",
     {CONF + "budget-check.conf", CONF + "failover.json"}),
    ("    OPENROUTER_API_KEY: {env: OPENROUTER_API_KEY}",
     "    OPENROUTER_API_KEY: {file: /etc/openclaw/secrets/openrouter}",
     {CONF + "llm-gateway.env"}),  # the provider keys are the LLM gateway's alone
]


@pytest.mark.parametrize("old, new, changed", CHANGES, ids=[c[1].strip() for c in CHANGES])
def test_change_reaches_exactly_its_artifacts(old: str, new: str, changed: set[str],
                                              tmp_path: Path) -> None:
    config, inventory = sources("reference")
    text = config.read_text()
    assert text.count(old) == 1, old
    edited = tmp_path / "openclaw.yaml"
    edited.write_text(text.replace(old, new))
    project = load(str(edited), str(inventory))
    before = plans("reference")
    after = compile_fleet(project.config, project.inventory)
    assert len(before) == len(after) == 6
    for a, b in zip(before, after, strict=True):
        old_files = {f.path: f for f in a.files}
        new_files = {f.path: f for f in b.files}
        assert old_files.keys() == new_files.keys()
        differ = {p for p in old_files if old_files[p] != new_files[p]}
        assert differ == changed, a.host


def test_compiler_never_imports_pyinfra() -> None:
    import subprocess
    import sys
    code = ("import sys, openclaw.compile, openclaw.cli; "
            "bad = [m for m in sys.modules if m.startswith(('pyinfra', 'paramiko', 'gevent'))];"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_template_error_names_template_line_and_host(tmp_path: Path) -> None:
    from openclaw import resources
    from openclaw.compile import render
    from openclaw.errors import OpenclawError
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/broken.j2").write_text("line one\n{{ nothing_here }}\n")
    (tmp_path / "templates/syntax.j2").write_text("ok\nok\n{% if %}\n")
    with resources.overridden(tmp_path):
        with pytest.raises(OpenclawError, match=r"templates/broken\.j2:2: 'nothing_here' is "
                                                r"undefined \(rendering for host h1\)"):
            render.render("broken.j2", "h1")
        with pytest.raises(OpenclawError, match=r"templates/syntax\.j2:3: .*host h2"):
            render.render("syntax.j2", "h2")


def test_templates_are_loaded_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import jinja2

    from openclaw.compile import render
    loads: list[str] = []
    original = jinja2.FileSystemLoader.get_source

    def counting(self: jinja2.FileSystemLoader, env: jinja2.Environment,
                 name: str) -> tuple[str, str, object]:
        loads.append(name)
        return original(self, env, name)

    monkeypatch.setattr(jinja2.FileSystemLoader, "get_source", counting)
    render._environment_at.cache_clear()
    try:
        p = load(*map(str, sources("reference")))
        compile_fleet(p.config, p.inventory)  # six hosts
        assert len(loads) == len(set(loads)), "a template was loaded twice"
        first = len(loads)
        compile_fleet(p.config, p.inventory)
        assert len(loads) == first
    finally:
        render._environment_at.cache_clear()
