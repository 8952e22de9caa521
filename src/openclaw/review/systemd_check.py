"""Generated units checked by systemd's own tools: `systemd-analyze verify` in a root where
systemd's units and every executable the units name exist (so the only findings are real
ones), and `systemd-analyze security --offline` for the exposure score."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from openclaw.compile.plan import HostPlan

SYSTEM_UNITS = Path("/usr/lib/systemd/system")


def available() -> bool:
    return shutil.which("systemd-analyze") is not None and SYSTEM_UNITS.is_dir()


def build_root(plan: HostPlan, root: Path) -> Path:
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "lib").symlink_to("usr/lib")
    (root / "usr/bin").mkdir()
    (root / "bin").symlink_to("usr/bin")
    for f in plan.files:
        target = root / f.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.content)
        target.chmod(f.mode)
    for f in plan.files:
        if not f.path.endswith(".service"):
            continue
        for line in f.content.decode().splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=", "ExecStartPost=")):
                exe = line.split("=", 1)[1].split()[0].lstrip("-@+!")
                fake = root / ("usr/local/bin/" + exe if "/" not in exe else exe.lstrip("/"))
                if not fake.exists():
                    fake.parent.mkdir(parents=True, exist_ok=True)
                    fake.write_text("#!/bin/sh\n")
                    fake.chmod(0o755)
    return root


def unit_paths(plan: HostPlan) -> list[str]:
    return [f.path.lstrip("/") for f in plan.files if f.path.endswith((".service", ".timer"))]


def verify(plan: HostPlan, units: list[str] | None = None) -> list[str]:
    """Problems systemd finds in the plan's units (all of them, or those given)."""
    with tempfile.TemporaryDirectory(prefix="openclaw-verify-") as tmp:
        root = build_root(plan, Path(tmp) / "root")
        names = units if units is not None else unit_paths(plan)
        r = subprocess.run(["systemd-analyze", "verify", f"--root={root}", *names], cwd=root,
                           capture_output=True, text=True)
        out = (r.stdout + r.stderr).replace(str(root), "")
        problems = [line.strip() for line in out.splitlines() if line.strip()]
        if r.returncode != 0 and not problems:
            problems = [f"systemd-analyze verify exited {r.returncode}"]
        return problems


def exposure(plan: HostPlan, unit: str) -> float | None:
    with tempfile.TemporaryDirectory(prefix="openclaw-security-") as tmp:
        root = build_root(plan, Path(tmp) / "root")
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--root={root}",
                            unit], capture_output=True, text=True)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout + r.stderr)
        return float(m.group(1)) if m else None
