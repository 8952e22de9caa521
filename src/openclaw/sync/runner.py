"""plan and apply over a Session: probe, compare, confirm, install, verify. Knows nothing of
pyinfra (the Session does) and nothing of YAML (the HostPlans do)."""

from __future__ import annotations

import getpass
import os
import secrets as pysecrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from openclaw.compile import replication
from openclaw.compile.plan import HostPlan
from openclaw.inventory import Host
from openclaw.sync import gate, install, probe, rollback
from openclaw.sync.changes import HostChanges, compute
from openclaw.sync.packages import RUNTIME_UPLOAD
from openclaw.sync.secrets import REDACT, render_env
from openclaw.sync.session import Outcome, SessionLike, Upload, Work


@dataclass
class HostResult:
    host: str
    region: str
    status: str  # changed | unchanged | failed | skipped | rolled back
    steps: tuple[str, ...] = ()
    error: str = ""
    changes_after: HostChanges | None = None
    gate_seconds: int | None = None  # how long its health gate took to pass (or give up)

    @property
    def generation(self) -> int | None:
        """The generation this apply recorded on the host."""
        for step in self.steps:
            if step.startswith("generation "):
                return int(step.split()[1])
        return None


@dataclass
class Fleet:
    """Per-host plans and live results of one run."""

    changes: list[HostChanges] = field(default_factory=list)
    results: list[HostResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(c.error for c in self.changes) or any(r.status == "failed"
                                                         for r in self.results)


def desired_contents(plan: HostPlan, values: dict[str, str]) -> dict[str, bytes]:
    """Final bytes of every file: sensitive ones with their secrets resolved."""
    return {f.path: render_env(f, values) if f.sensitive else f.content for f in plan.files}


def plan_hosts(session: SessionLike, hosts: list[Host], plans: list[HostPlan],
               values: dict[str, str], partial: frozenset[str] = frozenset(),
               make_keys: bool = False, outside: tuple[str, ...] = ()
               ) -> list[HostChanges]:
    """Read each host in one command (two when files differ) and compare with its plan.
    partial: hosts whose plan lists only what this run changes (nothing is removed).
    make_keys: create missing replication keys while reading (apply). outside: hosts of the
    session outside the run whose replication keys pair the run's hosts."""
    salt = pysecrets.token_hex(16)
    REDACT.add(salt)  # hashes of .env values are salted; the salt never shows
    by_name = {p.host: p for p in plans}
    addresses = {h.name: h.ssh_host for h in hosts}
    unreachable = session.unreachable
    scripts = {p.host: probe.state_script(p, salt, make_keys) for p in plans
               if p.host not in unreachable}
    scripts.update({n: probe.keys_script() for n in outside if n not in unreachable})
    outcomes = session.shell(scripts)
    states: dict[str, probe.HostState] = {}
    errors: dict[str, str] = dict(unreachable)
    others = {n: probe.parse_keys(outcomes.pop(n).stdout) for n in outside
              if n in outcomes and outcomes[n].ok}
    for name, out in outcomes.items():
        if not out.ok:
            errors[name] = _first_line(out.error) or "the state probe failed"
            continue
        try:
            states[name] = probe.parse_state(by_name[name], out.stdout)
        except (ValueError, IndexError) as e:
            errors[name] = f"unreadable state probe output: {e}"
    plans = paired(plans, states, others)
    by_name = {p.host: p for p in plans}
    fetch: dict[str, list[str]] = {}
    for name, st in states.items():
        plan = by_name[name]
        differ = [f.path for f in plan.files if not f.sensitive and not f.merge
                  and st.paths.get(f.path, probe.PathState(False)).exists
                  and st.paths[f.path].kind == "f" and st.paths[f.path].sha256 != f.sha256]
        if differ:
            fetch[name] = differ
    contents: dict[str, dict[str, bytes]] = {}
    if fetch:
        got = session.shell({n: probe.content_script(by_name[n], paths)
                                         for n, paths in fetch.items()})
        for name, out in got.items():
            if out.ok:
                contents[name] = probe.parse_content(by_name[name], fetch[name], out.stdout)
            else:
                errors[name] = _first_line(out.error) or "could not read current files"
    result = []
    for plan in plans:
        if plan.host in errors:
            result.append(HostChanges(plan.host, plan.region, addresses[plan.host],
                                      error=errors[plan.host], plan=plan))
            continue
        result.append(compute(plan, states[plan.host],
                              desired=desired_contents(plan, values),
                              contents=contents.get(plan.host, {}), salt=salt,
                              address=addresses[plan.host],
                              complete=plan.host not in partial))
    return result


def paired(plans: list[HostPlan], states: dict[str, probe.HostState],
           others: dict[str, tuple[str, str]] | None = None) -> list[HostPlan]:
    """The replication files filled from the keys the hosts reported (`others`: hosts
    outside the run, (replication key, host key)): an unreachable peer keeps the line the
    last apply wrote."""
    reported = {**(others or {}), **{n: (st.replication_key, st.host_key)
                                     for n, st in states.items()}}
    keys = {n: k for n, (k, _) in reported.items() if k}
    host_keys = {n: h for n, (_, h) in reported.items() if h}
    out = []
    for plan in plans:
        rep = plan.replication
        st = states.get(plan.host)
        if rep is None or st is None:
            out.append(plan)
            continue
        fill = {rep.authorized_keys: replication.authorized_keys(
                    rep, keys, st.pair_current.get(rep.authorized_keys, "")),
                rep.known_hosts: replication.known_hosts(
                    rep, host_keys, st.pair_current.get(rep.known_hosts, ""))}
        out.append(replace(plan, files=tuple(
            replace(f, content=fill[f.path].encode()) if f.path in fill else f
            for f in plan.files)))
    return out


def still_pending(c: HostChanges) -> str:
    """Why a host does not match its plan right after apply."""
    files = [f.path for f in c.files if f.action != "ok"]
    if files:
        return f"files differ after apply: {', '.join(files[:3])}"
    down = [u.name for u in c.units if u.start]
    if down:
        return f"not running after apply: {', '.join(down)}"
    return "host does not match its plan after apply"


def _first_line(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1][:300] if lines else ""


def holder() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()} pid {os.getpid()}"


