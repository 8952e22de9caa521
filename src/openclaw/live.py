"""plan and apply against real hosts: compile, resolve secrets, connect, compare, execute.
The engine (and with it pyinfra) is imported only here, only when a command connects."""

from __future__ import annotations

import contextlib
import logging
import math
import secrets as pysecrets
import shlex
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openclaw.compile import HostPlan, compile_fleet
from openclaw.compile.plan import under
from openclaw.errors import OpenclawError
from openclaw.inventory import Host, Inventory
from openclaw.model import Config
from openclaw.project import Project
from openclaw.sync import install, runner
from openclaw.sync.changes import HostChanges
from openclaw.sync.secrets import RedactingFilter, resolve
from openclaw.sync.session import Work

if TYPE_CHECKING:  # the engine imports pyinfra: only when a command connects
    from openclaw.status.probe import HostStatus
    from openclaw.sync.engine import Session


@dataclass
class LiveRun:
    changes: list[HostChanges]
    results: list[runner.HostResult] | None = None


def setup_logging(verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root.setLevel(level)
    # pyinfra narrates every host at INFO; keep that for -v and up.
    logging.getLogger("pyinfra").setLevel(level)


def _secrets(project: Project, config_path: str) -> dict[str, str]:
    return resolve(project.config.secrets.env, Path(config_path).resolve().parent)


def open_session(project: Project, extra: tuple[Host, ...] = ()) -> Session:
    from openclaw.sync.engine import Session
    return Session(project.inventory.hosts + extra)


def _outside(project: Project) -> tuple[Host, ...]:
    """Replication peers and sources of the selected hosts that the run leaves out."""
    from openclaw.compile import replication
    return replication.outside(project.config, project.inventory.hosts,
                               project.inventory.fleet)


@dataclass
class _Held:
    """A session whose hosts are locked for this run; the others, and why."""

    session: Any
    locked: list[HostPlan]
    problems: dict[str, str]  # host -> unreachable, or the lock is held elsewhere

    def unavailable(self, plans: list[HostPlan]) -> list[HostChanges]:
        return [HostChanges(p.host, p.region, error=self.problems[p.host], plan=p)
                for p in plans if p.host in self.problems]


@contextlib.contextmanager
def _hold(project: Project, plans: list[HostPlan], token: str,
          progress: Callable[[str], None]) -> Iterator[_Held]:
    """Connect, take every host's lock, and release what was taken however the run ends."""
    progress(f"connecting to {len(plans)} host(s)")
    with open_session(project) as session:
        problems = {**session.unreachable, **runner.lock_hosts(session, plans, token)}
        locked = [p for p in plans if p.host not in problems]
        try:
            yield _Held(session, locked, problems)
        finally:
            runner.unlock_hosts(session, locked, token)


def plan(project: Project, config_path: str, progress: Callable[[str], None]) -> LiveRun:
    plans = list(compile_fleet(project.config, project.inventory))
    values = _secrets(project, config_path)
    outside = _outside(project)
    progress(f"connecting to {len(plans)} host(s)")
    with open_session(project, outside) as session:
        progress("reading host state")
        changes = runner.plan_hosts(session, list(project.inventory.hosts), plans, values,
                                    outside=tuple(h.name for h in outside))
    return LiveRun(changes)


def status(project: Project, progress: Callable[[str], None]) -> list[HostStatus]:
    """Each host's status, in one command per host; unreachable hosts say so."""
    from openclaw.compile import replication
    from openclaw.status import probe
    cfg = project.config
    hosts = list(project.inventory.hosts)
    peers = replication.pairing(cfg, project.inventory.fleet).peers
    progress(f"connecting to {len(hosts)} host(s)")
    with open_session(project) as session:
        scripts = {h.name: probe.status_script(under(h.root, cfg.service.root)) for h in hosts
                   if h.name not in session.unreachable}
        outcomes = session.shell(scripts)
        unreachable = dict(session.unreachable)
    out = []
    for h in hosts:
        o = outcomes.get(h.name)
        if o is None or not o.ok:
            why = unreachable.get(h.name) or (o.error.strip().splitlines()[-1][:200]
                                              if o and o.error.strip() else "no answer")
            out.append(probe.HostStatus(h.name, h.region, error=why))
        else:
            out.append(probe.parse(h.name, h.region, o.stdout, cfg.health_checks.interval,
                                   (peers[h.name].host, cfg.deployment.rpo)
                                   if h.name in peers else None))
    return out



@dataclass(frozen=True)
class Rollout:
    """How apply moves through the fleet."""

    batch_size: str = ""  # "N" or "N%"; empty: deployment.rollout.batch_size
    max_fail: int = 0
    rollback_on_failure: bool = False
    gate: bool = True


def batches(hosts: list[str], size: str) -> list[list[str]]:
    """The first host alone (the canary), then batches of `size` (a count or a percentage
    of the region)."""
    if not hosts:
        return []
    if size.endswith("%"):
        n = max(1, math.ceil(len(hosts) * float(size[:-1]) / 100))
    else:
        n = max(1, int(size))
    rest = hosts[1:]
    return [hosts[:1]] + [rest[i:i + n] for i in range(0, len(rest), n)]


def apply(project: Project, config_path: str, progress: Callable[[str], None],
          show_plan: Callable[[list[HostChanges]], None],
          confirm: Callable[[list[HostChanges]], bool], rollout: Rollout = Rollout(),
          ) -> LiveRun:
    """Plan every selected host, confirm once, then roll out region by region (in the order
    of deployment.regions), batch by batch, each batch behind a health gate."""
    cfg = project.config
    plans = list(compile_fleet(cfg, project.inventory))
    values = _secrets(project, config_path)
    hosts = list(project.inventory.hosts)
    token = pysecrets.token_hex(12)
    outside = _outside(project)
    progress(f"connecting to {len(plans)} host(s)")
    with open_session(project, outside) as session:
        # Read first, lock only the hosts that change: an apply that changes nothing is one
        # SSH command per host. A host changed by another run between this read and the lock
        # is still safe: the lock keeps installs apart, the install writes whole files and
        # refuses a merged file that changed since this plan (merged again below).
        progress("reading host state")
        changes = runner.plan_hosts(session, hosts, plans, values, make_keys=True,
                                    outside=tuple(h.name for h in outside))
        order = {p.host: i for i, p in enumerate(plans)}
        changes.sort(key=lambda c: order[c.host])
        show_plan(changes)
        results = _initial(changes)
        if not any(c.changed for c in changes if not c.error):
            return LiveRun(changes, [results[c.host] for c in changes])
        if not confirm(changes):
            raise OpenclawError("apply cancelled; nothing was changed")
        # Each host's install takes its lock, checks and gates it in one command.
        return _roll_out(session, cfg, config_path, hosts, changes, results, values, token,
                         rollout, progress)


def _roll_out(session: Any, cfg: Config, config_path: str, hosts: list[Host],
              changes: list[HostChanges], results: dict[str, runner.HostResult],
              values: dict[str, str], token: str, rollout: Rollout,
              progress: Callable[[str], None]) -> LiveRun:
    """Region by region, batch by batch (the first host of a region alone), each batch
    behind the health gate; the hosts that change only. Hosts whose gateway is not running
    yet (fresh ones) serve no traffic, so a canary protects nothing there: they go first, all
    together, behind the same gate, and stop the rollout before any serving host when they
    fail."""
    size = rollout.batch_size or cfg.deployment.batch_size
    gate_script = health_gate(cfg)
    archive = _runtime_archive(cfg, config_path, changes, progress)
    by_name = {c.host: c for c in changes}
    pending = {c.host for c in changes if c.changed and not c.error and c.plan}
    rounds = rollout_rounds([r.name for r in cfg.deployment.regions], changes, pending, size)
    # Hosts that could not be reached are reported, but only hosts that fail during the
    # rollout stop it: the others still converge.
    failures = 0
    stopped = ""
    for where, batch in rounds:
        todo = [by_name[n] for n in batch if n in pending]
        if stopped:
            for n in batch:
                if results[n].status != "failed":
                    results[n] = runner.HostResult(n, by_name[n].region, "skipped",
                                                   error=stopped)
            continue
        failed = _run_batch(session, hosts, todo, values, token, results,
                            gate_script if rollout.gate else "",
                            cfg.deployment.health_timeout, progress, archive)
        failures += len(failed)
        if failed and rollout.rollback_on_failure:
            _roll_back(session, hosts, todo, failed, token, results, progress)
        if failures > rollout.max_fail:
            stopped = (f"not applied: the rollout stopped after {', '.join(failed)}"
                       f" failed in {where}")
    return LiveRun(changes, [results[c.host] for c in changes])


def rollout_rounds(regions: list[str], changes: list[HostChanges], pending: set[str],
                   size: str) -> list[tuple[str, list[str]]]:
    """The rollout's order: (where, hosts) rounds, each behind the gate. The pending hosts
    that serve nothing yet first, together; then region by region, the canary alone, then
    batches of `size` (hosts without changes stay in their batch: they are reported)."""
    idle = [c.host for c in changes if c.host in pending and not serving(c)]
    rounds: list[tuple[str, list[str]]] = [("the hosts not serving yet", idle)] if idle else []
    for region in regions:
        names = [c.host for c in changes if c.region == region and c.host not in idle]
        rounds += [(region, batch) for batch in batches(names, size)]
    return rounds


def serving(c: HostChanges) -> bool:
    """The host runs systemd and its OpenClaw gateway is up (this apply need not start it)."""
    return c.systemd and not any(u.name == "openclaw-gateway.service" and u.start
                                 for u in c.units)


def _initial(changes: list[HostChanges]) -> dict[str, runner.HostResult]:
    """Before anything runs: hosts that could not be planned have failed, the rest unchanged."""
    return {c.host: runner.HostResult(c.host, c.region, "failed" if c.error else "unchanged",
                                      error=c.error) for c in changes}


def _runtime_archive(cfg: Config, config_path: str, changes: list[HostChanges],
                     progress: Callable[[str], None]) -> str | None:
    """The OpenClaw bundle, built on this machine the first time a host needs it (after
    plan, before any host is changed)."""
    if not any(c.runtime and c.plan and c.plan.runtime and c.plan.runtime.install == "bundle"
               and not c.error for c in changes):
        return None
    from openclaw.sync import bundle
    return str(bundle.ensure(cfg, Path(config_path).resolve().parent, progress))


# How often a host whose openclaw.json its gateway rewrote during the apply is planned again.
REPLANS = 3


def _run_batch(session: object, hosts: list[Host], batch: list[HostChanges],
               values: dict[str, str], token: str, results: dict[str, runner.HostResult],
               gate_script: str, timeout: float, progress: Callable[[str], None],
               archive: str | None = None) -> list[str]:
    """Apply one batch; each host is checked against its plan and held to the health gate in
    the command that installs it. Returns the failed hosts."""
    s: Any = session
    pending = [c for c in batch if c.changed and not c.error]
    contents = {c.host: runner.desired_contents(c.plan, values) for c in pending if c.plan}
    checks = runner.Checks(gate_script, timeout)
    gated = [c.host for c in pending if c.systemd]
    if gate_script and gated:
        progress(f"health gate on {', '.join(gated) if len(gated) <= 5 else f'{len(gated)} hosts'}"
                 " after their install")
    done = runner.apply_changes(s, pending, contents, token, progress, runtime=archive,
                                checks=checks)
    for _ in range(REPLANS):
        # OpenClaw rewrote its openclaw.json after the plan read it: nothing was lost, and the
        # same keys merged into its new copy are what the operator approved.
        again = [c.plan for c in pending if c.plan and done[c.host].status == "failed"
                 and install.CHANGED_SINCE_PLAN in done[c.host].error]
        if not again:
            break
        progress(f"{', '.join(p.host for p in again)}: openclaw.json changed since plan; "
                 "merging again")
        fresh = [c for c in runner.plan_hosts(s, hosts, again, values) if not c.error]
        done.update(runner.apply_changes(s, fresh, contents, token, progress,
                                         runtime=archive, checks=checks))
    results.update(done)
    return [c.host for c in batch if results[c.host].status == "failed"]


def _roll_back(session: object, hosts: list[Host], batch: list[HostChanges],
               failed: list[str], token: str, results: dict[str, runner.HostResult],
               progress: Callable[[str], None]) -> None:
    """Put the failed hosts of a batch back on the generation they had before this apply."""
    s: Any = session
    targets = [c for c in batch if c.host in failed and c.plan and
               results[c.host].generation is not None]
    if not targets:
        return
    progress(f"rolling back {', '.join(c.host for c in targets)}")
    # The apply released each host's lock when its command ended: taken again to undo it.
    plans = [c.plan for c in targets if c.plan]
    problems = runner.lock_hosts(s, plans, token)
    try:
        for c in targets:
            r = results[c.host]
            if c.host in problems:
                r.error = f"{r.error}; not rolled back: {problems[c.host]}"
                continue
            generation = r.generation
            assert generation is not None and c.plan is not None
            plan_changes, desired, _ = runner.rollback_hosts(s, hosts, [c.plan],
                                                             generation - 1)
            outcome = runner.apply_changes(s, plan_changes, desired, token, progress,
                                           kind=f"rollback to {generation - 1}")
            done = outcome.get(c.host)
            if done is not None and done.status in ("changed", "unchanged"):
                r.status = "rolled back"
                r.error = f"{r.error}; restored generation {generation - 1}"
            else:
                r.error = f"{r.error}; rollback failed: {done.error if done else 'not run'}"
    finally:
        runner.unlock_hosts(s, [p for p in plans if p.host not in problems], token)


def rollback(project: Project, progress: Callable[[str], None],
             show_plan: Callable[[list[HostChanges]], None],
             confirm: Callable[[list[HostChanges]], bool], target: int | None) -> LiveRun:
    """Put each selected host back on generation `target` (default: before its latest
    apply). Reported like an apply; running it again changes nothing."""
    plans = list(compile_fleet(project.config, project.inventory))
    hosts = list(project.inventory.hosts)
    token = pysecrets.token_hex(12)
    with _hold(project, plans, token, progress) as held:
        session = held.session
        changes, desired, targets = runner.rollback_hosts(session, hosts, held.locked,
                                                          target)
        changes += held.unavailable(plans)
        show_plan(changes)
        results = _initial(changes)
        if any(c.changed for c in changes if not c.error):
            if not confirm(changes):
                raise OpenclawError("rollback cancelled; nothing was changed")
            pending = [c for c in changes if c.changed and not c.error]
            results.update(runner.apply_changes(
                session, pending, desired, token, progress,
                kind="rollback to " + ",".join(sorted({str(targets[c.host])
                                                      for c in pending}))))
        return LiveRun(changes, [results[c.host] for c in changes])


def leaving(plan: HostPlan) -> HostPlan:
    """A host with nothing of openclaw's: planned against its record, every file openclaw
    wrote is removed and every unit it enabled stopped and disabled."""
    return replace(plan, directories=(), files=(), units=(), runtime=None, accounts=(),
                   retired=())


def without_regions(cfg: Config, gone: set[str]) -> Config:
    """The configuration as it reads once the regions `gone` have left it: the others keep
    their weights, and no failover list names a region that left."""
    dep = cfg.deployment
    regions = tuple(replace(r, failover_to=tuple(n for n in r.failover_to if n not in gone))
                    for r in dep.regions if r.name not in gone)
    return replace(cfg, deployment=replace(dep, regions=regions))


def failover_only(c: HostChanges, note: str) -> HostChanges:
    """A host outside the run's scope: of its plan, only failover.json changes. A host not
    bootstrapped yet (no service account, no config directory) is left alone: its own
    bootstrap writes the whole file."""
    if c.accounts or any(d.action == "create" and d.path.endswith("/config")
                         for d in c.directories):
        return replace(c, files=(), directories=(), accounts=(), units=(),
                       daemon_reload=False, runtime="", retire_accounts=(), pending=(),
                       notes=(*c.notes, "not bootstrapped yet: its own bootstrap writes "
                              "failover.json"))
    return replace(c, files=tuple(f for f in c.files if f.path.endswith(FAILOVER)),
                   directories=(), accounts=(), units=(), daemon_reload=False, runtime="",
                   notes=(*c.notes, note))


def decommission(project: Project, names: set[str], progress: Callable[[str], None],
                 show_plan: Callable[[list[HostChanges]], None],
                 confirm: Callable[[list[HostChanges]], bool], purge: bool) -> LiveRun:
    """Take the hosts `names` out of service: every openclaw unit stopped and disabled,
    every file it manages removed (the .env files with their keys included). OpenClaw's state
    and the backups stay unless `purge`. The host's last generation says so. A region all of
    whose hosts leave leaves with them: the other regions' failover.json stop naming it."""
    cfg = project.config
    inv = project.inventory
    going = inv.select(limit=tuple(sorted(names)))
    gone = {r for r in inv.regions if all(h.name in names for h in inv.select(r).hosts)}
    staying = Inventory(inv.file, tuple(h for h in inv.hosts if h.name not in names)
                        if gone else ())
    plans = [leaving(p) for p in compile_fleet(cfg, going)]
    # The peers' plans hold failover.json only: their secrets are not needed here.
    plans += [replace(p, directories=(), units=(), accounts=(), runtime=None, retired=(),
                      files=tuple(f for f in p.files if f.path.endswith(FAILOVER)))
              for p in compile_fleet(without_regions(cfg, gone), staying)]
    involved = Project(cfg, Inventory(inv.file, going.hosts + staying.hosts), project.warnings)
    token = pysecrets.token_hex(12)
    kept = () if purge else (f"{cfg.service.root}/state/", f"{cfg.service.root}/backups/")
    note = f"{', '.join(sorted(gone))} left: failover.json only"
    with _hold(involved, plans, token, progress) as held:
        progress("reading host state")
        # --purge: every directory goes whole (state, workspace, backups, logs included).
        changes = [replace(c, files=tuple(f for f in c.files if not f.path.startswith(kept)),
                           directories=tuple(replace(d, tree=d.tree or purge)
                                             for d in c.directories))
                   if c.host in names else failover_only(c, note)
                   for c in runner.plan_hosts(held.session, list(involved.inventory.hosts),
                                              held.locked, {}, partial=frozenset(
                                                  h.name for h in staying.hosts))]
        changes += held.unavailable(plans)
        order = {p.host: i for i, p in enumerate(plans)}
        changes.sort(key=lambda c: order[c.host])
        show_plan(changes)
        results = _initial(changes)
        pending = [c for c in changes if c.changed and not c.error]
        if pending:
            if not confirm(changes):
                raise OpenclawError("decommission cancelled; nothing was changed")
            results.update(runner.apply_changes(
                held.session, [c for c in pending if c.host in names], {}, token, progress,
                kind="decommission"))
            peers = [c for c in pending if c.host not in names]
            if peers:
                results.update(runner.apply_changes(
                    held.session, peers, {c.host: runner.desired_contents(c.plan, {})
                                          for c in peers if c.plan}, token, progress,
                    kind=f"decommission of {', '.join(sorted(gone))}"))
        return LiveRun(changes, [results[c.host] for c in changes])


FAILOVER = "/config/failover.json"


def health_gate(cfg: Config) -> str:
    """The health gate: the gateway, and the LLM gateway with its Redis when they run."""
    from openclaw.compile import llm_gateway
    from openclaw.sync import gate
    gw = cfg.llm_gateway
    services = ("openclaw-gateway.service",
                *(f"openclaw-{r['name']}.service" for r in llm_gateway.redis_instances(cfg)),
                *(("openclaw-llm-gateway.service",) if gw.enabled else ()))
    return gate.gate_script(cfg.service.gateway_port, services=services,
                            llm_port=gw.port if gw.enabled else None)


def _wheels(cfg: Config, config_path: str, scratch: str) -> str | None:
    """The gateway's wheels for hosts without the package index (install method wheels),
    as a file in `scratch`."""
    from openclaw.sync import packages
    gw = cfg.llm_gateway
    if gw.install_method != "wheels" or not gw.wheels:
        return None
    folder = (Path(config_path).parent / gw.wheels).resolve()
    if not any(folder.glob("litellm-*.whl")):
        raise OpenclawError(f"llm_gateway.install.wheels: no litellm wheel in {folder}")
    return packages.wheels_bundle(folder, Path(scratch) / "bundle.tar")


def bootstrap(project: Project, config_path: str, region: str,
              progress: Callable[[str], None], show_plan: Callable[[list[HostChanges]], None],
              confirm: Callable[[list[HostChanges]], bool], rollout: Rollout = Rollout(),
              ) -> LiveRun:
    """Bare hosts of one region to healthy: packages, the service account, directories,
    artifacts, units, the health gate; then every other region's failover.json, so each
    region knows its peers. Running it again changes nothing."""
    from dataclasses import replace

    from openclaw.sync import packages
    cfg = project.config
    plans = list(compile_fleet(cfg, project.inventory))
    values = _secrets(project, config_path)
    hosts = list(project.inventory.hosts)
    mine = [p for p in plans if p.region == region]
    if not mine:
        raise OpenclawError(f"region {region!r} has no hosts in the inventory")
    scratch = tempfile.TemporaryDirectory(prefix="openclaw-wheels-")
    wheels = _wheels(cfg, config_path, scratch.name)  # checked before any host is touched
    token = pysecrets.token_hex(12)
    with scratch, _hold(project, plans, token, progress) as held:
        session, locked = held.session, held.locked
        progress("reading host state")
        changes = runner.plan_hosts(session, hosts, locked, values, make_keys=True)
        probes = session.shell({p.host: packages.probe_script(cfg, p.root) for p in mine
                                if p in locked})
        steps = {n: packages.missing(cfg, o.stdout) for n, o in probes.items() if o.ok}
        shaped: list[HostChanges] = []
        for c in changes:
            if c.region == region:
                shaped.append(replace(c, packages=tuple(steps.get(c.host, ()))))
            else:  # other regions: only their failover peers change here
                shaped.append(failover_only(c, "bootstrap updates failover.json only here"))
        shaped += held.unavailable(plans)
        order = {p.host: i for i, p in enumerate(plans)}
        shaped.sort(key=lambda c: (c.region != region, order[c.host]))
        show_plan(shaped)
        results = _initial(shaped)
        if not any(c.changed for c in shaped if not c.error):
            return LiveRun(shaped, [results[c.host] for c in shaped])
        if not confirm(shaped):
            raise OpenclawError("bootstrap cancelled; nothing was changed")
        archive = _runtime_archive(cfg, config_path, shaped, progress)
        need = {c.host: list(c.packages) for c in shaped if c.packages and not c.error}
        if need:
            progress("installing packages")
            roots = {p.host: p.root for p in plans}
            staged = {n: f"/tmp/openclaw-stage-{pysecrets.token_hex(8)}" for n in need}
            # The staging directory is $S for the script, as for apply.
            work: dict[str, Work] = {
                n: (staged[n], ((wheels, "bundle.tar"),) if wheels is not None and any(
                    x.startswith("llm-gateway ") for x in s) else (),
                    f"S={shlex.quote(staged[n])}\ntrap 'rm -rf \"$S\"' EXIT\n"
                    + packages.install_script(cfg, s, roots[n])) for n, s in need.items()}
            for name, o in session.apply(work).items():
                if not (o.ok and "INSTALLED" in o.stdout):
                    results[name] = runner.HostResult(
                        name, region, "failed",
                        error=f"package install failed: {o.error.strip()[-300:]}")
        ok_names = {c.host for c in shaped if c.region == region and not c.error
                    and results[c.host].status != "failed"}
        gate_script = health_gate(cfg)
        ours = [replace(c, packages=()) for c in shaped if c.host in ok_names]
        failed: list[str] = []
        size = rollout.batch_size or cfg.deployment.batch_size
        for batch in batches([c.host for c in ours], size):
            failed += _run_batch(session, hosts, [c for c in ours if c.host in batch],
                                 values, token, results, gate_script,
                                 cfg.deployment.health_timeout, progress, archive)
            if len(failed) > rollout.max_fail:
                break
        if len(failed) <= rollout.max_fail:
            peers = [c for c in shaped if c.region != region and c.changed and not c.error]
            contents = {c.host: runner.desired_contents(c.plan, values) for c in peers
                        if c.plan}
            results.update(runner.apply_changes(session, peers, contents, token,
                                                progress))
        return LiveRun(shaped, [results[c.host] for c in shaped])
