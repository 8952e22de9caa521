"""openclaw diff: compile two revisions (git refs or files) and compare them."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw import inventory as inv
from openclaw import model, resources
from openclaw.compile import HostPlan, compile_fleet
from openclaw.errors import FindingsError, OpenclawError
from openclaw.findings import Finding
from openclaw.review import gitrev, systemd_check
from openclaw.review.compare import Group, HostDelta, compare, group
from openclaw.review.policy import SettingChange, inventory_changes, summarize
from openclaw.validate import check_all

UNITS = "/etc/systemd/system/"  # unit files; other files under /etc/systemd are not units


@dataclass
class Side:
    label: str  # "working tree", a revision, or a file name
    config: dict[str, Any]
    inventory: inv.Inventory
    plans: list[HostPlan]
    templates: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Report:
    base: str
    head: str
    settings: list[SettingChange] = field(default_factory=list)
    inventory: list[str] = field(default_factory=list)
    hosts: list[HostDelta] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)  # template files that changed

    @property
    def differs(self) -> bool:
        return bool(self.settings or self.inventory or self.groups)


def _side(label: str, config: str, inventory: str, root: Path | None,
          shown_as: dict[str, str]) -> Side:
    with resources.overridden(root):
        checked = check_all(config, inventory)
        if not checked.ok or checked.config is None or checked.inventory is None:
            raise FindingsError([_relabel(f, shown_as) for f in checked.findings])
        cfg = model.build(checked.config)
        hosts = inv.build(checked.inventory, inventory,
                          [r.name for r in cfg.deployment.regions])
        plans = list(compile_fleet(cfg, hosts))
        folder = resources.data_dir("templates")
        templates = {str(p.relative_to(folder)): p.read_bytes()
                     for p in sorted(folder.rglob("*")) if p.is_file()}
    return Side(label, checked.config, hosts, plans, templates)


def _relabel(f: Finding, shown_as: dict[str, str]) -> Finding:
    return Finding(shown_as.get(f.file, f.file), f.line, f.col, f.path, f.message, f.code,
                   f.severity)


def _project_root(config: str) -> Path | None:
    """The repository holding the config, when it carries its own templates and schema."""
    try:
        top = gitrev.toplevel(Path(config))
    except OpenclawError:
        return None
    return top if (top / "templates").is_dir() else None


def run(config: str, inventory: str, *, base: str | None = None, head: str | None = None,
        base_config: str | None = None, base_inventory: str | None = None,
        check_units: bool = True) -> Report:
    with tempfile.TemporaryDirectory(prefix="openclaw-diff-") as tmp:
        try:
            base_side = _base(config, inventory, base, base_config, base_inventory,
                              Path(tmp) / "base")
        except FindingsError as e:
            raise BaseInvalid(base or base_config or "base", e.findings) from None
        head_side, head_label = _head(config, inventory, head, Path(tmp) / "head")
        return build_report(base_side, head_side, base or base_config or "base", head_label,
                            check_units)


class BaseInvalid(OpenclawError):
    def __init__(self, label: str, findings: list[Finding]) -> None:
        self.label, self.findings = label, findings
        super().__init__(f"the base ({label}) does not validate")


def _materialized(config: str, inventory: str, rev: str, into: Path
                  ) -> tuple[str, str, Path, dict[str, str]]:
    repo = gitrev.toplevel(Path(config))
    rel_config, rel_inventory = gitrev.relative(repo, config), gitrev.relative(repo, inventory)
    gitrev.materialize(repo, rev, [rel_config, rel_inventory, "templates", "schema"], into)
    paths = (str(into / rel_config), str(into / rel_inventory))
    for path, rel in zip(paths, (rel_config, rel_inventory), strict=True):
        if not os.path.exists(path):
            raise OpenclawError(f"{rel} does not exist at {rev}")
    shown = {paths[0]: f"{rev}:{rel_config}", paths[1]: f"{rev}:{rel_inventory}"}
    return paths[0], paths[1], into, shown


def _head(config: str, inventory: str, head: str | None, into: Path) -> tuple[Side, str]:
    if head is None:
        return _side("working tree", config, inventory, _project_root(config), {}), \
            "working tree"
    c, i, root, shown = _materialized(config, inventory, head, into)
    return _side(head, c, i, root, shown), head


def _base(config: str, inventory: str, base: str | None, base_config: str | None,
          base_inventory: str | None, into: Path) -> Side:
    if base_config or base_inventory:
        return _side(base_config or config, base_config or config, base_inventory or inventory,
                     None, {})
    if base is None:
        raise OpenclawError("give --base GITREF, or --base-config/--base-inventory")
    c, i, root, shown = _materialized(config, inventory, base, into)
    return _side(base, c, i, root, shown)


def build_report(base: Side, head: Side, base_label: str, head_label: str,
                 check_units: bool) -> Report:
    deltas = compare(base.plans, head.plans)
    report = Report(base_label, head_label,
                    summarize(base.config, head.config, head.inventory),
                    inventory_changes(base.inventory, head.inventory), deltas, group(deltas))
    names = sorted(base.templates.keys() | head.templates.keys())
    report.templates = [n for n in names if base.templates.get(n) != head.templates.get(n)]
    if check_units:
        report.findings = unit_findings(report.groups, base.plans, head.plans)
    return report


def unit_findings(groups: list[Group], base: list[HostPlan], head: list[HostPlan]
                  ) -> list[str]:
    """systemd-analyze on the changed units of one host per group of identical changes."""
    if not any(g.delta and any(f.path.startswith(UNITS) for f in g.delta.files)
               for g in groups):
        return []
    if not systemd_check.available():
        return ["systemd-analyze is not installed here: unit files were not verified"]
    old = {p.host: p for p in base}
    new = {p.host: p for p in head}
    out: list[str] = []
    gateway = "openclaw-gateway.service"
    for g in groups:
        d = g.delta
        if d is None or d.host not in new:
            continue
        units = [f.path.lstrip("/") for f in d.files if f.path.startswith(UNITS)
                 and f.action != "remove"]
        if not units:
            continue
        where = f"{d.host}" + (f" and {len(g.hosts) - 1} more" if len(g.hosts) > 1 else "")
        problems = systemd_check.verify(new[d.host], units)
        out += [f"systemd-analyze verify ({where}): {p}" for p in problems]
        if not problems:
            out.append(f"systemd-analyze verify ({where}): {len(units)} changed unit(s) "
                       "clean")
        if any(u.endswith(gateway) for u in units):
            after = systemd_check.exposure(new[d.host], gateway)
            before = systemd_check.exposure(old[d.host], gateway) if d.host in old else None
            out.append(f"{gateway} exposure ({where}): "
                       f"{'-' if before is None else before} → "
                       f"{'-' if after is None else after}")
    return out