def _holder_gone(description: str) -> bool:
    """A holder on this controller whose process is gone left a stale lock."""
    try:
        who, pid = description.rsplit(" pid ", 1)
        if who.split("@", 1)[1] != socket.gethostname():
            return False
        os.kill(int(pid), 0)
    except (ValueError, IndexError):
        return False
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def lock_hosts(session: SessionLike, plans: list[HostPlan], token: str) -> dict[str, str]:
    """Take every host's lock. Returns host -> problem for those that could not be locked."""
    me = holder()
    shell = session.shell
    out = shell({p.host: install.lock_script(p, token, me) for p in plans
                 if p.host not in session.unreachable})
    problems: dict[str, str] = {}
    retry: list[HostPlan] = []
    by_name = {p.host: p for p in plans}
    for name, o in out.items():
        if o.ok and "LOCKED" in o.stdout:
            continue
        busy = next((x.split("\t", 1)[1] for x in o.stdout.splitlines()
                     if x.startswith("BUSY\t")), "")
        if busy == me:
            problems[name] = ("this machine is already locked by this same run: is it listed "
                              "twice in the inventory?")
        elif busy and _holder_gone(busy):
            retry.append(by_name[name])
        elif busy:
            problems[name] = f"another apply holds the host lock: {busy}"
        else:
            problems[name] = _first_line(o.error) or "could not take the host lock"
    if retry:
        again = shell({p.host: install.lock_script(p, token, me, force=True) for p in retry})
        for name, o in again.items():
            if not (o.ok and "LOCKED" in o.stdout):
                problems[name] = "a stale host lock could not be taken over"
    return problems


def unlock_hosts(session: SessionLike, plans: list[HostPlan], token: str) -> None:
    session.shell({p.host: install.unlock_script(p, token) for p in plans
                               if p.host not in session.unreachable})


@dataclass
class Checks:
    """What an apply does in the same command after its install: read the host again (the
    check that it matches its plan) and, on hosts with systemd, poll the health gate for up
    to `timeout` seconds."""

    gate: str = ""
    timeout: float = 0


