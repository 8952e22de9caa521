"""Golden trees: each case compiles to its committed expected/ tree. A template change shows
up here as a diff; after review, `pytest --regen-golden` rewrites the trees."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from openclaw.compile.tree import write_tree
from tests.compile.cases import CASES, GOLDEN, plans


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES)
def test_golden_tree(case: str, tmp_path: Path, regen_golden: bool) -> None:
    out = tmp_path / "tree"
    write_tree(plans(case), out)
    expected = GOLDEN / case / "expected"
    if regen_golden:
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(out, expected)
    got, want = _tree(out), _tree(expected)
    assert sorted(got) == sorted(want), "files differ from the golden tree"
    for name in sorted(want):
        assert got[name] == want[name], f"{case}: {name} differs from the golden tree"


@pytest.mark.parametrize("case", CASES)
def test_tree_modes_follow_the_manifest(case: str, tmp_path: Path) -> None:
    out = tmp_path / "tree"
    write_tree(plans(case), out)
    manifest = json.loads((out / "manifest.json").read_text())
    for host in manifest["hosts"]:
        base = out / host["region"] / host["host"]
        for f in host["files"]:
            mode = os.stat(base / f["path"].lstrip("/")).st_mode & 0o7777
            assert f"{mode:04o}" == f["mode"], f["path"]
            if f["path"].endswith("/.env"):
                assert f["mode"] == "0600" and f["sensitive"] is True


@pytest.mark.parametrize("case", CASES)
def test_compile_is_deterministic(case: str, tmp_path: Path) -> None:
    from openclaw.compile import compile_fleet
    from tests.compile.cases import project
    p = project(case)
    assert compile_fleet(p.config, p.inventory) == compile_fleet(p.config, p.inventory)
    write_tree(plans(case), tmp_path / "a")
    write_tree(plans(case), tmp_path / "b")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_content_shared_between_hosts_is_written_once(tmp_path: Path) -> None:
    """A fleet's hosts share all but a few files: each distinct content and mode is written
    once and hard-linked for the other hosts (compile -o of 1,000 hosts: 47 files per host,
    about 1,050 distinct)."""
    out = tmp_path / "tree"
    write_tree(plans("reference"), out)
    manifest = json.loads((out / "manifest.json").read_text())
    first, second = manifest["hosts"][0], manifest["hosts"][1]

    def inode(host: dict[str, str], path: str) -> int:
        return os.stat(out / host["region"] / host["host"] / path.lstrip("/")).st_ino
    assert inode(first, "/opt/openclaw/scripts/lib.sh") == \
        inode(second, "/opt/openclaw/scripts/lib.sh")
    assert inode(first, "/opt/openclaw/config/host.conf") != \
        inode(second, "/opt/openclaw/config/host.conf")
    # Manifest: one host per line, JSON all the same.
    text = (out / "manifest.json").read_text()
    assert len(text.splitlines()) == len(manifest["hosts"]) + 2
