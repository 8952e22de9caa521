"""Build one host's plan from the model. Pure: identical input gives identical bytes."""

from __future__ import annotations

import functools
import math
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw import resources, units
from openclaw.compile import documents, env_files, llm_gateway, replication, runtime, timing
from openclaw.compile.hardening import hardening
from openclaw.compile.plan import (
    MODE_RECORD,
    Account,
    Directory,
    File,
    HostPlan,
    RuntimeSpec,
    Unit,
    under,
)
from openclaw.compile.render import render, systemd_word
from openclaw.inventory import Host, Inventory
from openclaw.model import Config

UNIT_DIR = "/etc/systemd/system"
JOURNALD_DROPIN = "/etc/systemd/journald.conf.d/openclaw.conf"
JOURNAL_UPLOAD = "/etc/systemd/journal-upload.conf.d/openclaw.conf"
LOGROTATE = "/etc/logrotate.d/openclaw"
AUDIT_RULES = "/etc/audit/rules.d/openclaw.rules"
AUDIT_KEY = "openclaw-secrets"
# Rules in rules.d take effect when augenrules loads them; without a running auditd they wait.
LOAD_AUDIT_RULES = ("if command -v augenrules >/dev/null 2>&1 && systemctl is-active --quiet "
                    "auditd 2>/dev/null; then augenrules --load >/dev/null 2>&1 && "
                    "step loaded audit rules; else step audit rules wait for auditd; fi")
SCRIPTS = ("health-check.sh", "alert.sh", "budget-check.sh", "backup.sh", "mode.sh")


@dataclass(frozen=True)
class Paths:
    root: str

    @property
    def scripts(self) -> str:
        return f"{self.root}/scripts"

    @property
    def config(self) -> str:
        return f"{self.root}/config"

    @property
    def logs(self) -> str:
        return f"{self.root}/logs"

    @property
    def state(self) -> str:
        return f"{self.root}/state"

    @property
    def workspace(self) -> str:
        return f"{self.root}/workspace"

    @property
    def backups(self) -> str:
        return f"{self.root}/backups"

    @property
    def shared_env(self) -> str:
        """The one .env every unit shared before each got its own (retired)."""
        return f"{self.root}/config/.env"

    def env(self, consumer: str) -> str:
        """A consumer's own environment file (env_files.FILES)."""
        return f"{self.root}/config/{env_files.FILES[consumer]}"

    @property
    def llm_env(self) -> str:
        return self.env("llm-gateway")

    @property
    def failover(self) -> str:
        return f"{self.root}/config/failover.json"

    @property
    def openclaw_state(self) -> str:
        return f"{self.root}/state/openclaw"

    @property
    def openclaw_json(self) -> str:
        """OpenClaw's own config (OPENCLAW_STATE_DIR/openclaw.json), merged, never replaced."""
        return f"{self.openclaw_state}/openclaw.json"

    @property
    def llm_gateway(self) -> str:
        return f"{self.root}/llm-gateway"

    @property
    def autoscale(self) -> str:
        return f"{self.root}/autoscale"

    @property
    def audit(self) -> str:
        return f"{self.root}/audit"

    @property
    def llm_home(self) -> str:
        """The LLM gateway account's home and working directory."""
        return f"{self.root}/llm-gateway/home"

    @property
    def usage(self) -> str:
        """The LLM gateway's usage records (its account writes, the service group reads)."""
        return f"{self.root}/usage"

    def conf(self, script: str) -> str:
        return f"{self.root}/config/{script.removesuffix('.sh')}.conf"

    def script(self, script: str) -> str:
        return f"{self.root}/scripts/{script}"


def _unit_path(name: str) -> str:
    return f"{UNIT_DIR}/{name}"


Cache = dict[tuple[Any, ...], Any]


