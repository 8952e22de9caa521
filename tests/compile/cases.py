"""The golden cases: each folder under golden/ names a config and an inventory."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from openclaw.compile import HostPlan, compile_fleet
from openclaw.project import Project, load

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def sources(case: str) -> tuple[Path, Path]:
    folder = GOLDEN / case
    if (folder / "case.yaml").exists():
        spec = yaml.safe_load((folder / "case.yaml").read_text())
        return ((folder / spec["config"]).resolve(), (folder / spec["inventory"]).resolve())
    return folder / "openclaw.yaml", folder / "inventory.yaml"


@functools.cache
def project(case: str) -> Project:
    config, inventory = sources(case)
    return load(str(config), str(inventory))


@functools.cache
def plans(case: str) -> tuple[HostPlan, ...]:
    p = project(case)
    return compile_fleet(p.config, p.inventory)
