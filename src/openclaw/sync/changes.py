"""What would change on a host: HostPlan against HostState. Pure, and shared by plan, apply
and the reports."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field, replace

from openclaw.compile.plan import File, HostPlan
from openclaw.sync.merge import merge
from openclaw.sync.probe import HostState, PathState
from openclaw.sync.secrets import env_entries

MAX_DIFF_LINES = 400


@dataclass(frozen=True)
class FileChange:
    path: str
    action: str  # create | update | remove | ok
    sensitive: bool = False
    diff: str = ""  # unified diff of content (never for sensitive files)
    keys: tuple[tuple[str, str], ...] = ()  # sensitive: ("+", KEY) | ("-", KEY) | ("~", KEY)
    mode: tuple[str, str] | None = None  # (old, new) as octal text
    owner: tuple[str, str] | None = None  # ("user:group" old, new)
    created: str = ""  # for a create: "0640 root:milkbot"
    # Made on the host by hand since the last apply, not by openclaw.yaml: "edited",
    # "deleted", "mode or owner changed" (an update or create then undoes it).
    drift: str = ""
    tree: bool = False  # a directory removed with everything under it (Directory.disposable)

    @property
    def content_changed(self) -> bool:
        return self.action in ("create", "remove") or bool(self.diff or self.keys)


@dataclass(frozen=True)
class UnitChange:
    name: str
    enable: bool = False
    start: bool = False
    restart: bool = False
    # A unit the last apply enabled that openclaw.yaml no longer has: stopped and disabled
    # before its files go.
    stop: bool = False
    disable: bool = False
    drift: str = ""  # "disabled" / "stopped" on the host by hand since the last apply


@dataclass(frozen=True)
class HostChanges:
    host: str
    region: str
    address: str = ""
    files: tuple[FileChange, ...] = ()
    directories: tuple[FileChange, ...] = ()
    accounts: tuple[str, ...] = ()  # "user milkbot", "group milkbot" to create
    units: tuple[UnitChange, ...] = ()
    daemon_reload: bool = False
    systemd: bool = True
    sandbox: bool = False
    notes: tuple[str, ...] = ()
    error: str = ""
    plan: HostPlan | None = field(default=None, compare=False, repr=False)
    packages: tuple[str, ...] = ()  # bootstrap: "package curl", "llm-gateway (...)"
    # The pinned OpenClaw to install first: "openclaw 2026.8.1 -> 2026.9.6 (bundle)".
    runtime: str = ""
    # Merged files: the bytes to write, and the sha256 the host's copy had when they were
    # computed ("" when absent); apply refuses to write over a copy changed since.
    merged: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    expect: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # Paths whose unit steps are still owed: this apply's changes and an earlier apply's that
    # stopped before its steps; the install records them before writing anything.
    pending: tuple[str, ...] = ()
    # System accounts the config no longer needs (the LLM gateway's), removed after their
    # units stop; never the agent's own account.
    retire_accounts: tuple[str, ...] = ()
    # The plan lists everything the host should have (a rollback's or a peer's update does
    # not): what the last record names besides is removed, else carried forward.
    complete: bool = True

    @property
    def changed(self) -> bool:
        return bool([f for f in self.files + self.directories if f.action != "ok"]
                    or self.accounts or self.retire_accounts or self.packages or self.runtime
                    or self.daemon_reload
                    or any(u.enable or u.start or u.restart or u.stop or u.disable
                           for u in self.units))

    def count(self, action: str) -> int:
        return sum(1 for f in self.files if f.action == action)


def unified(path: str, old: bytes, new: bytes) -> str:
    a = old.decode(errors="replace").splitlines(keepends=True)
    b = new.decode(errors="replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(a, b, f"a{path}", f"b{path}", n=3))
    lines = [x if x.endswith("\n") else x + "\n\\ No newline at end of file\n" for x in lines]
    if len(lines) > MAX_DIFF_LINES:
        more = len(lines) - MAX_DIFF_LINES
        lines = [*lines[:MAX_DIFF_LINES], f"... {more} more diff lines not shown\n"]
    return "".join(lines)


def key_changes(old: dict[str, str], new: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Compare two KEY -> fingerprint maps; only names ever leave this function."""
    out = [("+", k) for k in sorted(new.keys() - old.keys())]
    out += [("-", k) for k in sorted(old.keys() - new.keys())]
    out += [("~", k) for k in sorted(old.keys() & new.keys()) if old[k] != new[k]]
    return tuple(sorted(out, key=lambda x: (x[1], x[0])))


