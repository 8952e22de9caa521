"""Rollback: every apply records, per host, what each path it changed was before (a
generation). The state after generation G is rebuilt from those records and applied like any
plan, so a rollback is itself recorded, reported, and idempotent."""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass, field, replace

from openclaw.compile.plan import File, HostPlan
from openclaw.sync.changes import FileChange, HostChanges, UnitChange, compute, unified
from openclaw.sync.merge import masked_text
from openclaw.sync.probe import GENERATIONS, HostState
from openclaw.sync.secrets import REDACT, env_entries


@dataclass(frozen=True)
class Before:
    """A path as it was before a generation changed it."""

    path: str  # logical
    existed: bool
    content: bytes = b""
    mode: int = 0
    owner: str = ""
    group: str = ""


@dataclass
class Generations:
    current: int = 0
    kinds: dict[int, str] = field(default_factory=dict)
    before: dict[int, list[Before]] = field(default_factory=dict)

    def default_target(self) -> int:
        """Undo the latest apply (not a rollback): repeating a rollback changes nothing."""
        applies = [g for g, k in self.kinds.items() if k == "apply"]
        return max(applies) - 1 if applies else self.current


def generations_script(plan: HostPlan) -> str:
    gen = shlex.quote(plan.target(GENERATIONS))
    return f"""G={gen}
printf 'CURRENT\\t%s\\n' "$(cat "$G/current" 2>/dev/null || echo 0)"
for g in $(ls "$G" 2>/dev/null | grep -E '^[0-9]+$' | sort -n); do
  printf 'KIND\\t%s\\t%s\\n' "$g" "$(head -n1 "$G/$g/kind" 2>/dev/null || echo apply)"
  [ -r "$G/$g/manifest" ] || continue
  while IFS=$(printf '\\t') read -r i existed path mode owner group; do
    printf 'ENTRY\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$g" "$i" "$existed" "$path" \\
      "${{mode:--}}" "${{owner:--}}" "${{group:--}}"
    if [ "$existed" = 1 ]; then
      printf 'BEGIN\\n'; base64 <"$G/$g/files/$i"; printf 'END\\n'
    fi
  done <"$G/$g/manifest"
done
echo FINISHED
"""


def parse_generations(plan: HostPlan, output: str) -> Generations:
    logical = {plan.target(f.path): f.path for f in plan.files}
    gens = Generations()
    pending: tuple[int, str, int, str, str] | None = None
    chunks: list[str] = []
    finished = False
    for line in output.splitlines():
        parts = line.split("\t")
        if parts[0] == "CURRENT":
            gens.current = int(parts[1])
        elif parts[0] == "KIND":
            gens.kinds[int(parts[1])] = parts[2]
        elif parts[0] == "ENTRY":
            g, existed, target = int(parts[1]), parts[3] == "1", parts[4]
            path = logical.get(target, target)
            if existed:
                pending = (g, path, int(parts[5], 8), parts[6], parts[7])
            else:
                gens.before.setdefault(g, []).append(Before(path, False))
        elif parts[0] == "BEGIN":
            chunks = []
        elif parts[0] == "END" and pending is not None:
            g, path, mode, owner, group = pending
            gens.before.setdefault(g, []).append(
                Before(path, True, base64.b64decode("".join(chunks)), mode, owner, group))
            pending = None
        elif parts[0] == "FINISHED":
            finished = True
        elif pending is not None:
            chunks.append(line)
    if not finished:
        raise ValueError("generation records were cut short")
    return gens


def state_after(gens: Generations, target: int) -> dict[str, Before]:
    """Each path a later generation changed, as it was right after generation `target`."""
    out: dict[str, Before] = {}
    for g in sorted(gens.before):
        if g <= target:
            continue
        for b in gens.before[g]:
            out.setdefault(b.path, b)  # the earliest later change saw the target's version
    return out


def restore_changes(plan: HostPlan, state: HostState, restore: dict[str, Before],
                    contents: dict[str, bytes], salt: str
                    ) -> tuple[HostChanges, dict[str, bytes]]:
    """What rolling back changes on the host, and the bytes to write."""
    by_path = {f.path: f for f in plan.files}
    files: list[File] = []
    desired: dict[str, bytes] = {}
    removals: list[FileChange] = []
    for path, b in sorted(restore.items()):
        managed = by_path.get(path)
        if not b.existed:
            if state.paths.get(path) and state.paths[path].exists:
                removals.append(FileChange(path, "remove", bool(managed and managed.sensitive)))
            continue
        sensitive = bool(managed and managed.sensitive)
        if sensitive:
            for value in env_entries(b.content).values():
                if len(value) >= 4:
                    REDACT.add(value.strip('"'))
        files.append(File(path, b.content, b.mode, b.owner, b.group, sensitive,
                          managed.secrets if managed else ()))
        desired[path] = b.content
    # The plan's directories stay: they tell which paths the service account can change.
    synthetic = HostPlan(plan.host, plan.region, plan.root, plan.directories, tuple(files),
                         plan.units)
    changes = compute(synthetic, state, desired=desired, contents=contents, salt=salt,
                      complete=False)
    shared = {f.path for f in plan.files if f.merge}
    # A file OpenClaw shares (openclaw.json) may hold its own credentials: shown masked.
    restored = tuple(replace(c, diff=unified(f"{c.path} (credentials not shown)", masked_text(
        contents.get(c.path, b"")).encode(), masked_text(desired[c.path]).encode()))
        if c.path in shared and c.diff else c for c in changes.files)
    all_files = restored + tuple(removals)
    changed = {c.path for c in all_files if c.content_changed} | state.pending
    removed = {c.path for c in removals}
    restart_on = {u.name: u.restart_on for u in plan.units}
    # A unit whose file the rollback removes (the generation had no dashboard yet) stops.
    gone = {p.rsplit("/", 1)[1] for p in removed
            if p.startswith("/etc/systemd/system/") and "@." not in p}
    units = tuple(replace(u, restart=u.restart or (
        state.units.get(u.name, ("", ""))[1] == "active"
        and any(p in removed for p in restart_on[u.name]))) for u in changes.units
        if u.name not in gone)
    for name in sorted(gone):
        enabled, active = state.units.get(name, ("not-found", "inactive"))
        if active in ("active", "activating") or enabled in ("enabled", "enabled-runtime"):
            units += (UnitChange(name, stop=True, disable=True),)
    result = HostChanges(
        plan.host, plan.region, changes.address, all_files, (), (), units,
        daemon_reload=state.systemd and any(p.startswith("/etc/systemd/") for p in changed),
        systemd=changes.systemd, sandbox=changes.sandbox, notes=changes.notes, plan=synthetic,
        pending=tuple(sorted(changed)) if changes.systemd else ())
    return result, desired