def apply_changes(session: SessionLike, changes: list[HostChanges],
                  contents: dict[str, dict[str, bytes]], token: str,
                  progress: Callable[[str], None] = lambda _: None, kind: str = "apply",
                  runtime: str | None = None, checks: Checks | None = None
                  ) -> dict[str, HostResult]:
    """contents: per host, the bytes of each file to write (secrets resolved); runtime: the
    OpenClaw bundle's archive on this machine, for hosts that install it from a bundle.
    checks: the install takes the host lock itself, then checks and gates the host in the
    same command (one SSH command per host, besides the upload); without it the caller holds
    the locks."""
    salt = pysecrets.token_hex(16)
    REDACT.add(salt)
    me = holder()
    results: dict[str, HostResult] = {}
    by_name = {c.host: c for c in changes}

    def work_for(c: HostChanges, force: bool = False) -> Work | None:
        assert c.plan is not None
        paths = install.to_write(c)
        staging = f"/tmp/openclaw-stage-{pysecrets.token_hex(8)}"
        # Merged files: the bytes computed against the host's copy at plan time.
        uploads: list[Upload] = []
        if paths:
            uploads.append((install.bundle(paths, {**contents[c.host], **c.merged}),
                            "bundle.tar"))
        if c.runtime and c.plan.runtime and c.plan.runtime.install == "bundle":
            if runtime is None:
                results[c.host] = HostResult(c.host, c.region, "failed",
                                             error="no OpenClaw bundle to upload")
                return None
            uploads.append((runtime, RUNTIME_UPLOAD))
        script = install.install_script(c.plan, c, staging, paths, token, kind=kind)
        if checks is not None:
            script = install.locked_install(
                c.plan, token, me, staging, script, probe.state_script(c.plan, salt),
                checks.gate if c.systemd else "", checks.timeout, force=force)
        return staging, tuple(uploads), script

    work: dict[str, Work] = {}
    for c in changes:
        if c.error or c.plan is None:
            results[c.host] = HostResult(c.host, c.region, "failed", error=c.error)
        elif not c.changed:
            results[c.host] = HostResult(c.host, c.region, "unchanged")
        elif (w := work_for(c)) is not None:
            work[c.host] = w
    if not work:
        return results
    progress(f"applying to {len(work)} host(s)")
    outcomes = session.apply(work)
    if checks is not None:
        # A lock left by a run of this machine that is gone: taken over, once.
        stale = [n for n, o in outcomes.items() if not o.ok and _busy(o) and
                 _busy(o) != me and _holder_gone(_busy(o))]
        retry = {n: w for n in stale if (w := work_for(by_name[n], force=True)) is not None}
        if retry:
            outcomes.update(session.apply(retry))
    for name, o in outcomes.items():
        results[name] = _result(by_name[name], o, me, salt, contents.get(name, {}), checks)
    return results


def _busy(o: Outcome) -> str:
    return next((x.split("\t", 1)[1] for x in o.stdout.splitlines()
                 if x.startswith("BUSY\t")), "")


def _result(c: HostChanges, o: Outcome, me: str, salt: str, desired: dict[str, bytes],
            checks: Checks | None) -> HostResult:
    done, state, verdict = install.sections(o.stdout)
    steps = tuple(x.split("\t", 1)[1] for x in done.splitlines() if x.startswith("STEP\t"))
    if not (o.ok and "DONE" in done):
        busy = _busy(o)
        if busy == me:
            why = ("this machine is already locked by this same run: is it listed twice in "
                   "the inventory?")
        elif busy:
            why = f"another apply holds the host lock: {busy}"
        else:
            why = REDACT(_first_line(o.error) or "install failed")
        return HostResult(c.host, c.region, "failed", steps, why)
    result = HostResult(c.host, c.region, "changed", steps)
    if checks is None:
        return result
    assert c.plan is not None
    try:
        after = compute(c.plan, probe.parse_state(c.plan, state or ""), desired=desired,
                        contents={}, salt=salt, address=c.address)
    except (ValueError, IndexError) as e:
        result.status, result.error = "failed", f"unreadable state probe output: {e}"
        return result
    result.changes_after = after
    if after.changed:
        result.status, result.error = "failed", still_pending(after)
    elif verdict is not None:
        outcome, reason = gate.verdict(verdict)
        if outcome != "skip":
            result.gate_seconds = gate.seconds(verdict)
        if outcome == "fail":
            result.status, result.error = "failed", f"health gate: {reason}"
    return result