def salted(salt: str, value: str) -> str:
    return hashlib.sha256((salt + value).encode()).hexdigest()


def _meta(state: PathState, mode: int, owner: str, group: str, sandbox: bool
          ) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    m = None if state.mode == mode else (f"{state.mode:04o}", f"{mode:04o}")
    o = None
    if not sandbox and (state.owner, state.group) != (owner, group):
        o = (f"{state.owner}:{state.group}", f"{owner}:{group}")
    return m, o


def file_change(f: File, state: PathState, sandbox: bool, *, current: bytes | None = None,
                current_keys: dict[str, str] | None = None,
                desired_keys: dict[str, str] | None = None) -> FileChange:
    if not state.exists or state.kind != "f":
        added = tuple(("+", k) for k, _ in f.secrets) if f.sensitive else ()
        return FileChange(f.path, "create", f.sensitive, keys=added,
                          created=_described(f.mode, f.owner, f.group, sandbox))
    mode, owner = _meta(state, f.mode, f.owner, f.group, sandbox)
    diff = ""
    keys: tuple[tuple[str, str], ...] = ()
    if f.sensitive:
        keys = key_changes(current_keys or {}, desired_keys or {})
    elif state.sha256 != f.sha256:
        diff = unified(f.path, current if current is not None else b"", f.content)
    action = "update" if (diff or keys or mode or owner) else "ok"
    return FileChange(f.path, action, f.sensitive, diff, keys, mode, owner)