def compile_host(cfg: Config, host: Host, cache: Cache | None = None,
                 rep: replication.Replication | None = None) -> HostPlan:
    """One host's plan. Only host.conf and the replication files name the host; every other
    artifact depends on the config, the region and the host's root alone, so a fleet renders
    each once (`cache`). `rep`: the host's part in replication (compile_fleet pairs them)."""
    cache = {} if cache is None else cache
    svc = cfg.service
    paths = Paths(svc.root)  # where files go, on the host, under its inventory root
    # What the artifacts refer to: a sandbox host's scripts must use its own tree.
    inside = Paths(svc.root if not host.sandbox else host.root.rstrip("/") + svc.root)
    user, group = svc.user, svc.group
    level = cfg.security.level
    ctx: dict[str, Any] = {"cfg": cfg, "svc": svc, "paths": inside, "host": host.name,
                           "region": host.region, "model_refs": llm_gateway.model_refs(cfg),
                           "up": _trigger(cfg.scaling.scale_up),
                           "down": _trigger(cfg.scaling.scale_down),
                           "openclaw_cli": runtime.cli(cfg, inside.root),
                           "gateway_exec": _gateway_exec(cfg, inside.root),
                           "env_paths": [inside.env(c) for c in _env_consumers(cfg)],
                           "mode_units": mode_units(cfg),
                           "mode_record": under(host.root if host.sandbox else "/",
                                                MODE_RECORD)}
    files: list[File] = []

    def add(path: str, content: str | bytes, mode: int, owner: str = "root",
            grp: str = "root", **extra: Any) -> None:
        # one bytes object per distinct text: hashed once however many hosts share it
        data = once(("bytes", content), content.encode) if isinstance(content, str) \
            else content
        # Hosts share most files whole: one File object each (a frozen dataclass is slow to
        # build, 53,000 times for 1,000 hosts).
        files.append(once(("file", path, data, mode, owner, grp, *sorted(extra.items())),
                          lambda: File(path, data, mode, owner, grp, **extra)))

    def once(key: tuple[Any, ...], make: Any) -> Any:
        if key not in cache:
            cache[key] = make()
        return cache[key]

    traced = ("openclaw-gateway.service", "openclaw-llm-gateway.service")

    def unit(name: str, template: str, **more: Any) -> None:
        # With tracing on, these two name their host and region in their environment.
        who = (host.name, host.region) if cfg.logging.otel_endpoint and name in traced else ()
        add(_unit_path(name), once(("unit", name, inside.root, *who), lambda: render(
            template, host.name, **ctx, **more)), 0o644)

    writable = (inside.state, inside.logs) + (() if level == "read_only" else
                                               (inside.workspace,))
    unit("openclaw-gateway.service", "openclaw-gateway.service.j2",
         hardening=hardening(level, writable, openclaw=True))
    unit("openclaw-worker@.service", "openclaw-worker@.service.j2",
         hardening=hardening(level, writable))
    shipping = rep is not None and rep.peer is not None
    checks = once(("checks", inside.root, shipping), lambda: _checks(cfg, inside, shipping))
    for check in checks:
        unit(f"{check['name']}.service", "openclaw-check.service.j2", check=check,
             hardening=hardening(level, check["writable"], network=check["network"],
                                 systemctl=check["systemctl"]))
        unit(f"{check['name']}.timer", "openclaw-check.timer.j2", check=check)
    if svc.dashboard_enabled:
        unit("openclaw-dashboard.service", "openclaw-dashboard.service.j2",
             hardening=hardening(level, (inside.state, inside.logs)))
    # Root applies the mode the health check writes (a path unit on state/mode).
    mode_check = {"name": "openclaw-mode", "script": inside.script("mode.sh"),
                  "description": "OpenClaw degradation mode", "timeout": 120.0, "env": "",
                  "user": "root", "group": "root"}
    unit("openclaw-mode.service", "openclaw-check.service.j2", check=mode_check,
         hardening=hardening(level, (posixpath.dirname(ctx["mode_record"]),), network=False,
                             systemctl=True, read_any=True))
    unit("openclaw-mode.path", "openclaw-mode.path.j2")

    add(paths.script("lib.sh"), _static("lib.sh"), 0o644)
    add(f"{paths.config}/host.conf", render("host.conf.j2", host.name, **ctx), 0o640,
        grp=group)
    audited = cfg.secrets.alert_on_access
    scaled = cfg.scaling.autoscaled
    extra = ((("audit-check.sh",) if audited else ()) + (("autoscale.sh",) if scaled else ())
             + (("replicate.sh",) if shipping else ()))
    for script in SCRIPTS + extra:
        add(paths.script(script), _static(script), 0o755)
        template = f"{script.removesuffix('.sh')}.conf.j2"
        add(paths.conf(script), once(("conf", script, inside.root, shipping),
                                     lambda t=template: render(
            t, host.name, **ctx, units=_watched_units(cfg), shipping=shipping)), 0o640,
            grp=group)
    env_keys = once(("env-keys",), lambda: env_files.entries(cfg))
    for consumer in _env_consumers(cfg):
        keys = env_keys[consumer]
        add(paths.env(consumer), once(("env", consumer), lambda k=keys: render(
            "env.j2", host.name, **{**ctx, "env": k})), 0o600, sensitive=True, secrets=keys)
    add(paths.failover, documents.failover_json(
        lambda slot: once(("failover", host.region, slot), lambda: documents.dumps(
            documents.failover(cfg, host.region, slot))),
        replication.document(cfg, rep)), 0o640, grp=group)
    if rep is not None and (shipping or rep.sources):  # snapshots, and restores
        add(paths.script("openclaw_sqlite.py"), _static("openclaw_sqlite.py"), 0o644)
    if rep is not None and rep.sources:  # filled from the sources' keys at plan time
        add(rep.authorized_keys, replication.HEADER, 0o644)
    if rep is not None and rep.peer is not None:  # filled from the peer's host key
        add(rep.known_hosts, replication.HEADER, 0o644)
    managed = once(("managed", inside.root), lambda: documents.openclaw_managed(
        cfg, inside.logs))
    add(paths.openclaw_json, once(("managed-json", inside.root), lambda: documents.dumps(
        managed)), 0o600, user, group, merge=True,
        merge_drop=documents.unset_owned(cfg, managed),
        merge_refs=tuple(zip([p.name for p in cfg.routing.providers], ctx["model_refs"],
                             strict=True)),
        merge_active=f"{paths.state}/active-providers")
    gw = cfg.llm_gateway
    if gw.enabled:
        add(f"{paths.config}/llm-gateway.yaml", once(("litellm", inside.root), lambda:
            llm_gateway.dumps(llm_gateway.litellm_config(cfg, inside.root))), 0o640,
            grp=gw.user)
        # The proxy reaches providers whatever the level: that is its job.
        add(f"{paths.config}/openclaw_usage.py", _static("openclaw_usage.py"), 0o640,
            grp=gw.user)
        add(f"{paths.config}/usage.json", once(("usage", inside.root), lambda: documents.dumps(
            llm_gateway.usage_settings(cfg, inside.usage))), 0o640, grp=gw.user)
        add(f"{paths.config}/openclaw_policy.py", _static("openclaw_policy.py"), 0o640,
            grp=gw.user)
        add(f"{paths.config}/policy.json", once(("policy", ctx["mode_record"]),
            lambda: documents.dumps(llm_gateway.policy_settings(cfg, ctx["mode_record"]))),
            0o640, grp=gw.user)
        unit("openclaw-llm-gateway.service", "openclaw-llm-gateway.service.j2",
             hardening=hardening("read_only" if level == "none" else level,
                                 (inside.llm_home, inside.usage)),
             env_names=llm_gateway.env_names(cfg), redis=llm_gateway.uses_redis(cfg))
    for r in llm_gateway.redis_instances(cfg):
        folder = f"{inside.root}/{r['name']}"
        add(f"{paths.config}/{r['name']}.conf", once(("redis", r["name"], inside.root),
            lambda r=r, d=folder: render("redis.conf.j2", host.name, **ctx, redis=r,
                                         redis_dir=d)), 0o640, grp=gw.user)
        unit(f"openclaw-{r['name']}.service", "openclaw-redis.service.j2", redis=r,
             redis_dir=folder, hardening=hardening(level, (folder,), loopback=True))

    if cfg.secrets.log_access:
        add(AUDIT_RULES, once(("audit", inside.root), lambda: render(
            "openclaw.rules.j2", host.name, **ctx)), 0o640, on_change=LOAD_AUDIT_RULES)
    lg = cfg.logging
    add(JOURNALD_DROPIN, once(("journald",), lambda: render(
        "journald-openclaw.conf.j2", host.name, **ctx)), 0o644)
    add(LOGROTATE, once(("logrotate", inside.root), lambda: render(
        "logrotate-openclaw.j2", host.name, **ctx,
        days=max(1, round(lg.retention_local / 86400)))), 0o644)
    if lg.remote_url:
        add(JOURNAL_UPLOAD, once(("upload",), lambda: render(
            "journal-upload-openclaw.conf.j2", host.name, **ctx)), 0o644)

    bundled = cfg.service.runtime.install != "none"
    directories = (
        Directory(paths.root, 0o755, "root", "root"),
        Directory(paths.scripts, 0o755, "root", "root"),
        # Others may pass through (not list): the LLM gateway's account reads its own two
        # files here; every file in it is 0640 or 0600.
        Directory(paths.config, 0o751, "root", group),
        Directory(paths.logs, 0o750, user, group),
        Directory(paths.state, 0o750, user, group),
        Directory(paths.workspace, 0o750, user, group),
        Directory(paths.backups, 0o700, user, group),
        Directory(paths.openclaw_state, 0o700, user, group),
        # Installed by openclaw, the runtime tree is its to remove; with install: none, a
        # command an operator left inside it keeps it.
        *((Directory(f"{paths.root}/runtime", 0o755, "root", "root", bundled),)
          if bundled or cfg.service.runtime.command.startswith(f"{svc.root}/runtime/")
          else ()),
        *((Directory(paths.llm_gateway, 0o755, "root", "root", True),
           Directory(paths.llm_home, 0o700, gw.user, gw.user, True),
           # setgid: each record file keeps the service group, for the budget check
           Directory(paths.usage, 0o2750, gw.user, group, True)) if gw.enabled else ()),
        # written by the root audit check, read by the health check (setgid: group kept)
        *((Directory(paths.audit, 0o2750, "root", group, True),) if audited else ()),
        *((Directory(paths.autoscale, 0o755, "root", "root", True),) if scaled else ()),
        *(Directory(f"{paths.root}/{r['name']}", 0o700, gw.user, gw.user, True)
          for r in llm_gateway.redis_instances(cfg)),
    )
    rt = cfg.service.runtime
    spec = None if host.sandbox else RuntimeSpec(
        rt.version, rt.node, rt.install, runtime.directory(cfg), runtime.cli(cfg),
        rt.registry)
    receiving = rep is not None and bool(rep.sources)
    if rep is not None and rep.sources:
        # The replica account's home and keys are root's; each source's replica is the
        # account's to write (setgid: the service group reads it back in a failover).
        directories += (Directory(rep.replicas, 0o755, "root", "root", True),
                        Directory(f"{rep.replicas}/.ssh", 0o755, "root", "root", True),
                        *(Directory(rep.replica(s), 0o2750, replication.REPLICA_USER, group,
                                    True) for s in rep.sources))
    accounts = (Account(user, group, paths.state),
                *((Account(gw.user, gw.user, paths.llm_home),) if gw.enabled else ()),
                *((Account(replication.REPLICA_USER, replication.REPLICA_USER,
                           f"{svc.root}/replicas", "/bin/sh"),) if receiving else ()))
    return HostPlan(host.name, host.region, host.root, directories,
                    tuple(sorted(files, key=lambda f: f.path)),
                    once(("units", paths.root, shipping), lambda: _units(cfg, paths, shipping)),
                    spec,
                    accounts, (paths.shared_env,),
                    tuple(sorted(ctx["mode_units"].off.items())), rep)


