"""Bad configs and inventories, each with the exact findings it must produce.

Each case file carries its expectations as header comments:
    # expect: LINE:COL dotted.path: message
Regenerate after a reviewed change with `pytest --regen-findings` (the header is rewritten from
what validation reports now; review the diff).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from openclaw import inventory, model
from openclaw.compile import compile_fleet
from openclaw.findings import Finding
from openclaw.validate import check_all

HERE = Path(__file__).parent
REPO = HERE.parent.parent
CONFIG_CASES = sorted((HERE / "config").glob("*.yaml"))
INVENTORY_CASES = sorted((HERE / "inventory").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (.*)$")


def _line(f: Finding) -> str:
    where = f"{f.line}:{f.col}"
    what = f" {f.path}:" if f.path else ""
    tag = " warning:" if f.severity == "warning" else ""
    return f"{where}{what}{tag} {f.message}"


def _expectations(case: Path) -> list[str]:
    out = []
    for raw in case.read_bytes().splitlines():
        m = EXPECT.match(raw.decode("utf-8", "replace"))
        if m:
            out.append(m.group(1))
    return out


def _rewrite(case: Path, actual: list[str]) -> None:
    raw = case.read_bytes()
    body = b"".join(line for line in raw.splitlines(keepends=True)
                    if not line.startswith(b"# expect: "))
    header = "".join(f"# expect: {a}\n" for a in actual).encode()
    # Keep the first line first when it is what the case is about (a syntax error on line 1
    # would move); cases are written so that a header in front shifts lines predictably.
    case.write_bytes(header + body)


def _check(case: Path, actual_findings: list[Finding], regen: bool) -> None:
    actual = [_line(f) for f in actual_findings if f.file == str(case)]
    if regen:
        _rewrite(case, actual)
        return
    expected = _expectations(case)
    assert expected, f"{case.name} has no '# expect:' lines"
    assert actual == expected


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda p: p.stem)
def test_bad_config(case: Path, regen_findings: bool, tmp_path: Path) -> None:
    checked = check_all(str(case), None)
    _check(case, checked.findings, regen_findings)
    if not case.stem.endswith("_warning"):
        assert not checked.ok
        return
    # A case that only warns validates: with a region to put a host in, it must compile.
    raw = yaml.safe_load(case.read_text())
    raw.setdefault("deployment", {}).setdefault("regions", [{"name": "us-east", "weight": 1}])
    with_region = tmp_path / case.name
    with_region.write_text(yaml.safe_dump(raw))
    again = check_all(str(with_region), None)
    assert again.ok and again.config is not None
    cfg = model.build(again.config)
    region = cfg.deployment.regions[0].name
    hosts = inventory.build({"regions": {region: {"hosts": {"h1.example.com": {}}}}},
                            str(REPO / "inventory/inline.yaml"), [region])
    (plan,) = compile_fleet(cfg, hosts)
    assert len(plan.files) > 20


@pytest.mark.parametrize("case", INVENTORY_CASES, ids=lambda p: p.stem)
def test_bad_inventory(case: Path, regen_findings: bool) -> None:
    checked = check_all(str(REPO / "openclaw.yaml"), str(case))
    _check(case, checked.findings, regen_findings)
    assert not checked.ok
    # The reference config has no errors (its warnings say what the host cannot enforce).
    assert not [f for f in checked.findings if f.file.endswith("openclaw.yaml")
                and f.severity != "warning"]
