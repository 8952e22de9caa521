"""Region failover and failback: verify the region that takes the traffic through the same
health gate as a rollout, then change the published DNS (the zone's failover record and the
fleet's records, through octoDNS) and measure the time against deployment.failover.rto."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from openclaw.errors import OpenclawError
from openclaw.project import Project
from openclaw.sync import dns as dns_sync


@dataclass
class Outcome:
    action: str  # failover | failback
    region: str  # the region leaving (failover) or returning (failback)
    peer: str  # the region verified: the one taking over, or the one returning
    verified: list[str]  # hosts that passed the gate
    unverified: list[str] = field(default_factory=list)  # no systemd: nothing to gate
    changes: list[dns_sync.RecordChange] = field(default_factory=list)
    out: dns_sync.Out = field(default_factory=dict)
    seconds: float = 0.0
    rto: float = 0.0

    @property
    def within_rto(self) -> bool:
        return self.seconds <= self.rto


def _regions(project: Project, *names: str) -> None:
    cfg = project.config
    if cfg.deployment.dns is None:
        raise OpenclawError("failover moves traffic through DNS: set deployment.dns")
    known = {r.name for r in cfg.deployment.regions}
    for name in names:
        if name not in known:
            raise OpenclawError(f"region {name!r} is not in deployment.regions "
                                f"({', '.join(sorted(known))})")


def _verify(project: Project, region: str, progress: Callable[[str], None]
            ) -> tuple[list[str], list[str]]:
    """The region's hosts through the rollout's health gate; refused unless all pass.
    Returns the hosts that passed and those without systemd (nothing to gate)."""
    from openclaw import live
    from openclaw.sync import runner
    hosts = project.inventory.select(region)
    if not hosts.hosts:
        raise OpenclawError(f"region {region!r} has no hosts in {project.inventory.file}")
    progress(f"verifying {region}: {', '.join(h.name for h in hosts.hosts)}")
    scoped = Project(project.config, hosts, project.warnings)
    script = live.health_gate(project.config)
    with live.open_session(scoped) as session:
        failed = dict(session.unreachable)
        reachable = {h.name: script for h in hosts.hosts if h.name not in failed}
        skipped: set[str] = set()
        failed.update(runner.gate_hosts(session, reachable,
                                        project.config.deployment.health_timeout, progress,
                                        skipped))
    if failed:
        raise OpenclawError(f"{region} is not healthy, DNS unchanged: " + "; ".join(
            f"{h}: {why}" for h, why in sorted(failed.items())))
    names = [h.name for h in hosts.hosts]
    return [n for n in names if n not in skipped], [n for n in names if n in skipped]


def failover(project: Project, source: str, target: str, progress: Callable[[str], None]
             ) -> Outcome:
    """Take `source` out of the published records, its traffic to `target` (which must pass
    the health gate first). Recorded in the zone, so `failback` and every later `dns apply`
    know it."""
    _regions(project, source, target)
    if source == target:
        raise OpenclawError("--from and --to name the same region")
    started = time.monotonic()
    verified, unverified = _verify(project, target, progress)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def take_out(out: dns_sync.Out) -> dns_sync.Out:
        if target in out:
            raise OpenclawError(f"{target} is out of service itself ({target} {out[target]})")
        return {**out, source: f"to={target} at={stamp}"}
    progress(f"dns: {source} out, its traffic to {target}")
    changes, out = dns_sync.sync(project.config, project.inventory, apply=True,
                                 change=take_out)
    return Outcome("failover", source, target, verified, unverified, changes, out,
                   time.monotonic() - started, project.config.deployment.rto)


def failback(project: Project, region: str, progress: Callable[[str], None]) -> Outcome:
    """Put `region` back in the published records once its hosts pass the health gate."""
    _regions(project, region)
    started = time.monotonic()
    verified, unverified = _verify(project, region, progress)

    def bring_back(out: dns_sync.Out) -> dns_sync.Out:
        if region not in out:
            raise OpenclawError(f"{region} is not failed over (the zone's failover record: "
                                f"{', '.join(sorted(out)) or 'empty'})")
        return {k: v for k, v in out.items() if k != region}
    progress(f"dns: {region} back in service")
    changes, out = dns_sync.sync(project.config, project.inventory, apply=True,
                                 change=bring_back)
    return Outcome("failback", region, region, verified, unverified, changes, out,
                   time.monotonic() - started, project.config.deployment.rto)


def render_text(o: Outcome) -> str:
    head = (f"failover {o.region} -> {o.peer}" if o.action == "failover"
            else f"failback {o.region}")
    lines = [head]
    if o.verified:
        lines.append(f"  {o.peer} healthy: {', '.join(o.verified)}")
    if o.unverified:
        lines.append(f"  {o.peer} not verified (no running systemd): "
                     f"{', '.join(o.unverified)}")
    lines += ["  " + x for x in dns_sync.render_text(o.changes, True).splitlines()]
    lines.append("  out of service: " + (", ".join(f"{k} ({v})" for k, v in sorted(
        o.out.items())) or "none"))
    verdict = "within" if o.within_rto else "OVER"
    lines.append(f"{o.action}: done in {o.seconds:.1f}s, {verdict} the RTO of {o.rto:g}s")
    return "\n".join(lines) + "\n"
