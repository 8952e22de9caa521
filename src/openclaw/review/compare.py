"""Compare two fleets of HostPlans: hosts added and removed, files created, removed, changed
(content, mode, owner), units to restart; identical changes grouped across hosts."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from openclaw.compile.plan import File, HostPlan
from openclaw.sync.changes import key_changes, unified
from openclaw.sync.secrets import env_entries


@dataclass(frozen=True)
class FileDelta:
    path: str
    action: str  # create | remove | update
    diff: str = ""
    keys: tuple[tuple[str, str], ...] = ()  # sensitive: by key and source only
    sources: tuple[tuple[str, str, str], ...] = ()  # (key, old source, new source)
    mode: tuple[str, str] | None = None
    owner: tuple[str, str] | None = None


@dataclass(frozen=True)
class HostDelta:
    host: str
    region: str
    status: str  # added | removed | changed | same
    files: tuple[FileDelta, ...] = ()
    restarts: tuple[str, ...] = ()
    starts: tuple[str, ...] = ()  # new units to enable and start
    stops: tuple[str, ...] = ()  # units no longer managed


@dataclass
class Group:
    """The same change on several hosts."""

    hosts: list[tuple[str, str]] = field(default_factory=list)  # (region, host)
    delta: HostDelta | None = None

    def regions(self) -> list[str]:
        return sorted({r for r, _ in self.hosts})


def _sources(f: File) -> dict[str, str]:
    return {k: v.strip("<>") for k, v in env_entries(f.content).items()}


def file_delta(path: str, old: File | None, new: File | None) -> FileDelta | None:
    if old is None and new is not None:
        added = tuple(("+", k) for k, _ in new.secrets) if new.sensitive else ()
        return FileDelta(path, "create", "" if new.sensitive else unified(path, b"",
                                                                          new.content), added)
    if new is None and old is not None:
        return FileDelta(path, "remove")
    assert old is not None and new is not None
    mode = None if old.mode == new.mode else (f"{old.mode:04o}", f"{new.mode:04o}")
    owner = None if (old.owner, old.group) == (new.owner, new.group) else (
        f"{old.owner}:{old.group}", f"{new.owner}:{new.group}")
    diff = ""
    keys: tuple[tuple[str, str], ...] = ()
    sources: tuple[tuple[str, str, str], ...] = ()
    if old.content != new.content:
        if new.sensitive or old.sensitive:
            a, b = _sources(old), _sources(new)
            keys = key_changes(a, b)
            sources = tuple((k, a[k], b[k]) for op, k in keys if op == "~")
        else:
            diff = unified(path, old.content, new.content)
    if not (diff or keys or mode or owner):
        return None
    return FileDelta(path, "update", diff, keys, sources, mode, owner)


def host_delta(old: HostPlan | None, new: HostPlan | None) -> HostDelta:
    plan = new or old
    assert plan is not None
    if old is None or new is None:
        files = tuple(d for d in (file_delta(f.path, None if old is None else f,
                                             None if new is None else f)
                                  for f in plan.files) if d)
        units = tuple(u.name for u in plan.units)
        return HostDelta(plan.host, plan.region, "added" if old is None else "removed", files,
                         starts=units if old is None else (), stops=units if new is None
                         else ())
    a, b = {f.path: f for f in old.files}, {f.path: f for f in new.files}
    files = tuple(d for d in (file_delta(p, a.get(p), b.get(p))
                              for p in sorted(a.keys() | b.keys())) if d)
    touched = {d.path for d in files if d.diff or d.keys or d.action != "update"}
    old_units = {u.name for u in old.units}
    new_units = {u.name for u in new.units}
    restarts = tuple(u.name for u in new.units if u.name in old_units
                     and any(p in touched for p in u.restart_on))
    starts = tuple(u.name for u in new.units if u.name not in old_units)
    stops = tuple(sorted(old_units - new_units))
    status = "changed" if (files or starts or stops) else "same"
    return HostDelta(new.host, new.region, status, files, restarts, starts, stops)


def compare(base: list[HostPlan], head: list[HostPlan]) -> list[HostDelta]:
    """Per host, in head's order, then hosts only in base."""
    old = {p.host: p for p in base}
    new = {p.host: p for p in head}
    out = [host_delta(old.get(p.host), p) for p in head]
    out += [host_delta(p, None) for p in base if p.host not in new]
    return out


def _signature(d: HostDelta) -> str:
    """What makes two hosts' changes the same, with their own names taken out."""
    parts = [d.status, repr(d.restarts), repr(d.starts), repr(d.stops)]
    for f in d.files:
        parts.append(repr((f.path, f.action, f.keys, f.sources, f.mode, f.owner)))
        parts.append(f.diff.replace(d.host, "{host}").replace(d.region, "{region}"))
    return "\n".join(parts)


def group(deltas: list[HostDelta]) -> list[Group]:
    """Identical changes grouped, in order of first appearance; unchanged hosts left out."""
    groups: OrderedDict[str, Group] = OrderedDict()
    for d in deltas:
        if d.status == "same":
            continue
        g = groups.setdefault(_signature(d), Group(delta=d))
        g.hosts.append((d.region, d.host))
    return list(groups.values())
