"""The install script, run for real on a sandbox root: atomic, and a secret file is never
readable by anyone else at any moment."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from openclaw.compile.plan import HostPlan
from openclaw.sync import gate, install, probe
from openclaw.sync.changes import HostChanges, compute
from tests.sync.test_changes import CONF, ENV, UNIT, desired, plan, state

WRAPPERS = {
    # Record the mode of every file cp creates, the moment it exists.
    "cp": '/bin/cp "$@"; for last; do :; done; stat -c "cp %a %n" "$last" >>"$WRAPLOG"',
    # Record the mode of every file renamed into place, just before the rename.
    "mv": 'for a; do case $a in -*) ;; *) stat -c "mv %a %n" "$a" >>"$WRAPLOG"; break;; '
          'esac; done; exec /bin/mv "$@"',
}


def run_install(tmp_path: Path, root: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    p = plan(str(root))
    fresh = "WHOAMI\tme\nSYSTEMD\t0\nEND\n"
    values = {"K1": "secret-one-1111", "K2": "secret-two-2222"}
    changes = compute(p, probe.parse_state(p, fresh), desired=desired(p, values), contents={},
                      salt="s")
    paths = install.to_write(changes)
    contents = {f.path: f.content for f in p.files} | desired(p, values)
    staging = tmp_path / "stage"
    staging.mkdir(mode=0o700)
    (staging / "bundle.tar").write_bytes(install.bundle(paths, contents))
    lock = Path(p.target(probe.LOCK_PATH))
    lock.mkdir(parents=True)
    (lock / "holder").write_text("tok\tme\t99999999999\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, body in WRAPPERS.items():
        (bindir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bindir / name).chmod(0o755)
    log = tmp_path / "wrap.log"
    script = install.install_script(p, changes, str(staging), paths, "tok")
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                       env={"PATH": f"{bindir}:/usr/bin:/bin", "WRAPLOG": str(log)})
    return r, log.read_text().splitlines() if log.exists() else []


def test_install_writes_every_file_atomically_with_final_modes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    r, log = run_install(tmp_path, root)
    assert r.returncode == 0, r.stderr
    assert "DONE" in r.stdout
    for path, mode in ((UNIT, 0o644), (CONF, 0o640), (ENV, 0o600)):
        st = os.stat(root / path.lstrip("/"))
        assert stat.S_IMODE(st.st_mode) == mode
    env_text = (root / ENV.lstrip("/")).read_text()
    assert "K1=secret-one-1111" in env_text
    created = [line for line in log if line.startswith("cp ")]
    renamed = [line for line in log if line.startswith("mv ") and ".openclaw-new" in line]
    assert len(created) == len(renamed) == 3
    # Every temp file is born 0600 (umask 077), beside its target, and renamed complete.
    assert all(line.split()[1] == "600" for line in created)
    assert all(".openclaw-new" in line for line in created + renamed)
    modes = {line.split()[2].replace(".openclaw-new", "").replace("/.", "/"): line.split()[1]
             for line in renamed}
    assert modes[str(root) + ENV] == "600" and modes[str(root) + UNIT] == "644"
    assert not (tmp_path / "stage").exists()  # staging removed
    leftovers = list(root.rglob("*.openclaw-new"))
    assert leftovers == []
    # Generation 1 records that none of the three files existed before.
    gen = root / "var/lib/openclaw/generations"
    assert (gen / "current").read_text() == "1\n"
    assert stat.S_IMODE(os.stat(gen).st_mode) == 0o700
    # Its parent holds the mode record the LLM gateway's account reads: traversable.
    assert stat.S_IMODE(os.stat(gen.parent).st_mode) == 0o755
    manifest = (gen / "1/manifest").read_text().splitlines()
    assert sorted(line.split("\t")[1] for line in manifest) == ["0", "0", "0"]
    assert "STEP\tgeneration 1" in r.stdout


def test_install_refuses_without_the_lock(tmp_path: Path) -> None:
    root = tmp_path / "root"
    p = plan(str(root))
    changes = compute(p, probe.parse_state(p, "WHOAMI\tme\nSYSTEMD\t0\nEND\n"),
                      desired=desired(p, {"K1": "aaaa", "K2": "bbbb"}), contents={}, salt="s")
    script = install.install_script(p, changes, str(tmp_path / "nostage"), [], "mytoken")
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert r.returncode == 75 and "LOST the host lock" in r.stderr
    assert not (root / "opt").exists()


def test_lock_is_exclusive_and_expired_leases_are_taken(tmp_path: Path) -> None:
    p = plan(str(tmp_path / "root"))

    def take(token: str, force: bool = False) -> str:
        return subprocess.run(["sh", "-c", install.lock_script(p, token, f"me {token}",
                                                               force=force)],
                              capture_output=True, text=True).stdout
    assert take("one").strip() == "LOCKED"
    assert take("two").strip() == "BUSY\tme one"
    assert take("two", force=True).strip() == "LOCKED"
    holder = Path(p.target(probe.LOCK_PATH)) / "holder"
    token, who, _ = holder.read_text().split("\t")
    assert (token, who) == ("two", "me two")
    holder.write_text("three\tgone\t1\n")  # a lease that expired long ago
    assert take("four").strip() == "LOCKED"
    subprocess.run(["sh", "-c", install.unlock_script(p, "four")], check=True)
    assert not holder.parent.exists()


def test_owed_unit_steps_are_recorded_before_writes_and_cleared_after(tmp_path: Path) -> None:
    from dataclasses import replace
    root = tmp_path / "root"
    p = plan(str(root))
    changes = compute(p, probe.parse_state(p, "WHOAMI\tme\nSYSTEMD\t0\nEND\n"),
                      desired=desired(p, {"K1": "x" * 8, "K2": "y" * 8}), contents={},
                      salt="s")
    changes = replace(changes, pending=(UNIT,))
    script = install.install_script(p, changes, str(tmp_path / "stage"), [], "tok")
    assert script.index('mv -f "$P.new" "$P"') < script.index("\nsave ")
    pending = root / probe.PENDING_PATH.lstrip("/")
    # Stopped before its unit steps (here: a failure right after the writes): the record stays.
    cut = script.replace('rm -f "$P"', 'exit 1', 1)
    lock = Path(p.target(probe.LOCK_PATH))
    lock.mkdir(parents=True)
    (lock / "holder").write_text("tok\tme\t99999999999\n")
    assert subprocess.run(["sh", "-c", cut], capture_output=True).returncode == 1
    assert pending.read_text() == UNIT + "\n"
    out = subprocess.run(["sh", "-c", probe.state_script(p, "s")],
                         capture_output=True, text=True).stdout
    assert probe.parse_state(p, out).pending == frozenset({UNIT})
    (lock / "holder").write_text("tok\tme\t99999999999\n")
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not pending.exists()


def test_the_lock_directory_is_private_and_never_a_link(tmp_path: Path) -> None:
    p = plan(str(tmp_path / "root"))
    lock = Path(p.target(probe.LOCK_PATH))
    script = install.lock_script(p, "one", "me")
    assert subprocess.run(["sh", "-c", script], capture_output=True,
                          text=True).stdout.strip() == "LOCKED"
    assert stat.S_IMODE(os.stat(lock.parent).st_mode) == 0o700
    subprocess.run(["sh", "-c", install.unlock_script(p, "one")], check=True)
    # Someone else's directory put where the lock's should be: refused, nothing written there.
    lock.parent.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    lock.parent.symlink_to(elsewhere)
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert "LOCKED" not in r.stdout and "refusing to use it" in r.stderr
    assert list(elsewhere.iterdir()) == []


def test_the_shared_env_of_earlier_versions_is_removed_after_the_new_files(
        tmp_path: Path) -> None:
    """Before each unit had its own environment file, every unit read config/.env, a file
    of the service account's holding every secret: apply removes it (a link there too)."""
    from dataclasses import replace
    root = tmp_path / "root"
    old = "/opt/openclaw/config/.env"
    p = replace(plan(str(root)), retired=(old,))
    for planted in ("file", "link"):
        target = Path(p.target(old))
        target.parent.mkdir(parents=True, exist_ok=True)
        victim = tmp_path / "victim"
        victim.write_text("keep")
        if planted == "file":
            target.write_text("PROVIDER_KEY=old-secret\n")
        else:
            target.symlink_to(victim)
        out = subprocess.run(["sh", "-c", probe.state_script(p, "s")],
                             capture_output=True, text=True).stdout
        changes = compute(p, probe.parse_state(p, out),
                          desired=desired(p, {"K1": "x" * 8, "K2": "y" * 8}), contents={},
                          salt="s")
        assert [(c.path, c.sensitive) for c in changes.files if c.action == "remove"] == [
            (old, True)]
        paths = install.to_write(changes)
        contents = {f.path: f.content for f in p.files} | desired(
            p, {"K1": "x" * 8, "K2": "y" * 8})
        staging = tmp_path / f"stage-{planted}"
        staging.mkdir(mode=0o700)
        (staging / "bundle.tar").write_bytes(install.bundle(paths, contents))
        script = install.install_script(p, changes, str(staging), paths, "tok")
        if paths:
            assert script.index(f"rm -f {p.target(old)}") > script.index("\nput ")
        lock = Path(p.target(probe.LOCK_PATH))
        lock.mkdir(parents=True, exist_ok=True)
        (lock / "holder").write_text("tok\tme\t99999999999\n")
        r = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert not os.path.lexists(target) and victim.read_text() == "keep"
        assert f"removed {p.target(old)}" in r.stdout
        out = subprocess.run(["sh", "-c", probe.state_script(p, "s")],
                             capture_output=True, text=True).stdout
        again = compute(p, probe.parse_state(p, out), desired=desired(
            p, {"K1": "x" * 8, "K2": "y" * 8}), contents={}, salt="s")
        assert [c for c in again.files if c.action == "remove"] == []


