"""The same artifacts deployed the ordinary pyinfra way: one operation per user, directory
and file (files.put), and systemd.service per unit where systemd runs. Reads the tree that
`openclaw compile` wrote (BENCH_TREE) so every tool ships identical content.

    BENCH_TREE=out OPENCLAW_INVENTORY=inv.yaml pyinfra deploys/inventory.py bench/pyinfra_deploy.py
"""

import json
import os

from pyinfra import host
from pyinfra.facts.server import Which
from pyinfra.operations import files, server, systemd

TREE = os.environ["BENCH_TREE"]
with open(os.path.join(TREE, "manifest.json")) as fh:
    manifest = {h["host"]: h for h in json.load(fh)["hosts"]}
mine = manifest[host.data.get("openclaw_host") or host.name]
base = os.path.join(TREE, mine["region"], mine["host"])

# The accounts: every owner the manifest names (the service user, the LLM gateway's, the
# replica's), each with its own group.
for account in sorted({x["owner"] for x in mine["directories"] + mine["files"]} - {"root"}):
    server.group(name=f"group {account}", group=account, system=True)
    server.user(name=f"user {account}", user=account, group=account, system=True,
                home="/opt/openclaw/state", create_home=False, shell="/usr/sbin/nologin")
for d in mine["directories"]:
    files.directory(name=f"directory {d['path']}", path=d["path"], mode=d["mode"],
                    user=d["owner"], group=d["group"])
for f in mine["files"]:
    files.put(name=f"file {f['path']}", src=base + f["path"], dest=f["path"], mode=f["mode"],
              user=f["owner"], group=f["group"])
if host.get_fact(Which, command="systemctl") and os.path.isdir("/run/systemd/system"):
    systemd.daemon_reload(name="daemon-reload")
    for u in mine["units"]:
        systemd.service(name=f"unit {u['name']}", service=u["name"], running=True,
                        enabled=True)
