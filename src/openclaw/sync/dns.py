"""The fleet's name in the operator's DNS, through octoDNS and its providers (Route53, NS1,
Cloudflare, PowerDNS, BIND over RFC 2136, ...): plan what the compiled record set changes
there, and apply it. Provider secrets are env/NAME references that octoDNS resolves itself
from the controller's environment; openclaw never holds or prints them."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from openclaw.compile import dns as compile_dns
from openclaw.errors import OpenclawError
from openclaw.inventory import Inventory
from openclaw.model import Config, Dns

PLAN_OUTPUT = "openclaw"


@dataclass(frozen=True)
class RecordChange:
    action: str  # create | update | delete
    fqdn: str
    kind: str  # A | AAAA
    old: dict[str, Any] | None
    new: dict[str, Any] | None


class Capture:
    """An octoDNS plan output that keeps the plans for openclaw's own reports."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.plans: list[Any] = []

    def run(self, log: Any, plans: list[Any], *args: Any, **kwargs: Any) -> None:
        self.plans = list(plans)


def _changes(plans: Iterable[Any]) -> list[RecordChange]:
    out = []
    for _target, plan in plans:
        for change in plan.changes:
            record = change.record
            action = type(change).__name__.lower()
            out.append(RecordChange(
                action, record.fqdn, record._type,
                change.existing.data if change.existing is not None else None,
                change.new.data if change.new is not None else None))
    return sorted(out, key=lambda c: (c.fqdn, c.kind, c.action))


# Regions out of service after `openclaw failover`, kept in the zone itself (a TXT record
# beside the fleet's name, one value per region: "REGION to=PEER at=UTC-TIME"), so that every
# controller, and every later `dns apply`, sees the same failover.
Out = dict[str, str]  # region -> "to=PEER at=TIME"


def _read_out(manager: Any, dns: Dns) -> Out:
    from octodns.zone import Zone
    zone = Zone(dns.zone, [])
    manager.providers[compile_dns.TARGET].populate(zone, target=True)
    out: Out = {}
    for record in zone.records:
        if record.name == compile_dns.state_name(dns) and record._type == "TXT":
            for value in record.values:
                region, _, rest = str(value).replace("\\;", ";").partition(" ")
                out[region] = rest
    return out


def sync(cfg: Config, inventory: Inventory, *, apply: bool,
         change: Callable[[Out], Out] | None = None) -> tuple[list[RecordChange], Out]:
    """Plan (and with `apply`, make) the provider's records match the compiled ones, with
    the regions the zone's failover record takes out of service (`change` edits that set:
    failover, failback). Returns the changes and the set after them."""
    from octodns.manager import Manager
    dns = cfg.deployment.dns
    if dns is None:
        raise OpenclawError("deployment.dns is not set: nothing to publish")
    with tempfile.TemporaryDirectory(prefix="openclaw-dns-") as tmp:
        zone_dir = os.path.join(tmp, "zones")
        os.mkdir(zone_dir)
        config = compile_dns.octodns_config(dns, zone_dir)
        config["manager"]["plan_outputs"] = {PLAN_OUTPUT: {"class": f"{__name__}.Capture"}}
        path = os.path.join(tmp, "octodns.yaml")
        with open(path, "w") as fh:
            yaml.safe_dump(config, fh, sort_keys=True)
        with _octodns_notes():
            try:
                manager = Manager(path)
                out = _read_out(manager, dns)
                if change is not None:
                    out = change(dict(out))
                unknown = sorted(set(out) - {r.name for r in cfg.deployment.regions})
                if unknown:
                    raise OpenclawError(f"dns: the zone's failover record names regions not "
                                        f"in deployment.regions: {', '.join(unknown)}")
                with open(os.path.join(zone_dir, f"{dns.zone}yaml"), "w") as fh:
                    yaml.safe_dump(compile_dns.zone_document(cfg, inventory, out), fh,
                                   sort_keys=True)
                manager.sync(eligible_zones=[dns.zone], dry_run=not apply,
                             plan_output_fh=io.StringIO())
            except OpenclawError:
                raise
            except Exception as e:  # octoDNS's and its providers' own errors
                raise OpenclawError(f"dns: {type(e).__name__}: {_first_line(e)}") from None
        capture = manager.plan_outputs[PLAN_OUTPUT]
        assert isinstance(capture, Capture)
        return _changes(capture.plans), out


class _Notes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # openclaw reads and writes deployment.dns.name only, never the zone's root NS.
        return "root NS record" not in record.getMessage()


@contextlib.contextmanager
def _octodns_notes() -> Iterator[None]:
    """octoDNS's warnings (a provider falling back to plain values, ...) as notes on stderr;
    its info and debug lines stay out. Its providers log under names of their own (such as
    `Rfc2136Provider[dns]`), so this is the root logger's, for the run only."""
    log = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("note: octoDNS: %(message)s"))
    handler.addFilter(_Notes())
    handler.setLevel(logging.WARNING)
    saved = log.level, log.handlers[:]
    log.setLevel(logging.WARNING)
    log.handlers = [handler]  # only these notes, whatever -v set up
    try:
        yield
    finally:
        log.handlers = saved[1]
        log.setLevel(saved[0])


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:300] if text else "no detail"


def _values(data: dict[str, Any] | None) -> str:
    if data is None:
        return "-"
    values = data.get("values") or ([data["value"]] if "value" in data else [])
    text = ", ".join(str(v) for v in values)
    weights = (data.get("dynamic") or {}).get("pools", {}).get(compile_dns.CATCH_ALL)
    if weights:
        text += " (weights " + ", ".join(f"{v['value']}={v.get('weight', 1)}"
                                         for v in weights["values"]) + ")"
    return f"ttl {data.get('ttl', '-')}: {text}"


def render_text(changes: list[RecordChange], applied: bool) -> str:
    if not changes:
        return "dns: in sync\n"
    sign = {"create": "+", "update": "~", "delete": "-"}
    lines = []
    for c in changes:
        lines.append(f"{sign[c.action]} {c.fqdn} {c.kind}")
        if c.old is not None:
            lines.append(f"    was {_values(c.old)}")
        if c.new is not None:
            lines.append(f"    now {_values(c.new)}")
    verb = "applied" if applied else "to apply"
    lines.append(f"dns: {len(changes)} record change(s) {verb}")
    return "\n".join(lines) + "\n"


def render_json(changes: list[RecordChange], applied: bool) -> str:
    return json.dumps({"applied": applied, "changes": [
        {"action": c.action, "fqdn": c.fqdn, "type": c.kind, "old": c.old, "new": c.new}
        for c in changes]}, indent=2, sort_keys=True) + "\n"