def _env_consumers(cfg: Config) -> tuple[str, ...]:
    """The consumers this host runs, each with its own environment file."""
    return tuple(c for c in env_files.FILES
                 if (c != "autoscale" or cfg.scaling.autoscaled)
                 and (c != "llm-gateway" or cfg.llm_gateway.enabled))


def _gateway_exec(cfg: Config, root: str) -> str:
    """ExecStart of the gateway: the pinned runtime by absolute path."""
    args = (*runtime.cli(cfg, root), "gateway", "--port", str(cfg.service.gateway_port))
    return " ".join(systemd_word(a) for a in args)


def _checks(cfg: Config, paths: Paths, shipping: bool = False) -> list[dict[str, Any]]:
    """The timer-driven oneshot services: what they run, how often, what they may touch."""
    hc = cfg.health_checks
    user, group = cfg.service.user, cfg.service.group
    checks = [
        {"name": "openclaw-health-check", "script": paths.script("health-check.sh"),
         "description": "OpenClaw health check", "interval": hc.interval,
         # Never killed before it writes its report: sized from its worst case (W013).
         "boot_delay": hc.startup_initial_delay,
         "timeout": float(math.ceil(max(60.0, hc.interval, timing.health_check_worst(cfg)))),
         "writable": (paths.state, paths.logs), "network": True, "systemctl": True,
         "user": user, "group": group, "env": "checks"},
        {"name": "openclaw-budget-check", "script": paths.script("budget-check.sh"),
         "description": "OpenClaw budget check", "interval": cfg.tracking.check_interval,
         "boot_delay": 60.0, "timeout": 120.0, "writable": (paths.state, paths.logs),
         "network": True, "systemctl": False, "user": user, "group": group,
         "env": "checks"},
        {"name": "openclaw-backup", "script": paths.script("backup.sh"),
         "description": "OpenClaw backup of state and workspace", "interval": cfg.deployment.rpo,
         "boot_delay": 300.0, "timeout": max(300.0, cfg.deployment.rpo / 2),
         "writable": (paths.backups, paths.logs), "network": True, "systemctl": False,
         "user": user, "group": group, "env": ""},
    ]
    if shipping:
        # The service account reads its own state; its key comes as a systemd credential
        # (root's file stays 0600), and the peer lets it write that host's replica only.
        checks.append({
            "name": "openclaw-replicate", "script": paths.script("replicate.sh"),
            "description": "OpenClaw replication of state and workspace to the failover "
                           "region", "interval": float(replication.interval(cfg)),
            "boot_delay": float(replication.interval(cfg)), "timeout": max(
                300.0, cfg.deployment.rpo / 2), "writable": (paths.state, paths.logs),
            "network": True, "systemctl": False, "user": user, "group": group, "env": "",
            "credential": f"replication-key:{replication.KEY}"})
    if cfg.secrets.alert_on_access:
        # Root reads the audit log (root's own, mode 0600); no network, no user namespace
        # (the report it writes keeps the service group of its setgid directory).
        checks.append({
            "name": "openclaw-audit-check", "script": paths.script("audit-check.sh"),
            "description": "OpenClaw audit of access to the secrets",
            "interval": hc.interval, "boot_delay": 120.0, "timeout": 120.0,
            "writable": (paths.audit,), "network": False, "systemctl": True,
            "user": "root", "group": "root", "env": ""})
    if cfg.scaling.autoscaled:
        # Root starts and stops worker instances through systemd; the queue may be remote.
        checks.append({
            "name": "openclaw-autoscale", "script": paths.script("autoscale.sh"),
            "description": "OpenClaw worker autoscaler", "interval": cfg.scaling.check_interval,
            "boot_delay": 60.0, "timeout": 60.0, "writable": (paths.autoscale,),
            "network": True, "systemctl": True, "user": "root", "group": "root",
            "env": "autoscale"})
    return checks