def _apply(tmp_path: Path, p: HostPlan, name: str) -> HostChanges:
    """Probe the sandbox, compute, install for real; returns what was applied."""
    values = {"K1": "secret-one-1111", "K2": "secret-two-2222"}
    out = subprocess.run(["sh", "-c", probe.state_script(p, "s")], capture_output=True,
                         text=True).stdout
    wanted = desired(p, values) if any(f.path == ENV for f in p.files) else {}
    changes = compute(p, probe.parse_state(p, out), desired=wanted, contents={}, salt="s")
    paths = install.to_write(changes)
    staging = tmp_path / f"stage-{name}"
    staging.mkdir(mode=0o700)
    contents = {f.path: f.content for f in p.files} | wanted
    (staging / "bundle.tar").write_bytes(install.bundle(paths, contents))
    lock = Path(p.target(probe.LOCK_PATH))
    lock.mkdir(parents=True, exist_ok=True)
    (lock / "holder").write_text("tok\tme\t99999999999\n")
    r = subprocess.run(["sh", "-c", install.install_script(p, changes, str(staging), paths,
                                                           "tok")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "DONE" in r.stdout, r.stderr
    return changes


def _plan_now(p: HostPlan) -> HostChanges:
    out = subprocess.run(["sh", "-c", probe.state_script(p, "s")], capture_output=True,
                         text=True).stdout
    values = {"K1": "secret-one-1111", "K2": "secret-two-2222"}
    wanted = desired(p, values) if any(f.path == ENV for f in p.files) else {}
    return compute(p, probe.parse_state(p, out), desired=wanted, contents={}, salt="s")


def test_what_leaves_the_plan_leaves_the_host_and_hand_edits_are_drift(tmp_path: Path) -> None:
    from dataclasses import replace
    root = tmp_path / "root"
    p = plan(str(root))
    _apply(tmp_path, p, "1")
    record = (root / "var/lib/openclaw/generations/1" / probe.RECORD).read_text().splitlines()
    assert sorted(line.split("\t")[1] for line in record if line.startswith("F")) == sorted(
        f.path for f in p.files)
    assert not _plan_now(p).changed  # in sync, nothing is drift
    # A directory re-moded by hand is drift too.
    d = p.directories[-1]
    Path(p.target(d.path)).chmod(0o777)
    (moded,) = [x for x in _plan_now(p).directories if x.action != "ok"]
    assert (moded.path, moded.action, moded.drift) == (d.path, "update",
                                                       "mode or owner changed on the host")
    Path(p.target(d.path)).chmod(d.mode)
    # A hand edit is drift, not a change of openclaw.yaml; apply undoes it.
    conf = Path(p.target(CONF))
    conf.write_text("A=1\nB=hand-edited\n")
    (edited,) = [f for f in _plan_now(p).files if f.action != "ok"]
    assert (edited.path, edited.action, edited.drift) == (CONF, "update", "edited on the host")
    conf.unlink()
    (deleted,) = [f for f in _plan_now(p).files if f.action != "ok"]
    assert (deleted.action, deleted.drift) == ("create", "deleted on the host")
    _apply(tmp_path, p, "2")
    # The file leaves openclaw.yaml: the next plan removes it, the apply keeps its bytes in
    # the generation and deletes it; a file openclaw never wrote is never touched.
    stranger = root / "opt/openclaw/config/operator-notes.txt"
    stranger.write_text("mine")
    conf.write_text("A=1\nB=edited-before-removal\n")
    smaller = replace(p, files=tuple(f for f in p.files if f.path != CONF))
    (removal,) = [f for f in _plan_now(smaller).files if f.action == "remove"]
    assert (removal.path, removal.drift) == (CONF, "edited on the host")
    _apply(tmp_path, smaller, "3")
    assert not conf.exists() and stranger.read_text() == "mine"
    gen = root / "var/lib/openclaw/generations"
    manifest = (gen / "3/manifest").read_text().splitlines()
    (saved,) = [line.split("\t") for line in manifest if line.split("\t")[2] == str(conf)]
    assert saved[1] == "1"  # it existed: rollback can put it back
    assert (gen / "3/files" / saved[0]).read_text() == "A=1\nB=edited-before-removal\n"
    assert not _plan_now(smaller).changed


def test_units_the_last_apply_enabled_are_stopped_and_disabled_when_dropped() -> None:
    from dataclasses import replace
    p = plan()
    st = state(p, "salt", {"K1": "v1-aaaa", "K2": "v2-bbbb"})
    record = [f"MANAGED\tU\t{name}" for name in ("x.service", "openclaw-worker@3.service",
                                                   "openclaw-dashboard.service",
                                                   "openclaw-backup.timer")]
    extra = ["Id=openclaw-worker@3.service", "ActiveState=active", "UnitFileState=enabled",
             "", "Id=openclaw-dashboard.service", "ActiveState=inactive",
             "UnitFileState=enabled", "", "Id=openclaw-backup.timer", "ActiveState=active",
             "UnitFileState=enabled", ""]
    lines = ["WHOAMI\troot", "SYSTEMD\t1", *record, *extra, "END"]
    merged = replace(st, managed_units=probe.parse_state(p, "\n".join(lines)).managed_units,
                     units={**st.units, **probe.parse_state(p, "\n".join(lines)).units})
    c = compute(p, merged, desired=desired(p, {"K1": "v1-aaaa", "K2": "v2-bbbb"}),
                contents={}, salt="salt")
    gone = {u.name: (u.stop, u.disable) for u in c.units if u.stop or u.disable}
    assert gone == {"openclaw-backup.timer": (True, True),
                    "openclaw-dashboard.service": (False, True),
                    "openclaw-worker@3.service": (True, True)}
    assert c.changed
    script = install.install_script(p, c, "/tmp/none", [], "tok")
    assert ("systemctl disable --now --quiet openclaw-backup.timer "
            "openclaw-dashboard.service openclaw-worker@3.service") in script
    # A backup the timer started is stopped with it.
    assert script.index("systemctl disable --now") < script.index(
        "systemctl stop openclaw-backup.service")
    # A unit the last apply enabled and someone stopped by hand is drift.
    stopped = replace(merged, units={**merged.units, "x.service": ("enabled", "inactive")})
    (x,) = [u for u in compute(p, stopped, desired=desired(p, {"K1": "v1-aaaa",
                                                                "K2": "v2-bbbb"}),
                               contents={}, salt="salt").units if u.name == "x.service"]
    assert (x.start, x.drift) == (True, "stopped")


def test_a_partial_plan_carries_the_record_forward(tmp_path: Path) -> None:
    """A rollback applies a plan of only the files it restores: the record still names
    every file openclaw manages there, so the next plan's removals are not lost."""
    from dataclasses import replace
    root = tmp_path / "root"
    p = plan(str(root))
    _apply(tmp_path, p, "1")
    partial = replace(p, files=tuple(f for f in p.files if f.path == CONF))
    Path(p.target(CONF)).write_text("A=rolled-back\n")
    values = {"K1": "secret-one-1111", "K2": "secret-two-2222"}
    out = subprocess.run(["sh", "-c", probe.state_script(partial, "s")], capture_output=True,
                         text=True).stdout
    changes = compute(partial, probe.parse_state(partial, out), desired={}, contents={},
                      salt="s", complete=False)
    assert not [f for f in changes.files if f.action == "remove"]
    paths = install.to_write(changes)
    staging = tmp_path / "stage-partial"
    staging.mkdir(mode=0o700)
    (staging / "bundle.tar").write_bytes(install.bundle(paths, {CONF: b"A=1\nB=2\n"}))
    r = subprocess.run(["sh", "-c", install.install_script(partial, changes, str(staging),
                                                           paths, "tok")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    record = (root / "var/lib/openclaw/generations/2" / probe.RECORD).read_text()
    assert sorted(line.split("\t")[1] for line in record.splitlines()
                  if line.startswith("F")) == sorted(f.path for f in p.files)
    assert not _plan_now(p).changed and values


def test_a_leaving_host_keeps_nothing_openclaw_wrote(tmp_path: Path) -> None:
    """decommission plans the host as empty: every recorded file goes, nothing else."""
    from openclaw.live import leaving
    root = tmp_path / "root"
    p = plan(str(root))
    _apply(tmp_path, p, "1")
    stranger = root / "opt/openclaw/config/operator-notes.txt"
    stranger.write_text("mine")
    changes = _apply(tmp_path, leaving(p), "2")
    assert sorted(f.path for f in changes.files if f.action == "remove") == sorted(
        f.path for f in p.files)
    assert [f.path for f in p.files if Path(p.target(f.path)).exists()] == []
    assert stranger.read_text() == "mine"
    assert not _plan_now(leaving(p)).changed


def test_dropped_directories_go_a_disposable_tree_whole_others_only_when_empty(
        tmp_path: Path) -> None:
    from dataclasses import replace

    from openclaw.compile.plan import Account, Directory
    root = tmp_path / "root"
    venv = "/opt/openclaw/llm-gateway"
    notes = "/opt/openclaw/notes"
    p = plan(str(root))
    bigger = replace(p, directories=(*p.directories, Directory(venv, 0o755, "root", "root",
                                                               True),
                                     Directory(notes, 0o755, "root", "root")),
                     accounts=(*p.accounts, Account("openclaw-llm", "openclaw-llm", venv)))
    _apply(tmp_path, bigger, "1")
    record = (root / "var/lib/openclaw/generations/1" / probe.RECORD).read_text()
    assert f"D\t{venv}\t1\t755\t" in record and f"D\t{notes}\t0\t755\t" in record
    assert "A\topenclaw-llm\topenclaw-llm\n" in record and "A\tmilkbot" not in record
    (Path(bigger.target(venv)) / "bin").mkdir()
    (Path(bigger.target(venv)) / "bin/litellm").write_text("installed by bootstrap")
    (Path(bigger.target(notes)) / "mine.txt").write_text("the operator's")
    out = subprocess.run(["sh", "-c", probe.state_script(p, "s")], capture_output=True,
                         text=True).stdout
    state = probe.parse_state(p, out)
    gone = compute(p, state, desired=desired(p, {"K1": "secret-one-1111",
                                                 "K2": "secret-two-2222"}),
                   contents={}, salt="s")
    assert [(d.path, d.action, d.tree) for d in gone.directories if d.action == "remove"] \
        == [(venv, "remove", True), (notes, "remove", False)]
    # A sandbox manages no accounts; on a real host the gateway's account would go too.
    assert gone.retire_accounts == ()
    assert compute(p, replace(state), desired=desired(p, {"K1": "secret-one-1111",
                                                          "K2": "secret-two-2222"}),
                   contents={}, salt="s").changed
    _apply(tmp_path, p, "2")
    assert not Path(bigger.target(venv)).exists()
    assert (Path(bigger.target(notes)) / "mine.txt").read_text() == "the operator's"
    real = compute(replace(p, root="/"), replace(state), desired=desired(
        p, {"K1": "secret-one-1111", "K2": "secret-two-2222"}), contents={}, salt="s")
    assert real.retire_accounts == ("user openclaw-llm", "group openclaw-llm")
    script = install.install_script(replace(p, root="/"), real, "/tmp/none", [], "tok")
    assert "userdel openclaw-llm" in script and script.index("rm -rf --one-file-system") \
        < script.index("userdel openclaw-llm")


def _locked(tmp_path: Path, gate: str = "", token: str = "tok", force: bool = False,
            ) -> tuple[HostPlan, str]:
    p = plan(str(tmp_path / "root"))
    fresh = "WHOAMI\tme\nSYSTEMD\t0\nEND\n"
    values = {"K1": "secret-one-1111", "K2": "secret-two-2222"}
    changes = compute(p, probe.parse_state(p, fresh), desired=desired(p, values), contents={},
                      salt="s")
    paths = install.to_write(changes)
    staging = tmp_path / f"stage-{token}"
    staging.mkdir(mode=0o700)
    contents = {f.path: f.content for f in p.files} | desired(p, values)
    (staging / "bundle.tar").write_bytes(install.bundle(paths, contents))
    body = install.install_script(p, changes, str(staging), paths, token)
    return p, install.locked_install(p, token, f"me {token}", str(staging), body,
                                     probe.state_script(p, "s"), gate, 4, force=force)


def test_a_locked_install_takes_checks_gates_and_releases_the_lock_in_one_command(
        tmp_path: Path) -> None:
    check = "echo 'FAIL\tnot yet' >&2; [ -f \"$GATE_OK\" ] && echo PASS || echo 'FAIL\tnot yet'"
    p, script = _locked(tmp_path, check)
    flag = tmp_path / "ok"
    # The gate passes on its third poll: polled on the host, in the same command.
    poller = subprocess.Popen(["sh", "-c", f"sleep 3; touch {flag}"])
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin", "GATE_OK": str(flag)})
    poller.wait()
    assert r.returncode == 0, r.stderr
    done, state, verdict = install.sections(r.stdout)
    assert verdict is not None and gate.verdict(verdict) == ("pass", "")
    assert "DONE" in done and verdict.splitlines()[-1] == "PASS"
    # how long the host took to pass, for the report: polled every 2 s, passed after ~3 s
    assert (gate.seconds(verdict) or 0) in range(2, 8)
    after = compute(p, probe.parse_state(p, state or ""), desired=desired(
        p, {"K1": "secret-one-1111", "K2": "secret-two-2222"}), contents={}, salt="s")
    assert not after.changed  # the host read again inside the command matches its plan
    assert not Path(p.target(probe.LOCK_PATH)).exists()  # released
    # A gate that never passes: its last verdict once the timeout (4 s) runs out.
    p, script = _locked(tmp_path, "echo 'FAIL\tstill down'", token="t2")
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert install.sections(r.stdout)[2] is not None
    assert "FAIL\tstill down" in (install.sections(r.stdout)[2] or "")
    assert (gate.seconds(install.sections(r.stdout)[2] or "") or 0) >= 4
    assert not Path(p.target(probe.LOCK_PATH)).exists()


def test_a_lock_whose_command_still_runs_is_not_taken_over(tmp_path: Path) -> None:
    """A controller gone mid-apply leaves its host's command running until its next output:
    the next run waits for that command, never installs beside it."""
    p, _ = _locked(tmp_path, token="old")
    lock = Path(p.target(probe.LOCK_PATH))
    lock.mkdir(parents=True)
    (lock / "holder").write_text("old\tme old\t99999999999\n")
    sleeper = subprocess.Popen(["sleep", "300"])
    try:
        (lock / "pid").write_text(f"{sleeper.pid}\n")
        take = ["sh", "-c", install.lock_script(p, "new", "me new")]
        assert subprocess.run(take, capture_output=True, text=True).stdout.startswith("BUSY")
        (lock / "holder").write_text("old\tme old\t1\n")  # even with its lease expired
        assert subprocess.run(take, capture_output=True, text=True).stdout.startswith("BUSY")
        forced = subprocess.Popen(["sh", "-c", install.lock_script(p, "new", "me new",
                                                                   force=True)],
                                  stdout=subprocess.PIPE, text=True)
        subprocess.run(["sleep", "2"])
        assert forced.poll() is None  # waiting for the running command
        sleeper.kill()
        sleeper.wait()
        out, _ = forced.communicate(timeout=30)
        assert out.strip() == "LOCKED"  # its command gone: taken over
    finally:
        sleeper.kill()


def test_a_locked_install_under_a_lock_its_run_holds_keeps_it(tmp_path: Path) -> None:
    """bootstrap locks its hosts before it reads them: the install inside takes nothing and
    releases nothing."""
    p, script = _locked(tmp_path, token="held")
    lock = Path(p.target(probe.LOCK_PATH))
    lock.mkdir(parents=True)
    (lock / "holder").write_text("held\tme held\t99999999999\n")
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "DONE" in install.sections(r.stdout)[0]
    assert (lock / "holder").read_text().startswith("held\t")  # still the run's
