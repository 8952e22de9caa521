"""Every compiled artifact checked by the real tool: systemd-analyze, shellcheck, JSON Schema."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest

from openclaw import resources
from openclaw.compile import HostPlan
from openclaw.compile.tree import write_tree
from openclaw.review import systemd_check
from tests.compile.cases import CASES, plans

MAX_EXPOSURE = 3.0


def verify_root(plan: HostPlan, root: Path) -> Path:
    return systemd_check.build_root(plan, root)


def _first_hosts() -> list[tuple[str, HostPlan]]:
    return [(case, plans(case)[0]) for case in CASES]


@pytest.mark.parametrize("case, plan", _first_hosts(), ids=CASES)
def test_units_pass_systemd_analyze_verify(case: str, plan: HostPlan, tmp_path: Path) -> None:
    root = verify_root(plan, tmp_path / "root")
    units = [f.path.lstrip("/") for f in plan.files
             if f.path.endswith((".service", ".timer"))]
    assert len(units) >= 8
    r = subprocess.run(["systemd-analyze", "verify", f"--root={root}", *units], cwd=root,
                       capture_output=True, text=True)
    assert (r.returncode, r.stdout + r.stderr) == (0, "")


def test_verify_root_catches_a_real_problem(tmp_path: Path) -> None:
    """The check above could not pass vacuously: a unit naming a missing program fails."""
    plan = plans(CASES[0])[0]
    root = verify_root(plan, tmp_path / "root")
    unit = root / "etc/systemd/system/openclaw-gateway.service"
    unit.write_text(unit.read_text().replace("ExecStart=", "ExecStart=/nonexistent/x "))
    r = subprocess.run(["systemd-analyze", "verify", f"--root={root}",
                        "etc/systemd/system/openclaw-gateway.service"], cwd=root,
                       capture_output=True, text=True)
    assert r.returncode != 0 and "nonexistent" in r.stderr


@pytest.mark.parametrize("case, plan", _first_hosts(), ids=CASES)
def test_gateway_exposure(case: str, plan: HostPlan, tmp_path: Path) -> None:
    root = verify_root(plan, tmp_path / "root")
    names = {f.path.rsplit("/", 1)[1] for f in plan.files}
    gateway = [u for u in ("openclaw-llm-gateway.service", "openclaw-redis.service")
               if u in names]
    for unit in ("openclaw-gateway.service", "openclaw-worker@1.service", *gateway):
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--root={root}",
                            unit], capture_output=True, text=True)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout + r.stderr)
        assert m, r.stdout + r.stderr
        exposure = float(m.group(1))
        print(f"{case}: {unit} exposure {exposure}")
        assert exposure <= MAX_EXPOSURE


@pytest.mark.parametrize("case", CASES)
def test_scripts_and_confs_pass_shellcheck(case: str, tmp_path: Path) -> None:
    plan = plans(case)[0]
    write_tree([plan], tmp_path)
    base = tmp_path / plan.region / plan.host
    scripts = sorted(str(p) for p in base.rglob("*.sh"))
    # redis.conf is Redis's own format, proven by starting Redis (tests/gateway).
    confs = sorted(str(p) for p in base.rglob("*.conf")
                   if p.parent.name == "config" and not p.name.startswith("redis"))
    optional = sum(any(f.path.endswith(f"/{name}") for f in plan.files)
                   for name in ("audit-check.sh", "autoscale.sh", "replicate.sh"))
    assert len(scripts) == len(confs) == 6 + optional
    r = subprocess.run(["shellcheck", "-x", *scripts], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (0, "")
    # Config files are sourced: check them as bash, their variables are used elsewhere.
    r = subprocess.run(["shellcheck", "-s", "bash", "-e", "SC2034", *confs],
                       capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (0, "")


@pytest.mark.parametrize("case", CASES)
def test_confs_source_cleanly_in_bash(case: str) -> None:
    for plan in plans(case):
        for f in plan.files:
            if f.path.endswith(".conf") and "/config/" in f.path and \
                    not f.path.rsplit("/", 1)[-1].startswith("redis"):
                r = subprocess.run(["bash", "-n"], input=f.content, capture_output=True)
                assert r.returncode == 0, (f.path, r.stderr)


@pytest.mark.parametrize("case", CASES)
def test_failover_json_matches_its_schema(case: str) -> None:
    validator = jsonschema.Draft202012Validator(resources.schema("failover.schema.json"))
    for plan in plans(case):
        doc = json.loads(next(f for f in plan.files if f.path.endswith("/failover.json"))
                         .content)
        errors = [e.message for e in validator.iter_errors(doc)]
        assert errors == []
        assert doc["region"]["name"] == plan.region
        assert plan.region not in [r["name"] for r in doc["failover_regions"]]


def test_reserved_script_variables_match_the_configs() -> None:
    """Every variable a compiled .conf sets is reserved, so no .env key can shadow it."""
    from openclaw.rules import SCRIPT_VARIABLES
    names: set[str] = set()
    for case in CASES:
        for f in plans(case)[0].files:
            if f.path.endswith(".conf") and "/config/" in f.path:  # the scripts' own
                names |= {line.split("=", 1)[0] for line in f.content.decode().splitlines()
                          if re.match(r"^[A-Z_][A-Z0-9_]*=", line)}
    assert names - SCRIPT_VARIABLES == set()
