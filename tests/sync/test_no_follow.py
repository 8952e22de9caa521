"""Root never follows a path the service account can change: the attacks of the security
review, run for real as root with `nobody` as the service account (its state directories are
nobody's, as on a host), each failing with the apply saying why."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from openclaw.compile.plan import Directory, File, HostPlan
from openclaw.sync import install, probe
from openclaw.sync.changes import HostChanges, compute

USER, GROUP = "nobody", "nogroup"
CONF = "/opt/openclaw/state/openclaw/openclaw.json"
ROOT_CONF = "/opt/openclaw/config/a.conf"


def plan(root: Path, port: int) -> HostPlan:
    doc = {"gateway": {"port": port}}
    return HostPlan("h", "r", str(root), (
        Directory("/opt/openclaw", 0o755, "root", "root"),
        Directory("/opt/openclaw/config", 0o755, "root", "root"),
        Directory("/opt/openclaw/state", 0o750, USER, GROUP),
        Directory("/opt/openclaw/state/openclaw", 0o700, USER, GROUP)), (
        File(ROOT_CONF, f"PORT={port}\n".encode(), 0o644, "root", "root"),
        File(CONF, (json.dumps(doc) + "\n").encode(), 0o600, USER, GROUP, merge=True)))


@pytest.fixture
def root() -> Iterator[Path]:
    assert os.geteuid() == 0, "these attacks need root, as on a host (make test runs as root)"
    r = Path(tempfile.mkdtemp(prefix="openclaw-nofollow-"))
    r.chmod(0o755)
    try:
        yield r
    finally:
        shutil.rmtree(r)


def changes_for(p: HostPlan) -> HostChanges:
    out = subprocess.run(["sh", "-c", probe.state_script(p, "s")],
                         capture_output=True, text=True, check=True).stdout
    c = compute(p, probe.parse_state(p, out), desired={}, contents={}, salt="s")
    return replace(c, sandbox=False)  # owners and runuser as on a real host


def apply(p: HostPlan, tmp: Path) -> subprocess.CompletedProcess[str]:
    c = changes_for(p)
    paths = install.to_write(c)
    staging = Path(tempfile.mkdtemp(dir=tmp))
    contents = {f.path: f.content for f in p.files} | c.merged
    (staging / "bundle.tar").write_bytes(install.bundle(paths, contents))
    lock = Path(p.target(probe.LOCK_PATH))
    lock.mkdir(parents=True, exist_ok=True)
    (lock / "holder").write_text("tok\tme\t99999999999\n")
    return subprocess.run(["sh", "-c", install.install_script(p, c, str(staging), paths,
                                                              "tok")],
                          capture_output=True, text=True)


def victim(root: Path) -> Path:
    """A root-only file (the stand-in for /etc/shadow)."""
    v = root / "shadow"
    v.write_text("root:canary-shadow-hash:19000::::::\n")
    v.chmod(0o640)
    return v


def intact(v: Path) -> bool:
    st = v.stat()
    return (v.read_text() == "root:canary-shadow-hash:19000::::::\n" and st.st_uid == 0
            and stat.S_IMODE(st.st_mode) == 0o640)


def test_files_in_the_service_accounts_directories_are_its_own(root: Path) -> None:
    r = apply(plan(root, 1), root)
    assert r.returncode == 0, r.stderr
    conf = root / CONF.lstrip("/")
    st = conf.stat()
    assert pwd.getpwuid(st.st_uid).pw_name == USER and stat.S_IMODE(st.st_mode) == 0o600
    assert json.loads(conf.read_text()) == {"gateway": {"port": 1}}
    assert pwd.getpwuid((root / "opt/openclaw/state/openclaw").stat().st_uid).pw_name == USER


def test_a_link_at_the_temp_name_leads_nowhere(root: Path) -> None:
    assert apply(plan(root, 1), root).returncode == 0
    v = victim(root)
    state = root / "opt/openclaw/state/openclaw"
    for name in (".openclaw.json.openclaw-new", ".a.conf.openclaw-new"):
        (state / name).symlink_to(v)
    r = apply(plan(root, 2), root)
    assert r.returncode == 0, r.stderr
    assert intact(v)
    assert json.loads((state / "openclaw.json").read_text())["gateway"]["port"] == 2


def test_a_state_directory_swapped_for_a_link_is_refused(root: Path) -> None:
    assert apply(plan(root, 1), root).returncode == 0
    secret_dir = root / "rootonly"
    secret_dir.mkdir(mode=0o700)
    state = root / "opt/openclaw/state/openclaw"
    shutil.rmtree(state)
    state.symlink_to(secret_dir)
    r = apply(plan(root, 2), root)
    assert r.returncode == 1
    assert f"{state} is a symbolic link where openclaw manages a file or directory" in r.stderr
    assert secret_dir.stat().st_uid == 0 and stat.S_IMODE(secret_dir.stat().st_mode) == 0o700
    assert list(secret_dir.iterdir()) == []


def test_a_managed_file_swapped_for_a_link_is_never_read_nor_written(root: Path) -> None:
    assert apply(plan(root, 1), root).returncode == 0
    v = victim(root)
    conf = root / CONF.lstrip("/")
    conf.unlink()
    conf.symlink_to(v)
    p = plan(root, 2)
    c = changes_for(p)
    assert "canary-shadow" not in json.dumps([f.diff for f in c.files])
    r = apply(p, root)
    assert r.returncode == 1 and "is a symbolic link where openclaw manages" in r.stderr
    assert intact(v)
    gens = root / "var/lib/openclaw/generations"
    saved = [f.read_text() for f in gens.rglob("files/*")]
    assert not any("canary-shadow" in s for s in saved)  # nothing for rollback to print


def test_a_directory_root_made_before_is_handed_to_the_account(root: Path) -> None:
    # OpenClaw was onboarded as root before openclaw arrived: its state is root's.
    conf = root / CONF.lstrip("/")
    conf.parent.mkdir(parents=True)
    conf.write_text('{"channels": {"telegram": {"botToken": "1:own-canary"}}}\n')
    conf.chmod(0o600)
    r = apply(plan(root, 1), root)
    assert r.returncode == 0, r.stderr
    for path in (conf.parent, conf):
        assert pwd.getpwuid(path.stat().st_uid).pw_name == USER
    assert json.loads(conf.read_text())["channels"]["telegram"]["botToken"] == "1:own-canary"