def compute(plan: HostPlan, state: HostState, *, desired: dict[str, bytes],
            contents: dict[str, bytes], salt: str, address: str = "",
            complete: bool = True) -> HostChanges:
    """desired: final bytes of sensitive files (secrets resolved); contents: current bytes of
    non-sensitive files whose hash differs. complete: the plan lists every file the host
    should have, so recorded files it lacks are removed (a rollback's plan lists only the
    files it restores)."""
    sandbox = plan.root != "/"
    dirs = []
    for d in plan.directories:
        st = state.paths.get(d.path, PathState(False))
        # A recorded directory whose mode or owner is not what the last apply left: by hand.
        drift = _drift(st, state.managed.get(d.path))
        if not st.exists:
            dirs.append(FileChange(d.path, "create", drift=drift,
                                   created=_described(d.mode, d.owner, d.group, sandbox)))
            continue
        mode, owner = _meta(st, d.mode, d.owner, d.group, sandbox)
        dirs.append(FileChange(d.path, "update" if (mode or owner) else "ok", mode=mode,
                               owner=owner, drift=drift if (mode or owner) else ""))
    files = []
    merged: dict[str, bytes] = {}
    expect: dict[str, str] = {}
    notes: list[str] = []
    for f in plan.files:
        st = state.paths.get(f.path, PathState(False))
        drift = "" if f.merge else _drift(st, state.managed.get(f.path))
        if f.merge:
            change, content, note = merge_change(f, st, sandbox, state)
            files.append(change)
            if note:
                notes.append(note)
            if change.content_changed:
                merged[f.path], expect[f.path] = content, st.sha256 if st.exists else ""
        elif f.sensitive:
            want = {k: salted(salt, v) for k, v in env_entries(desired[f.path]).items()}
            files.append(file_change(f, st, sandbox, current_keys=state.secret_hashes.get(
                f.path, {}), desired_keys=want))
        else:
            files.append(file_change(f, st, sandbox, current=contents.get(f.path)))
        if drift:
            files[-1] = replace(files[-1], drift=drift)
    retire: list[str] = []
    if complete:
        files += removals(plan, state)
        dirs += dir_removals(plan, state)
        wanted = {(a.user, a.group) for a in plan.accounts}
        retire = [] if sandbox else [f"{kind} {name}" for user, group in
                                     state.managed_accounts if (user, group) not in wanted
                                     for kind, name in (("user", user), ("group", group))]
    written = {c.path for c in files if c.content_changed or c.action == "remove"}
    changed = written | state.pending
    unit_files = {p for p in changed if p.startswith("/etc/systemd/system/")}
    units: list[UnitChange] = []
    if state.systemd:
        units += unit_removals(plan, state) if complete else []
        # The degradation mode in force keeps some units stopped: apply leaves them so.
        held = dict(plan.mode_off).get(state.mode, ())
        if held and any(u.name in held for u in plan.units):
            notes.append(f"mode {state.mode} in force: {', '.join(sorted(held))} stay "
                         "stopped until the health check returns the host to FULL")
        for u in plan.units:
            enabled, active = state.units.get(u.name, ("not-found", "inactive"))
            running = active in ("active", "activating", "reloading")
            drift = ""
            if u.name in state.managed_units:  # enabled and started by the last apply
                drift = "disabled" if enabled not in ("enabled", "enabled-runtime") else \
                    "stopped" if u.start and not running else ""
            if u.name in held:
                drift = ""
            units.append(UnitChange(
                u.name, enable=u.enable and enabled not in ("enabled", "enabled-runtime"),
                start=u.start and not running and u.name not in held,
                restart=running and any(p in changed for p in u.restart_on), drift=drift))
        owed = sorted(state.pending - written)
        if owed and (unit_files or any(u.restart for u in units)):
            notes.append("an earlier apply stopped before its unit steps; they run now for: "
                         + ", ".join(owed[:5]) + (" ..." if len(owed) > 5 else ""))
    else:
        notes.append("no running systemd: unit steps skipped")
    if sandbox:
        notes.append(f"sandbox under {plan.root}: ownership not managed")
    accounts: list[str] = []
    for account in plan.accounts if not sandbox else ():
        if not state.accounts.get(f"group:{account.group}", True):
            accounts.append(f"group {account.group}")
        if not state.accounts.get(f"passwd:{account.user}", True):
            accounts.append(f"user {account.user}")
    step, error = runtime_step(plan, state)
    return HostChanges(
        plan.host, plan.region, address, tuple(files), tuple(dirs), tuple(accounts),
        tuple(units), daemon_reload=state.systemd and bool(changed & unit_files),
        systemd=state.systemd, sandbox=sandbox, notes=tuple(notes), error=error, plan=plan,
        merged=merged, expect=expect, runtime=step,
        pending=tuple(sorted(changed)) if state.systemd else (),
        retire_accounts=tuple(dict.fromkeys(retire)), complete=complete)


def _drift(st: PathState, recorded: tuple[str, str] | None) -> str:
    """What changed on the host since the last apply wrote this file (its record: sha256,
    "mode owner group")."""
    if recorded is None:
        return ""
    if not st.exists:
        return "deleted on the host"
    if st.kind == "f" and st.sha256 and st.sha256 != recorded[0]:
        return "edited on the host"
    if recorded[1] and recorded[1] != f"{st.mode:o} {st.owner} {st.group}":
        return "mode or owner changed on the host"
    return ""


