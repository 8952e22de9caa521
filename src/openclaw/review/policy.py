"""The policy-level summary: each changed setting of openclaw.yaml by dotted path, old -> new,
with the artifacts and hosts it reaches; and what changed in the inventory."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from typing import Any

from openclaw import model
from openclaw.compile import compile_host
from openclaw.inventory import Host, Inventory

Key = tuple[Any, ...]  # path parts: str for mapping keys, ("name", x) for named list items


@dataclass(frozen=True)
class SettingChange:
    path: str
    old: str | None  # None: not set before
    new: str | None  # None: no longer set
    artifacts: tuple[str, ...] = ()  # file names it changes
    hosts: tuple[tuple[str, int], ...] = ()  # (region, host count) it reaches
    note: str = ""

    def line(self, code: bool = False) -> str:
        old = "(unset)" if self.old is None else self.old
        new = "(unset)" if self.new is None else self.new
        path = f"`{self.path}`" if code else self.path
        text = f"{path}: {old} → {new}"
        if self.artifacts:
            total = sum(n for _, n in self.hosts)
            regions = ", ".join(f"{r} {n}" for r, n in self.hosts)
            text += f" ({', '.join(self.artifacts)} on {total} host(s): {regions})"
        elif self.note:
            text += f" ({self.note})"
        else:
            text += " (no host artifact changes)"
        return text


def show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _named(items: Any) -> bool:
    return isinstance(items, list) and bool(items) and all(
        isinstance(x, dict) and "name" in x for x in items)


def _whole(prefix: Key) -> bool:
    """Values that change as one: a secret's source ({env: X} -> {file: Y})."""
    return len(prefix) == 3 and prefix[:2] == ("secrets", "env")


def flatten(data: Any, prefix: Key = ()) -> dict[Key, Any]:
    out: dict[Key, Any] = {}
    if isinstance(data, dict) and not _whole(prefix):
        for k, v in data.items():
            out.update(flatten(v, (*prefix, k)))
    elif _named(data):
        for item in data:
            out[(*prefix, ("name", item["name"]))] = item  # the whole item, for add/remove
            for k, v in item.items():
                out.update(flatten(v, (*prefix, ("name", item["name"]), k)))
    else:
        out[prefix] = data
    return out


def dotted(key: Key) -> str:
    text = ""
    for part in key:
        if isinstance(part, tuple):
            text += f"[{part[1]}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def changed_settings(base: dict[str, Any], head: dict[str, Any]) -> list[Key]:
    a, b = flatten(base), flatten(head)
    keys: list[Key] = []
    for key in sorted(a.keys() | b.keys(), key=lambda k: [str(p) for p in k]):
        if a.get(key, ...) == b.get(key, ...):
            continue
        # Inside an added or removed named item, the item itself is the change.
        if any(isinstance(p, tuple) and (key[: i + 1] not in a or key[: i + 1] not in b)
               for i, p in enumerate(key) if i < len(key) - 1):
            continue
        if isinstance(key[-1], tuple) and key in a and key in b:
            continue  # a named item present on both sides: its leaves tell the change
        keys.append(key)
    return keys


def _locate(data: Any, part: Any) -> Any:
    if isinstance(part, tuple):
        return next(x for x in data if x["name"] == part[1])
    return data[part]


def apply_one(base: dict[str, Any], head: dict[str, Any], key: Key) -> dict[str, Any]:
    """base with only this setting taken from head."""
    out = copy.deepcopy(base)
    parent_new: Any = head
    parent_out: Any = out
    for part in key[:-1]:
        parent_new = _locate(parent_new, part)
        parent_out = _locate(parent_out, part)
    last = key[-1]
    if isinstance(last, tuple):
        present = [x for x in parent_new if x["name"] == last[1]]
        kept = [x for x in parent_out if x["name"] != last[1]]
        parent_out[:] = kept + copy.deepcopy(present)
    elif last in parent_new:
        parent_out[last] = copy.deepcopy(parent_new[last])
    else:
        parent_out.pop(last, None)
    return out


def _representatives(inventory: Inventory) -> dict[str, Host]:
    reps: dict[str, Host] = {}
    for h in inventory.hosts:
        reps.setdefault(h.region, h)
    return reps


def summarize(base: dict[str, Any], head: dict[str, Any], inventory: Inventory
              ) -> list[SettingChange]:
    """Each changed setting with what it alone changes, on one host per region of head's
    inventory (a setting changes every host of a region alike)."""
    keys = changed_settings(base, head)
    if not keys:
        return []
    reps = _representatives(inventory)
    counts = Counter(h.region for h in inventory.hosts)
    base_model = model.build(base)
    before = {r: {f.path: f for f in compile_host(base_model, h).files}
              for r, h in reps.items() if r in {x.name for x in base_model.deployment.regions}}
    out = []
    a, b = flatten(base), flatten(head)
    for key in keys:
        old = show(a[key]) if key in a else None
        new = show(b[key]) if key in b else None
        try:
            alone = model.build(apply_one(base, head, key))
            reach: dict[str, set[str]] = {}
            for region, host in reps.items():
                if region not in before or region not in {x.name for x in
                                                          alone.deployment.regions}:
                    continue
                after = {f.path: f for f in compile_host(alone, host).files}
                for path in before[region].keys() | after.keys():
                    if before[region].get(path) != after.get(path):
                        reach.setdefault(path.rsplit("/", 1)[-1], set()).add(region)
        except Exception:  # a setting that only makes sense with the others (a rename...)
            out.append(SettingChange(dotted(key), old, new,
                                     note="takes effect together with the other changes"))
            continue
        regions = sorted({r for rs in reach.values() for r in rs},
                         key=lambda r: list(reps).index(r))
        out.append(SettingChange(dotted(key), old, new, tuple(sorted(reach)),
                                 tuple((r, counts[r]) for r in regions)))
    return out


def _root(inv: Inventory, h: Host) -> str:
    """A sandbox root as written, relative to its inventory file (revisions live apart)."""
    import os
    return h.root if h.root == "/" else os.path.relpath(h.root, os.path.dirname(
        os.path.abspath(inv.file)))


def inventory_changes(base: Inventory, head: Inventory) -> list[str]:
    a = {h.name: h for h in base.hosts}
    b = {h.name: h for h in head.hosts}
    lines = []
    for h in head.hosts:
        if h.name not in a:
            lines.append(f"inventory: host {h.name} added to {h.region}")
        elif a[h.name].region != h.region:
            lines.append(f"inventory: host {h.name} moved from {a[h.name].region} to "
                         f"{h.region}")
        else:
            fields = [f for f in ("ssh_host", "ssh_port", "ssh_user", "sudo")
                      if getattr(a[h.name], f) != getattr(h, f)]
            if _root(base, a[h.name]) != _root(head, h):
                fields.append("root")
            if fields:
                lines.append(f"inventory: host {h.name} connection changed ({', '.join(fields)})")
    lines += [f"inventory: host {h.name} removed from {h.region}: it keeps running "
              f"openclaw's units until `openclaw decommission --host {h.name}` (run with the "
              "base inventory) stops and disables them and removes the files openclaw "
              "manages there, its .env keys included" for h in base.hosts if h.name not in b]
    new_regions = sorted({h.region for h in head.hosts} - {h.region for h in base.hosts})
    lines += [f"inventory: region {r} added" for r in new_regions]
    return lines
