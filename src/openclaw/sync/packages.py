"""What bootstrap installs before the artifacts: Debian packages, and OpenClaw itself."""

from __future__ import annotations

import shlex

from openclaw.model import Service


def probe_script(svc: Service) -> str:
    """One command: which packages are missing, and whether openclaw is installed."""
    pkgs = " ".join(shlex.quote(p) for p in svc.packages)
    return f"""for p in {pkgs}; do
  dpkg-query -W -f='${{Status}}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    printf 'MISSING\\t%s\\n' "$p"
done
if command -v openclaw >/dev/null 2>&1; then echo 'OPENCLAW	present'; fi
echo END
"""


def missing(svc: Service, output: str) -> list[str]:
    """Steps bootstrap must take: 'package X', 'openclaw (npm VERSION)'."""
    lines = output.splitlines()
    steps = [f"package {x.split(chr(9), 1)[1]}" for x in lines if x.startswith("MISSING\t")]
    if svc.openclaw_install == "npm" and "OPENCLAW\tpresent" not in lines:
        steps.append(f"openclaw (npm {svc.openclaw_version})")
    return steps


def install_script(svc: Service, steps: list[str]) -> str:
    pkgs = [s.split(" ", 1)[1] for s in steps if s.startswith("package ")]
    lines = ["set -eu", "export DEBIAN_FRONTEND=noninteractive"]
    if pkgs:
        lines += ["apt-get update -qq",
                  "apt-get install -y -qq --no-install-recommends "
                  + " ".join(shlex.quote(p) for p in pkgs)]
    if any(s.startswith("openclaw ") for s in steps):
        lines.append(f"npm install -g {shlex.quote('openclaw@' + svc.openclaw_version)}")
    lines.append("echo INSTALLED")
    return "\n".join(lines) + "\n"