def gate_hosts(session: SessionLike, scripts: dict[str, str], timeout: float,
               progress: Callable[[str], None] = lambda _: None,
               skipped: set[str] | None = None) -> dict[str, str]:
    """Poll each host's health gate until it passes or `timeout` runs out. Returns host ->
    reason for those that did not pass; a host without systemd passes, named in `skipped`."""
    deadline = time.monotonic() + timeout
    waiting = dict(scripts)
    failed: dict[str, str] = {}
    while waiting:
        for name, out in session.shell(waiting).items():
            result, reason = gate.verdict(out.stdout) if out.ok else ("fail", _first_line(
                out.error) or "the health gate could not run")
            if result in ("pass", "skip"):
                waiting.pop(name)
                failed.pop(name, None)
                if result == "skip" and skipped is not None:
                    skipped.add(name)
            else:
                failed[name] = reason
        if not waiting or time.monotonic() >= deadline:
            break
        progress(f"waiting for {len(waiting)} host(s) to turn healthy")
        time.sleep(2)
    return {n: failed[n] for n in waiting}


def rollback_hosts(session: SessionLike, hosts: list[Host], plans: list[HostPlan],
                   target: int | None) -> tuple[list[HostChanges], dict[str, dict[str, bytes]],
                                                dict[str, int]]:
    """Plan a rollback to generation `target` (default: undo the latest apply). Returns the
    changes, the bytes to write per host, and each host's target generation."""
    by_name = {p.host: p for p in plans}
    addresses = {h.name: h.ssh_host for h in hosts}
    errors: dict[str, str] = dict(session.unreachable)
    gens: dict[str, rollback.Generations] = {}
    for name, out in session.shell({p.host: rollback.generations_script(p) for p in plans
                                    if p.host not in errors}).items():
        try:
            if not out.ok:
                raise ValueError(_first_line(out.error) or "cannot read generations")
            gens[name] = rollback.parse_generations(by_name[name], out.stdout)
        except ValueError as e:
            errors[name] = str(e)
    targets = {n: (target if target is not None else g.default_target())
               for n, g in gens.items()}
    restores = {n: rollback.state_after(g, targets[n]) for n, g in gens.items()}
    salt = pysecrets.token_hex(16)
    REDACT.add(salt)
    states: dict[str, probe.HostState] = {}
    for name, out in session.shell({n: probe.state_script(by_name[n], salt)
                                    for n in gens}).items():
        try:
            states[name] = probe.parse_state(by_name[name], out.stdout)
        except (ValueError, IndexError):
            errors[name] = _first_line(out.error) or "the state probe failed"
    fetch = {n: [p for p, b in restores[n].items() if b.existed and not any(
        f.sensitive for f in by_name[n].files if f.path == p) and states[n].paths.get(
        p, probe.PathState(False)).exists] for n in states}
    fetch = {n: ps for n, ps in fetch.items() if ps}
    contents: dict[str, dict[str, bytes]] = {}
    if fetch:
        for name, out in session.shell({n: probe.content_script(by_name[n], ps)
                                        for n, ps in fetch.items()}).items():
            contents[name] = probe.parse_content(by_name[name], fetch[name], out.stdout)
    changes: list[HostChanges] = []
    desired: dict[str, dict[str, bytes]] = {}
    for plan in plans:
        if plan.host in errors or plan.host not in states:
            changes.append(HostChanges(plan.host, plan.region, addresses[plan.host],
                                       error=errors.get(plan.host, "no state"), plan=plan))
            continue
        c, want = rollback.restore_changes(plan, states[plan.host], restores[plan.host],
                                           contents.get(plan.host, {}), salt)
        changes.append(HostChanges(c.host, c.region, addresses[plan.host], c.files, (), (),
                                   c.units, c.daemon_reload, c.systemd, c.sandbox,
                                   (*c.notes, f"rollback to generation {targets[plan.host]}"),
                                   plan=c.plan, pending=c.pending))
        desired[plan.host] = want
    return changes, desired, targets
