"""plan and apply against real hosts: compile, resolve secrets, connect, compare, execute.
The engine (and with it pyinfra) is imported only here, only when a command connects."""

from __future__ import annotations

import logging
import secrets as pysecrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openclaw.compile import compile_fleet
from openclaw.errors import OpenclawError
from openclaw.project import Project
from openclaw.sync import runner
from openclaw.sync.changes import HostChanges
from openclaw.sync.secrets import RedactingFilter, resolve


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


def _session(project: Project):  # type: ignore[no-untyped-def]
    from openclaw.sync.engine import Session
    return Session(project.inventory.hosts)


def plan(project: Project, config_path: str, progress: Callable[[str], None]) -> LiveRun:
    plans = list(compile_fleet(project.config, project.inventory))
    values = _secrets(project, config_path)
    progress(f"connecting to {len(plans)} host(s)")
    with _session(project) as session:
        progress("reading host state")
        changes = runner.plan_hosts(session, list(project.inventory.hosts), plans, values)
    return LiveRun(changes)


def apply(project: Project, config_path: str, progress: Callable[[str], None],
          show_plan: Callable[[list[HostChanges]], None],
          confirm: Callable[[list[HostChanges]], bool]) -> LiveRun:
    plans = list(compile_fleet(project.config, project.inventory))
    values = _secrets(project, config_path)
    hosts = list(project.inventory.hosts)
    token = pysecrets.token_hex(12)
    progress(f"connecting to {len(plans)} host(s)")
    with _session(project) as session:
        lock_problems = runner.lock_hosts(session, plans, token)
        locked = [p for p in plans if p.host not in lock_problems
                  and p.host not in session.unreachable]
        try:
            progress("reading host state")
            changes = runner.plan_hosts(session, hosts, locked, values)
            changes += [HostChanges(p.host, p.region, error=lock_problems[p.host], plan=p)
                        for p in plans if p.host in lock_problems]
            changes += [HostChanges(p.host, p.region, error=session.unreachable[p.host],
                                    plan=p) for p in plans if p.host in session.unreachable]
            order = {p.host: i for i, p in enumerate(plans)}
            changes.sort(key=lambda c: order[c.host])
            show_plan(changes)
            if not any(c.changed for c in changes if not c.error):
                results = [runner.HostResult(c.host, c.region,
                                             "failed" if c.error else "unchanged",
                                             error=c.error) for c in changes]
                return LiveRun(changes, results)
            if not confirm(changes):
                raise OpenclawError("apply cancelled; nothing was changed")
            by_host = runner.apply_changes(session, changes, values, token, progress)
            applied = [p for p in locked if by_host.get(p.host) and
                       by_host[p.host].status == "changed"]
            if applied:
                progress("verifying")
                after = runner.plan_hosts(session, hosts, applied, values)
                for c in after:
                    r = by_host[c.host]
                    if c.error or c.changed:
                        r.status = "failed"
                        r.error = c.error or "host does not match its plan after apply"
                    r.changes_after = c
            results = [by_host[c.host] for c in changes]
            return LiveRun(changes, results)
        finally:
            runner.unlock_hosts(session, locked, token)