def _trigger(text: str) -> units.Threshold | None:
    """'queue_depth > 10' -> (>, 10); validation guarantees the metric (R019)."""
    m = re.match(r"^\s*[a-z_]+\s*(.*)$", text)
    try:
        return units.threshold(m.group(1)) if m else None
    except ValueError:
        return None


def _watched_units(cfg: Config) -> tuple[str, ...]:
    workers = tuple(f"openclaw-worker@{i}.service"
                    for i in range(1, cfg.scaling.min_instances + 1))
    return ("openclaw-gateway.service", *workers, *_gateway_units(cfg))


def _gateway_units(cfg: Config) -> tuple[str, ...]:
    redis = tuple(f"openclaw-{r['name']}.service" for r in llm_gateway.redis_instances(cfg))
    return (*redis, "openclaw-llm-gateway.service") if cfg.llm_gateway.enabled else ()


def _units(cfg: Config, paths: Paths, shipping: bool = False) -> tuple[Unit, ...]:
    config = paths.config
    units: list[Unit] = []
    # Started in this order: what the OpenClaw gateway reaches its models through first.
    units += [Unit(f"openclaw-{r['name']}.service", restart_on=(
        _unit_path(f"openclaw-{r['name']}.service"), f"{config}/{r['name']}.conf"))
        for r in llm_gateway.redis_instances(cfg)]
    if cfg.llm_gateway.enabled:
        units.append(Unit("openclaw-llm-gateway.service", restart_on=(
            _unit_path("openclaw-llm-gateway.service"), paths.llm_env,
            f"{config}/llm-gateway.yaml")))
    # OpenClaw hot-reloads openclaw.json: a change there restarts nothing.
    units.append(Unit("openclaw-gateway.service", restart_on=(
        _unit_path("openclaw-gateway.service"), paths.env("gateway"))))
    units += [Unit(f"openclaw-worker@{i}.service", restart_on=(
        _unit_path("openclaw-worker@.service"), paths.env("workers")))
        for i in range(1, cfg.scaling.min_instances + 1)]
    units += [Unit(f"{c['name']}.timer", restart_on=(_unit_path(f"{c['name']}.timer"),))
              for c in _checks(cfg, paths, shipping)]
    # journald reads its drop-ins at start; it is restarted, never enabled or started here.
    units.append(Unit("systemd-journald.service", enable=False, start=False,
                      restart_on=(JOURNALD_DROPIN,)))
    if cfg.logging.remote_url:
        units.append(Unit("systemd-journal-upload.service", restart_on=(JOURNAL_UPLOAD,)))
    if cfg.service.dashboard_enabled:
        units.append(Unit("openclaw-dashboard.service", restart_on=(
            _unit_path("openclaw-dashboard.service"), paths.env("workers"))))
    units.append(Unit("openclaw-mode.path", restart_on=(_unit_path("openclaw-mode.path"),)))
    return tuple(units)


