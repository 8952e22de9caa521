"""The openclaw deploy for the plain pyinfra CLI: each host gets its compiled HostPlan.

    OPENCLAW_CONFIG=openclaw.yaml OPENCLAW_INVENTORY=inventory/production.yaml \\
        pyinfra deploys/inventory.py deploys/openclaw.py

Secrets are read from their sources on the controller, as `openclaw apply` does. The host
lock is taken and released inside the single install command.
"""

import functools
import os
from pathlib import Path

from openclaw.project import load
from openclaw.sync.engine import deploy_current_host
from openclaw.sync.secrets import install_log_filter, resolve

CONFIG = os.environ.get("OPENCLAW_CONFIG", "openclaw.yaml")


@functools.cache
def _project_and_secrets():  # type: ignore[no-untyped-def]
    install_log_filter("pyinfra", "paramiko")
    project = load(CONFIG, os.environ.get("OPENCLAW_INVENTORY", "inventory/local.yaml"))
    values = resolve(project.config.secrets.env, Path(CONFIG).resolve().parent)
    return project, values


deploy_current_host(*_project_and_secrets())
