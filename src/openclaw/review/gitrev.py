"""Read a revision's files with git, without touching the working tree or the index."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

from openclaw.errors import OpenclawError


def _git(repo: Path, *args: str) -> bytes:
    try:
        r = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise OpenclawError("git is not installed; use --base-config/--base-inventory to "
                            "compare files without git") from None
    if r.returncode != 0:
        raise OpenclawError(f"git {' '.join(args[:2])}: "
                            f"{r.stderr.decode(errors='replace').strip()}")
    return r.stdout


def toplevel(path: Path) -> Path:
    start = path if path.is_dir() else path.parent
    return Path(_git(start.resolve(), "rev-parse", "--show-toplevel").decode().strip())


def materialize(repo: Path, rev: str, paths: list[str], into: Path) -> Path:
    """Extract `paths` (files or directories, relative to the repository) as they are at
    `rev` into `into`; those missing at that revision are skipped."""
    try:
        _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except OpenclawError:
        raise OpenclawError(f"unknown revision {rev!r} in {repo}") from None
    listed = _git(repo, "ls-tree", "--name-only", rev, "--", *paths).decode().split("\n")
    present = [p for p in paths if p.rstrip("/") in {x for x in listed if x}]
    if present:
        data = _git(repo, "archive", "--format=tar", rev, "--", *present)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(into, filter="data")
    return into


def relative(repo: Path, path: str) -> str:
    return os.path.relpath(Path(path).resolve(), repo)