@dataclass(frozen=True)
class ModeUnits:
    managed: tuple[str, ...]  # what a mode may stop, all running in FULL
    off: dict[str, tuple[str, ...]]  # mode -> the units it stops


def mode_units(cfg: Config) -> ModeUnits:
    """What each degradation mode runs: DEGRADED stops the dashboard and the autoscaler,
    MINIMAL and MAINTENANCE the workers too (the gateway, the LLM gateway and the checks run
    in every mode)."""
    optional = ((("openclaw-dashboard.service",) if cfg.service.dashboard_enabled else ())
                + (("openclaw-autoscale.timer",) if cfg.scaling.autoscaled else ()))
    workers = tuple(f"openclaw-worker@{i}.service"
                    for i in range(1, cfg.scaling.min_instances + 1))
    managed = optional + workers
    return ModeUnits(managed, {"FULL": (), "DEGRADED": optional, "MINIMAL": managed,
                               "MAINTENANCE": managed})


@functools.cache
def _static(name: str) -> bytes:
    """Scripts ship as they are (no templating: bash and Jinja share too much syntax); each
    reads its parameters from the .conf beside it. Read once per process."""
    return _read_once(resources.data_dir("templates") / "scripts" / name)


@functools.cache
def _read_once(path: Path) -> bytes:
    return path.read_bytes()


def compile_fleet(cfg: Config, inventory: Inventory) -> tuple[HostPlan, ...]:
    cache: Cache = {}
    pairs = replication.pairing(cfg, inventory.fleet)
    return tuple(compile_host(cfg, h, cache, pairs.of(cfg, h.name)) for h in inventory.hosts)