def removals(plan: HostPlan, state: HostState) -> list[FileChange]:
    """Files the last apply wrote (or an earlier openclaw, `retired`) that openclaw.yaml no
    longer has: removed. One changed by hand since is said so (and kept in the generation)."""
    wanted = {f.path for f in plan.files} | {d.path for d in plan.directories}
    out = []
    for p in sorted((set(state.managed) | set(plan.retired)) - wanted):
        st = state.paths.get(p, PathState(False))
        if not st.exists or st.kind == "d":
            continue
        drift = _drift(st, state.managed.get(p))
        out.append(FileChange(p, "remove", p.endswith(".env"),
                              drift="edited on the host" if drift.startswith("edited") else ""))
    return out


def dir_removals(plan: HostPlan, state: HostState) -> list[FileChange]:
    """Recorded directories the plan no longer has, deepest first: an openclaw-only tree
    (the LLM gateway's virtualenv, Redis's data) goes whole, any other only when empty."""
    wanted = {d.path for d in plan.directories}
    out = []
    for p in sorted(set(state.managed_dirs) - wanted, key=lambda p: (-p.count("/"), p)):
        st = state.paths.get(p, PathState(False))
        if st.exists and st.kind == "d":
            out.append(FileChange(p, "remove", tree=state.managed_dirs[p]))
    return out


def unit_removals(plan: HostPlan, state: HostState) -> list[UnitChange]:
    """Units the last apply enabled that openclaw.yaml no longer has (the dashboard turned
    off, worker instances above a lower minimum): stopped and disabled."""
    wanted = {u.name for u in plan.units if u.enable}
    out = []
    for name in sorted(state.managed_units - wanted):
        enabled, active = state.units.get(name, ("not-found", "inactive"))
        running = active in ("active", "activating", "reloading", "deactivating")
        is_enabled = enabled in ("enabled", "enabled-runtime")
        if running or is_enabled:
            out.append(UnitChange(name, stop=running, disable=is_enabled))
    return out


def runtime_step(plan: HostPlan, state: HostState) -> tuple[str, str]:
    """(what to install, why the host cannot go on) for the pinned OpenClaw."""
    rt = plan.runtime
    if rt is None or state.runtime is None:
        return "", ""
    if rt.install == "none":
        if state.runtime.startswith(f"OpenClaw {rt.version} "):
            return "", ""
        found = state.runtime or "nothing that answers --version"
        return "", (f"{rt.cli[0]} is {found!r}, and openclaw.yaml pins OpenClaw "
                    f"{rt.version} (service.openclaw.install: none): install it there, or "
                    "pin what is installed")
    if state.runtime == rt.version:
        return "", ""
    m = re.match(r"^openclaw-(.+)-node-[0-9.]+$", state.runtime_current)
    was = f"{m.group(1)} -> " if m and m.group(1) != rt.version else ""
    return f"openclaw {was}{rt.version} on node {rt.node} ({rt.install})", ""


def merge_change(f: File, st: PathState, sandbox: bool, state: HostState
                 ) -> tuple[FileChange, bytes, str]:
    """A file openclaw shares with its program: its keys merged into the host's copy. The diff
    shows openclaw's keys only (the rest may hold the program's own credentials)."""
    exists = st.exists and st.kind == "f"
    m = merge(f, state.merge_current.get(f.path) if exists else None,
              state.active.get(f.path, ()))
    if m.error:
        return FileChange(f.path, "ok"), b"", f"{f.path}: {m.error}; left untouched"
    if not exists:
        return (FileChange(f.path, "create", created=_described(f.mode, f.owner, f.group,
                                                                 sandbox),
                           diff=unified(f"{f.path} (openclaw's keys)", b"", m.after.encode())),
                m.content, "")
    mode, owner = _meta(st, f.mode, f.owner, f.group, sandbox)
    diff = unified(f"{f.path} (openclaw's keys)", m.before.encode(), m.after.encode()) \
        if m.changed else ""
    action = "update" if (diff or mode or owner) else "ok"
    return FileChange(f.path, action, diff=diff, mode=mode, owner=owner), m.content, ""


def _described(mode: int, owner: str, group: str, sandbox: bool) -> str:
    return f"{mode:04o}" if sandbox else f"{mode:04o} {owner}:{group}"

