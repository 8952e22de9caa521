"""Validation: load, JSON Schema, normalize, semantic rules; every finding, never the first."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

from openclaw import resources, schema_check
from openclaw.errors import FindingsError
from openclaw.findings import WARNING, Finding, has_errors, sort_findings
from openclaw.load import Document, load_file
from openclaw.normalize import normalize
from openclaw.rules import Context, no_secret_literals, run_rules
from openclaw.schema_check import SHOWN
from openclaw.secrets_scan import scan

CONFIG_SCHEMA = "openclaw.schema.json"
MAX_HOSTS = 2000  # compile holds every host's plan: about 0.15 MB each
INVENTORY_SCHEMA = "inventory.schema.json"


@dataclass
class Checked:
    """Everything validation learned: findings, and the normalized data when it is usable."""

    findings: list[Finding] = field(default_factory=list)
    config: dict[str, Any] | None = None
    inventory: dict[str, Any] | None = None
    inventory_doc: Document | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)


def _scrub(findings: list[Finding], doc: Document) -> list[Finding]:
    """Never echo a secret-looking value back, not even inside a schema message."""
    values = sorted({v for _, v in scan(doc.data)}, key=len, reverse=True)
    if not values:
        return findings
    out = []
    for f in findings:
        msg, path = f.message, f.path
        for v in values:
            # Whole, or cut where a message shortens long values (schema_check._show); a key
            # that looks like a secret is also part of the finding's path.
            msg = msg.replace(v, "<redacted>").replace(v[:SHOWN], "<redacted>") \
                .replace(repr(v)[1:SHOWN + 1], "<redacted>")
            path = path.replace(v, "<redacted>")
        out.append(Finding(f.file, f.line, f.col, path, msg, f.code, f.severity))
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def control_findings(doc: Document, code: str, number_code: str) -> list[Finding]:
    """No key or value may hold a control character: values reach units, shell scripts and
    configs, where a newline starts a directive of its own (and `^...$` patterns let one
    trailing newline through). No number may be infinite or NaN (YAML's .inf and .nan pass
    every minimum and maximum, and NaN is not JSON)."""
    out: list[Finding] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for k, v in items:
            if isinstance(k, str) and _CONTROL.search(k):
                out.append(doc.finding((*path, k), _control_message(k, "key"), code,
                                       key=True))
            if isinstance(v, str) and _CONTROL.search(v):
                out.append(doc.finding((*path, k), _control_message(v, "value"), code))
            if isinstance(v, float) and not math.isfinite(v):
                out.append(doc.finding((*path, k), f"{v} is not a finite number", number_code))
            walk(v, (*path, k))
    walk(doc.data, ())
    return out


def _besides(control: list[Finding], schema: list[Finding]) -> list[Finding]:
    """Schema findings on a value that already has a control-character finding say the same
    thing less clearly (its pattern fails too)."""
    said = {f.path for f in control}
    return [f for f in schema if f.path not in said or f.code not in ("S004", "S008")]


def _control_message(text: str, what: str) -> str:
    m = _CONTROL.search(text)
    assert m is not None
    name = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", "\0": "a NUL"}.get(
        m.group(), "a control character")
    return (f"this {what} holds {name} (U+{ord(m.group()):04X}); values reach units, scripts "
            "and configs on the hosts, where it would start a line of its own")


def check_config(path: str) -> tuple[list[Finding], dict[str, Any] | None]:
    try:
        doc = load_file(path)
    except FindingsError as e:
        return e.findings, None
    bad = control_findings(doc, "R021", "R022")
    findings = _besides(bad, schema_check.check(doc, CONFIG_SCHEMA))
    data: dict[str, Any] | None = None
    if not findings and not bad:
        data, origins = normalize(doc.data, resources.schema(CONFIG_SCHEMA))
        findings = run_rules(doc, data, origins)
        if not has_errors(findings):
            findings += openclaw_json_findings(Context(doc, data, origins), data)
    else:  # the secret rule needs no valid shape: report leaked values alongside
        findings += list(no_secret_literals(Context(doc, {}, {})))
    findings = bad + findings
    return _scrub(findings, doc), (data if not has_errors(findings) else None)


def openclaw_json_findings(ctx: Context, data: dict[str, Any]) -> list[Finding]:
    """What the pinned OpenClaw would refuse in the openclaw.json this config compiles to:
    an error at the setting that writes the key (R020); W010 when this release has no
    schema for the pinned version; W018 for a key in OpenClaw's own environment that makes
    it install a plugin when it starts."""
    from openclaw import model, openclaw_schema
    from openclaw.compile import documents, env_files
    cfg = model.build(data)
    version = cfg.service.runtime.version
    doc = documents.openclaw_managed(cfg, f"{cfg.service.root}/logs")
    found = openclaw_schema.problems(version, doc)
    # W018: a key in the gateway's environment that makes OpenClaw install a plugin at start.
    installs = openclaw_schema.START_INSTALLS.get(version, {})
    out = [ctx.at(next((("routing", "providers", i, "api_key_env")
                        for i, p in enumerate(cfg.routing.providers) if p.api_key_env == key),
                       ("secrets", "env", key)),
                  f"{key} reaches OpenClaw's own environment (llm_gateway is off): OpenClaw "
                  f"{version} then installs {installs[key]} with npm before its gateway "
                  "starts, which the hosts cannot (no npm), and the gateway exits 78; enable "
                  "llm_gateway, which keeps provider keys in its own environment", "W018",
                  severity=WARNING)
           for key in env_files.keys_by_consumer(cfg)["gateway"] if key in installs]
    if found is None:
        return [*out, ctx.at(("service", "openclaw", "version"),
                             f"OpenClaw {version} has no schema in this openclaw release (it "
                             f"has: {', '.join(openclaw_schema.supported())}): openclaw.json "
                             "is checked on the hosts only, by their own `openclaw config "
                             "validate`", "W010", severity=WARNING)]
    for where, message in found:
        top = str(where[0]) if where else ""
        key = ".".join(str(p) for p in where) or "(top level)"
        where_set = next((p for p in openclaw_schema.SOURCES.get(top, ())
                          if p in ctx.origins), ("version",))
        out.append(ctx.at(where_set,
                          f"OpenClaw {version} would refuse openclaw.json at {key}: "
                          f"{message}", "R020"))
    return out


def check_inventory(path: str, regions: list[str] | None
                    ) -> tuple[list[Finding], dict[str, Any] | None, Document | None]:
    try:
        doc = load_file(path)
    except FindingsError as e:
        return e.findings, None, None
    bad = control_findings(doc, "I003", "I004")
    findings = bad + _besides(bad, schema_check.check(doc, INVENTORY_SCHEMA))
    findings += [doc.finding(where, "this looks like a secret value; the inventory names "
                             "where keys are (ssh_key: a file path), never a key itself",
                             "I005", key=where[-1] == value) for where, value in scan(doc.data)]
    if findings:
        return _scrub(findings, doc), None, doc
    seen: dict[str, str] = {}
    for region, body in doc.data["regions"].items():
        if regions is not None and region not in regions:
            findings.append(doc.finding(("regions", region), f"region {region!r} is not in "
                                        "deployment.regions of the config (" +
                                        ", ".join(regions) + ")", "I001", key=True))
        for host in body["hosts"]:
            if host in seen:
                findings.append(doc.finding(("regions", region, "hosts", host),
                                            f"host {host!r} is already in region "
                                            f"{seen[host]!r}; a host belongs to exactly one "
                                            "region", "I002", key=True))
            seen.setdefault(host, region)
    if len(seen) > MAX_HOSTS:
        findings.append(doc.finding(("regions",), f"{len(seen)} hosts; one inventory holds at "
                                    f"most {MAX_HOSTS} (split the fleet into inventories)",
                                    "I007", key=True))
    else:
        findings += _root_findings(doc, path)
    return findings, (doc.data if not has_errors(findings) else None), doc


_SAFE_PATH = re.compile(r"[A-Za-z0-9._+@/-]+")


def _root_findings(doc: Document, path: str) -> list[Finding]:
    """A relative root resolves against the inventory's directory, whose name the schema
    never saw: it must still be a path that units can name unquoted."""
    from openclaw.inventory import build
    out = []
    for host in build(doc.data, path, []).hosts:
        if not _SAFE_PATH.fullmatch(host.root):
            out.append(doc.finding(("regions", host.region, "hosts", host.name),
                                   f"root resolves to {host.root!r}, which holds characters "
                                   "other than letters, digits and . _ + @ - /: units name "
                                   "paths unquoted; move the checkout or give an absolute root",
                                   "I006", key=True))
    return out


def default_inventory() -> str | None:
    return "inventory/local.yaml" if os.path.isfile("inventory/local.yaml") else None


def check_all(config_path: str, inventory_path: str | None) -> Checked:
    findings, config = check_config(config_path)
    result = Checked(findings=list(findings), config=config)
    if inventory_path is not None:
        regions = ([r["name"] for r in config["deployment"].get("regions") or []]
                   if config else None)
        inv_findings, inv, inv_doc = check_inventory(inventory_path, regions)
        result.findings += inv_findings
        result.inventory, result.inventory_doc = inv, inv_doc
    result.findings = sort_findings(result.findings)
    return result
