"""Region failover and failback: verify the region that takes the traffic through the same
health gate as a rollout, then change the published DNS (the zone's failover record and the
fleet's records, through octoDNS) and measure the time against deployment.failover.rto."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from openclaw.compile import replication
from openclaw.errors import OpenclawError
from openclaw.model import Config
from openclaw.project import Project
from openclaw.sync import dns as dns_sync


@dataclass
class Outcome:
    action: str  # failover | failback
    region: str  # the region leaving (failover) or returning (failback)
    peer: str  # the region verified: the one taking over, or the one returning
    verified: list[str]  # hosts that passed the gate
    unverified: list[str] = field(default_factory=list)  # no systemd: nothing to gate
    # host -> the source host whose replica it now serves, and the replica's age
    restored: dict[str, str] = field(default_factory=dict)
    not_restored: list[str] = field(default_factory=list)  # "node3: why"
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


def takeovers(project: Project, source: str, target: str) -> dict[str, list[str]]:
    """Host of `target` -> the hosts of `source` that replicate into it (the first is the
    one it takes over)."""
    cfg = project.config
    region = {h.name: h.region for h in project.inventory.fleet}
    out: dict[str, list[str]] = {}
    for src, peer in sorted(replication.pairing(cfg, project.inventory.fleet).peers.items()):
        if region[src] == source and peer.region == target:
            out.setdefault(peer.host, []).append(src)
    return out


def restore_script(cfg: Config, source: str) -> str:
    """Root stops the gateway; the service account copies the replica of `source` into its
    own state and workspace (it owns them and reads the replica through its group: nothing
    is written by root where the account can plant a link); the gateway starts again.
    openclaw.json stays this host's own."""
    svc = cfg.service
    rep = shlex.quote(f"{svc.root}/replicas/{source}")
    state, workspace = (shlex.quote(f"{svc.root}/{d}") for d in ("state/openclaw",
                                                                   "workspace"))
    sqlite = shlex.quote(f"{svc.root}/scripts/openclaw_sqlite.py")
    who = f"--reuid={shlex.quote(svc.user)} --regid={shlex.quote(svc.group)} --init-groups"
    return f"""set -u
R={rep}
if [ -L "$R" ] || [ ! -d "$R/openclaw" ]; then echo 'NOREPLICA'; exit 0; fi
newest=$(find "$R" -type f -printf '%T@\\n' 2>/dev/null | sort -n | tail -n 1)
systemctl stop openclaw-gateway.service || exit 1
rc=0
setpriv {who} -- rsync -rltp --delete --chmod=D700,F600 --exclude=/openclaw.json \
  --exclude='/openclaw.json.*' "$R/openclaw/" {state}/ || rc=1
if [ -d "$R/workspace" ]; then
  setpriv {who} -- rsync -rltp --delete --chmod=D750,F640 "$R/workspace/" {workspace}/ || rc=1
fi
# The copy holds the source gateway's leases (its process on its host): released, or this
# gateway waits for them to expire.
setpriv {who} -- python3 {sqlite} release {state} || rc=1
systemctl start openclaw-gateway.service || rc=1
[ "$rc" -eq 0 ] || exit 1
printf 'RESTORED\\t%s\\t%s\\n' "${{newest%.*}}" "$(date +%s)"
"""


def _verify(project: Project, region: str, progress: Callable[[str], None],
            restore: dict[str, str] | None = None,
            ) -> tuple[list[str], list[str], dict[str, str]]:
    """The region's hosts through the rollout's health gate; refused unless all pass.
    restore: host -> the source whose replica it restores first. Returns the hosts that
    passed, those without systemd (nothing to gate), and what each restored."""
    progress(f"verifying {region}")
    failed, skipped, restored = _check(project, region, progress,
                                       project.config.deployment.health_timeout, restore)
    if failed:
        raise OpenclawError(f"{region} is not healthy, DNS unchanged: " + "; ".join(
            f"{h}: {why}" for h, why in sorted(failed.items())))
    names = [h.name for h in project.inventory.select(region).hosts]
    return ([n for n in names if n not in skipped], [n for n in names if n in skipped],
            restored)


