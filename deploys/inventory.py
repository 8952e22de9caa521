"""An openclaw inventory as a pyinfra CLI inventory: one group per region.

    OPENCLAW_CONFIG=openclaw.yaml OPENCLAW_INVENTORY=inventory/production.yaml \\
        pyinfra deploys/inventory.py deploys/openclaw.py

pyinfra allows a single @local host; an inventory with several sandbox hosts works with
`openclaw apply` only.
"""

import os

from openclaw.errors import OpenclawError
from openclaw.project import load
from openclaw.sync.engine import inventory_groups

_project = load(os.environ.get("OPENCLAW_CONFIG", "openclaw.yaml"),
                os.environ.get("OPENCLAW_INVENTORY", "inventory/local.yaml"))
_local = [h for h in _project.inventory.hosts if h.local]
if len(_local) > 1:
    raise OpenclawError("pyinfra allows one @local host; select one with OPENCLAW_LIMIT")

for _group, _members in inventory_groups(_project.inventory.hosts).items():
    globals()[_group] = [("@local", {**data, "openclaw_host": name}) if name == (
        _local[0].name if _local else None) else (name, data) for name, data in _members]
