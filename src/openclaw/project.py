"""Load a project: config + inventory, validated, as the model. The entry point of every command."""

from __future__ import annotations

from dataclasses import dataclass

from openclaw import inventory as inv
from openclaw import model
from openclaw.errors import FindingsError
from openclaw.findings import WARNING, Finding
from openclaw.validate import check_all


@dataclass(frozen=True)
class Project:
    config: model.Config
    inventory: inv.Inventory
    warnings: tuple[Finding, ...]


def load(config_path: str, inventory_path: str) -> Project:
    checked = check_all(config_path, inventory_path)
    if not checked.ok or checked.config is None or checked.inventory is None:
        raise FindingsError(checked.findings)
    config = model.build(checked.config)
    hosts = inv.build(checked.inventory, inventory_path,
                      [r.name for r in config.deployment.regions])
    warnings = tuple(f for f in checked.findings if f.severity == WARNING)
    return Project(config, hosts, warnings)