def _check(project: Project, region: str, progress: Callable[[str], None], timeout: float,
           restore: dict[str, str] | None = None,
           ) -> tuple[dict[str, str], set[str], dict[str, str]]:
    """Restore what `restore` asks, then the health gate on the region's hosts for up to
    `timeout` (0: one look). Returns host -> why it failed, the hosts without systemd, and
    what each host restored."""
    from openclaw import live
    from openclaw.sync import runner
    hosts = project.inventory.select(region)
    if not hosts.hosts:
        raise OpenclawError(f"region {region!r} has no hosts in {project.inventory.file}")
    progress(f"{region}: {', '.join(h.name for h in hosts.hosts)}")
    scoped = Project(project.config, hosts, project.warnings)
    script = live.health_gate(project.config)
    restored: dict[str, str] = {}
    with live.open_session(scoped) as session:
        failed = dict(session.unreachable)
        todo = {h: restore_script(project.config, src) for h, src in (restore or {}).items()
                if h not in failed}
        if todo:
            progress(f"restoring replicas on {', '.join(sorted(todo))}")
        for name, o in session.shell(todo).items():
            src = (restore or {})[name]
            line = next((x.split("\t") for x in o.stdout.splitlines()
                         if x.startswith("RESTORED\t")), None)
            if o.ok and line and len(line) == 3 and line[1].isdigit():
                age = max(0, int(line[2]) - int(line[1]))
                restored[name] = f"{src} (replica {age}s old)"
            elif o.ok and "NOREPLICA" in o.stdout:
                restored[name] = f"nothing: no replica of {src} yet"
            else:
                failed[name] = ("restoring the replica failed: "
                                + (o.error.strip().splitlines() or ["no output"])[-1][:200])
        reachable = {h.name: script for h in hosts.hosts if h.name not in failed}
        skipped: set[str] = set()
        failed.update(runner.gate_hosts(session, reachable, timeout, progress, skipped))
    return failed, skipped, restored


def auto(project: Project, progress: Callable[[str], None]) -> Outcome | None:
    """deployment.failover.automatic, decided here (on the controller that runs it, from a
    scheduler): every region in service gets one look through the health gate; the first
    region none of whose hosts passes fails over to its first failover region that is in
    service and passes whole. None when every region in service has a healthy host."""
    cfg = project.config
    _regions(project)
    if not cfg.deployment.automatic_failover:
        raise OpenclawError("deployment.failover.automatic is false: --auto decides nothing "
                            "(fail over by hand with --from and --to)")
    _, out = dns_sync.sync(cfg, project.inventory, apply=False)
    serving = [r.name for r in cfg.deployment.regions
               if r.name not in out and project.inventory.select(r.name).hosts]
    failed = {r: _check(project, r, progress, 0)[0] for r in serving}
    down = [r for r in serving
            if len(failed[r]) == len(project.inventory.select(r).hosts)]
    if not down:
        return None
    source = down[0]
    why = "; ".join(f"{h}: {w}" for h, w in sorted(failed[source].items()))
    target = next((p.name for p in cfg.deployment.peers(source)
                   if p.name in serving and not failed[p.name]), None)
    if target is None:
        raise OpenclawError(f"{source} is down ({why}) and none of its failover regions is "
                            "in service and healthy: DNS unchanged")
    progress(f"{source} is down: {why}")
    return failover(project, source, target, progress)


def failover(project: Project, source: str, target: str, progress: Callable[[str], None]
             ) -> Outcome:
    """Take `source` out of the published records, its traffic to `target` (which must pass
    the health gate first). Recorded in the zone, so `failback` and every later `dns apply`
    know it."""
    _regions(project, source, target)
    if source == target:
        raise OpenclawError("--from and --to name the same region")
    started = time.monotonic()
    takes = takeovers(project, source, target)
    verified, unverified, restored = _verify(project, target, progress,
                                             {h: srcs[0] for h, srcs in takes.items()})
    skipped = [f"{src}: {h} takes over {srcs[0]}" for h, srcs in sorted(takes.items())
               for src in srcs[1:]]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def take_out(out: dns_sync.Out) -> dns_sync.Out:
        if target in out:
            raise OpenclawError(f"{target} is out of service itself ({target} {out[target]})")
        return {**out, source: f"to={target} at={stamp}"}
    progress(f"dns: {source} out, its traffic to {target}")
    changes, out = dns_sync.sync(project.config, project.inventory, apply=True,
                                 change=take_out)
    return Outcome("failover", source, target, verified, unverified, restored, skipped,
                   changes, out, time.monotonic() - started, project.config.deployment.rto)


def failback(project: Project, region: str, progress: Callable[[str], None]) -> Outcome:
    """Put `region` back in the published records once its hosts pass the health gate."""
    _regions(project, region)
    started = time.monotonic()
    verified, unverified, _ = _verify(project, region, progress)

    def bring_back(out: dns_sync.Out) -> dns_sync.Out:
        if region not in out:
            raise OpenclawError(f"{region} is not failed over (the zone's failover record: "
                                f"{', '.join(sorted(out)) or 'empty'})")
        return {k: v for k, v in out.items() if k != region}
    progress(f"dns: {region} back in service")
    changes, out = dns_sync.sync(project.config, project.inventory, apply=True,
                                 change=bring_back)
    return Outcome("failback", region, region, verified, unverified, {}, [], changes, out,
                   time.monotonic() - started, project.config.deployment.rto)


def render_text(o: Outcome) -> str:
    head = (f"failover {o.region} -> {o.peer}" if o.action == "failover"
            else f"failback {o.region}")
    lines = [head]
    for host, what in sorted(o.restored.items()):
        lines.append(f"  {host} restored {what}")
    for why in o.not_restored:
        lines.append(f"  not restored: {why}")
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
