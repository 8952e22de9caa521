"""The command line. Click parses; core functions do the work; errors are sorted into user
errors (plain message, exit 1) and bugs (traceback to a debug log, exit 1)."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from openclaw import __version__, resources
from openclaw.compile import compile_fleet
from openclaw.compile.tree import write_tree
from openclaw.errors import FindingsError, OpenclawError
from openclaw.findings import render_json, render_text
from openclaw.project import Project, load
from openclaw.validate import check_all, default_inventory

F = TypeVar("F", bound=Callable[..., Any])

EXAMPLES = """
Examples:

\b
  openclaw validate                       # ./openclaw.yaml and inventory/local.yaml
  openclaw validate -c fleet.yaml -i inventory/production.yaml --format json
  openclaw compile -i inventory/production.yaml -o out/
  openclaw schema > openclaw.schema.json
"""


def config_options(fn: F) -> F:
    """Options every command that reads a project shares."""
    fn = click.option("-i", "--inventory", "inventory", type=click.Path(dir_okay=True),
                      default=None, help="Inventory YAML (default: inventory/local.yaml "
                      "if present).")(fn)
    fn = click.option("-c", "--config", "config", type=click.Path(dir_okay=True),
                      default="openclaw.yaml", show_default=True,
                      help="The fleet configuration.")(fn)
    return fn


def format_option(*choices: str) -> Callable[[F], F]:
    return click.option("--format", "fmt", type=click.Choice(choices), default="text",
                        show_default=True, help="Output format.")


def guarded(fn: F) -> F:
    """Turn user errors into exit 1 with their message, and bugs into a logged traceback."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FindingsError as e:
            sys.stderr.write(render_text(e.findings))
            sys.exit(1)
        except OpenclawError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted: every file on the hosts is either old or new, never "
                       "half-written; run the command again to converge", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception:
            fd, path = tempfile.mkstemp(prefix="openclaw-crash-", suffix=".log")
            with os.fdopen(fd, "w") as fh:
                fh.write(traceback.format_exc())
            click.echo(f"internal error: this is a bug in openclaw; details in {path}",
                       err=True)
            sys.exit(1)
    return wrapper  # type: ignore[return-value]


def resolve_inventory(inventory: str | None) -> str | None:
    return inventory if inventory is not None else default_inventory()


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EXAMPLES)
@click.version_option(__version__, prog_name="openclaw")
def main() -> None:
    """Declarative provisioning and config compiler for OpenClaw agent fleets.

    Validates openclaw.yaml, compiles it per host into systemd units, scripts, .env and
    failover.json, and ships them with pyinfra.
    """


@main.command()
@config_options
@format_option("text", "json")
@guarded
def validate(config: str, inventory: str | None, fmt: str) -> None:
    """Check the config (and inventory) against the schema and the semantic rules.

    Prints every finding as FILE:LINE:COL: path: message. Exit 0 when clean, 1 on errors
    (warnings alone exit 0).
    """
    checked = check_all(config, resolve_inventory(inventory))
    out = render_json(checked.findings) if fmt == "json" else render_text(checked.findings)
    sys.stdout.write(out)
    sys.exit(0 if checked.ok else 1)


@main.command()
@click.option("-c", "--config", "config", type=click.Path(dir_okay=True),
              default="openclaw.yaml", show_default=True, help="The fleet configuration.")
@guarded
def bundle(config: str) -> None:
    """Build the pinned OpenClaw bundle (service.openclaw: Node and OpenClaw from the npm
    registry) into bundle_cache, if it is not there yet, and print its path. apply and
    bootstrap build it on first need; this builds it ahead, e.g. in a CI cache step.
    """
    from openclaw import model
    from openclaw.sync import bundle as runtime_bundle
    checked = check_all(config, None)
    if not checked.ok or checked.config is None:
        raise FindingsError(checked.findings)
    cfg = model.build(checked.config)
    path = runtime_bundle.ensure(cfg, Path(config).resolve().parent,
                                 lambda m: click.echo(m, err=True))
    click.echo(str(path))


@main.command()
@click.option("--inventory", "which", flag_value="inventory.schema.json",
              help="Print the inventory schema instead.")
@click.option("--config", "which", flag_value="openclaw.schema.json", default=True,
              hidden=True)
def schema(which: str) -> None:
    """Print the JSON Schema of openclaw.yaml."""
    click.echo(json.dumps(resources.schema(which), indent=2))


def _shard(value: str) -> tuple[int, int]:
    m = re.fullmatch(r"([1-9][0-9]*)/([1-9][0-9]*)", value)
    if not m or int(m.group(1)) > int(m.group(2)):
        raise OpenclawError(f"--shard {value!r}: give I/N with 1 <= I <= N, e.g. 2/4")
    return int(m.group(1)), int(m.group(2))


def select_options(fn: F) -> F:
    fn = click.option("--shard", "shard", metavar="I/N",
                      help="Only shard I of N: the hosts in rollout order cut into N "
                      "contiguous slices, the same on every runner (CI matrix jobs).")(fn)
    fn = click.option("--limit", "limit", multiple=True, metavar="HOST",
                      help="Only this host (repeatable).")(fn)
    fn = click.option("--region", "region", default=None, help="Only this region.")(fn)
    return fn


def load_selected(config: str, inventory: str | None, region: str | None,
                  limit: tuple[str, ...], shard: str | None = None) -> Project:
    where = _shard(shard) if shard is not None else None  # before anything is loaded
    project = select_hosts(load_all(config, inventory), region, limit)
    if where is None:
        return project
    return Project(project.config, project.inventory.shard(*where), project.warnings)


def load_all(config: str, inventory: str | None) -> Project:
    inv = resolve_inventory(inventory)
    if inv is None:
        raise OpenclawError("no inventory: pass -i/--inventory (inventory/local.yaml is the "
                            "default when it exists)")
    project = load(config, inv)
    for warning in project.warnings:
        click.echo(warning.render(), err=True)
    return project


def select_hosts(project: Project, region: str | None, limit: tuple[str, ...]) -> Project:
    inv = project.inventory.file
    selected = project.inventory.select(region, limit)
    if region and region not in project.inventory.regions:
        raise OpenclawError(f"region {region!r} has no hosts in {inv} (regions: "
                            f"{', '.join(project.inventory.regions)})")
    missing = sorted(set(limit) - {h.name for h in selected.hosts})
    if missing:
        raise OpenclawError(f"--limit names hosts not in the selection: {', '.join(missing)}")
    return Project(project.config, selected, project.warnings)


@main.command(name="compile")
@config_options
@select_options
@click.option("-o", "--output", "output", required=True, type=click.Path(),
              help="Directory for the tree: DIR/<region>/<host>/<absolute path>.")
@click.option("--objects", is_flag=True,
              help="Write each distinct content once, as DIR/objects/<sha256>, instead of "
                   "a tree per host; manifest.json says which host has which where.")
@guarded
def compile_cmd(config: str, inventory: str | None, region: str | None,
                limit: tuple[str, ...],
                shard: str | None, output: str, objects: bool) -> None:
    """Compile every selected host's artifacts into a directory tree with a manifest.

    Secrets are not resolved: the .env names each key's source.
    """
    # Checked here, not by click: a file given where a directory belongs is exit 1, not 2.
    if os.path.exists(output) and not os.path.isdir(output):
        raise OpenclawError(f"{output}: is not a directory; -o takes the directory of the "
                            "compiled tree")
    project = load_selected(config, inventory, region, limit, shard)
    plans = compile_fleet(project.config, project.inventory)
    count = write_tree(plans, Path(output), objects)
    what = "distinct contents" if objects else "files"
    click.echo(f"compiled {len(plans)} host(s), {count} {what} into {output}", err=True)


def output_options(fn: F) -> F:
    fn = click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv: "
                      "debug). Secrets are masked at every level.")(fn)
    fn = click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
                      default="text", show_default=True, help="Output format.")(fn)
    return fn


def _progress(fmt: str, verbose: int) -> Callable[[str], None]:
    def say(message: str) -> None:
        if fmt == "text" or verbose:
            click.echo(f"openclaw: {message}", err=True)
    return say


@main.command()
@config_options
@select_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--html", "html_file", type=click.Path(), metavar="FILE",
              help="Also write a self-contained HTML page: the table and a chart of budget "
                   "use per provider and region.")
@click.option("-v", "--verbose", count=True, help="More detail on stderr.")
@guarded
def status(config: str, inventory: str | None, region: str | None, limit: tuple[str, ...],
           shard: str | None,
           fmt: str, html_file: str | None, verbose: int) -> None:
    """The fleet from the operator's seat: health, mode, breakers, budget use, last check.

    One command per host. Exit 0 when every host is ok, 2 when any is degraded, unhealthy,
    stale or has no report yet, 1 when any is unreachable.
    """
    from openclaw import live
    from openclaw.status import html, render
    live.setup_logging(verbose)
    if html_file and os.path.isdir(html_file):
        raise OpenclawError(f"{html_file}: is a directory; --html takes the file to write")
    project = load_selected(config, inventory, region, limit, shard)
    hosts = live.status(project, _progress(fmt, verbose))
    sys.stdout.write(render.jsondoc(hosts) if fmt == "json" else render.text(hosts))
    if html_file:
        try:
            Path(html_file).write_text(html.page(hosts), encoding="utf-8")
        except OSError as e:
            raise OpenclawError(f"{html_file}: cannot write: {e.strerror}") from None
        click.echo(f"openclaw: wrote {html_file}", err=True)
    if any(h.error for h in hosts):
        sys.exit(1)
    sys.exit(0 if all(h.state == "ok" for h in hosts) else 2)


@main.command()
@config_options
@select_options
@output_options
@guarded
def plan(config: str, inventory: str | None, region: str | None, limit: tuple[str, ...],
         shard: str | None,
         fmt: str, verbose: int) -> None:
    """Dry run against the hosts: per-host, per-file diffs and the units that would change.

    Exit 0 when every host is in sync, 2 when changes are pending, 1 on any error
    (an unreachable host included; the others are still planned).
    """
    from openclaw import live
    from openclaw.report import render
    live.setup_logging(verbose)
    project = load_selected(config, inventory, region, limit, shard)
    run = live.plan(project, config, _progress(fmt, verbose))
    sys.stdout.write(render(fmt, "plan", run.changes))
    if any(c.error for c in run.changes):
        sys.exit(1)
    sys.exit(2 if any(c.changed for c in run.changes) else 0)


def _show_and_confirm(fmt: str, yes: bool, verb: str) -> tuple[Any, Any]:
    from openclaw.report import render
    from openclaw.sync.changes import HostChanges
    if not yes and not sys.stdin.isatty():
        raise OpenclawError(f"{verb} needs a terminal to confirm, or --yes")

    def show(changes: list[HostChanges]) -> None:
        if fmt != "json":
            sys.stdout.write(render(fmt, "plan", changes))
            sys.stdout.flush()

    def confirm(changes: list[HostChanges]) -> bool:
        n = sum(1 for c in changes if c.changed and not c.error)
        return yes or click.confirm(f"{verb} these changes on {n} host(s)?", default=False,
                                    err=True)
    return show, confirm


def _finish(fmt: str, verb: str, run: Any) -> None:
    from openclaw.report import render
    results = run.results or []
    sys.stdout.write(render(fmt, verb, run.changes, results))
    sys.exit(1 if any(r.status in ("failed", "rolled back", "skipped") for r in results)
             else 0)


@main.command()
@config_options
@select_options
@output_options
@click.option("--yes", is_flag=True, help="Apply without asking.")
@click.option("--batch-size", metavar="N|N%", help="Hosts per batch after the canary "
              "(default: deployment.rollout.batch_size).")
@click.option("--max-fail", type=int, default=0, show_default=True,
              help="Failed hosts tolerated before the rollout stops.")
@click.option("--rollback-on-failure", is_flag=True,
              help="Put a failed batch back on its previous generation.")
@guarded
def apply(config: str, inventory: str | None, region: str | None, limit: tuple[str, ...],
          shard: str | None,
          fmt: str, verbose: int, yes: bool, batch_size: str | None, max_fail: int,
          rollback_on_failure: bool) -> None:
    """Plan, confirm, then roll out: region by region in the order of deployment.regions,
    the first host of each region alone (the canary), then batches, each behind a health
    gate (units active, the gateway's /healthz and /readyz, the LLM gateway's liveness)
    that must pass within deployment.rollout.health_timeout before the next batch starts.

    Files are written atomically, daemon-reload runs once, units are enabled and started, and
    restarted only when their inputs changed. Every apply records a generation on the host
    for `openclaw rollback`.

    Exit 0 when every host converged, 1 when any host failed, was rolled back, or was
    skipped because the rollout stopped.
    """
    from openclaw import live
    live.setup_logging(verbose)
    if batch_size is not None and not re.match(r"^[1-9][0-9]*%?$", batch_size):
        raise OpenclawError(f"--batch-size {batch_size!r}: give a count or a percentage")
    project = load_selected(config, inventory, region, limit, shard)
    show, confirm = _show_and_confirm(fmt, yes, "apply")
    rollout = live.Rollout(batch_size or "", max_fail, rollback_on_failure)
    _finish(fmt, "apply", live.apply(project, config, _progress(fmt, verbose), show,
                                     confirm, rollout))


@main.command()
@config_options
@click.option("--region", "region", required=True, help="The region to bring up.")
@output_options
@click.option("--yes", is_flag=True, help="Bootstrap without asking.")
@click.option("--batch-size", metavar="N|N%", help="Hosts per batch after the canary.")
@guarded
def bootstrap(config: str, inventory: str | None, region: str, fmt: str, verbose: int,
              yes: bool, batch_size: str | None) -> None:
    """Bring a region up from bare hosts (sshd and a root or sudo login): packages
    (service.packages), the pinned OpenClaw (service.openclaw: uploaded bundle, npm on the
    host, or checked when installed by other means), the LLM gateway, the service user
    and group, directories, every artifact, units enabled and
    started behind the health gate; then every other region's failover.json so that each
    region knows its failover peers. Re-running it changes nothing.
    """
    from openclaw import live
    live.setup_logging(verbose)
    project = load_selected(config, inventory, None, ())
    show, confirm = _show_and_confirm(fmt, yes, "bootstrap")
    _finish(fmt, "bootstrap", live.bootstrap(project, config, region,
                                             _progress(fmt, verbose), show, confirm,
                                             live.Rollout(batch_size or "")))


@main.command()
@config_options
@select_options
@output_options
@click.option("--to", "to", type=int, metavar="GENERATION",
              help="The generation to return to (default: the one before the latest "
              "apply).")
@click.option("--yes", is_flag=True, help="Roll back without asking.")
@guarded
def rollback(config: str, inventory: str | None, region: str | None,
             limit: tuple[str, ...],
             shard: str | None, fmt: str, verbose: int, to: int | None,
             yes: bool) -> None:
    """Put hosts back on an earlier generation: every managed file as it was after that
    apply, units restarted where their inputs changed. Reported like an apply; running it
    again changes nothing. Exit 0 ok, 1 any host failed.
    """
    from openclaw import live
    live.setup_logging(verbose)
    project = load_selected(config, inventory, region, limit, shard)
    show, confirm = _show_and_confirm(fmt, yes, "rollback")
    _finish(fmt, "rollback", live.rollback(project, _progress(fmt, verbose), show, confirm,
                                           to))


@main.command()
@config_options
@output_options
@click.option("--host", "limit", multiple=True, metavar="HOST",
              help="A host to take out of service (repeatable).")
@click.option("--region", "region", default=None, help="Every host of this region.")
@click.option("--purge", is_flag=True, help="Remove OpenClaw's state and the backups too.")
@click.option("--yes", is_flag=True, help="Decommission without asking.")
@guarded
def decommission(config: str, inventory: str | None, region: str | None,
                 limit: tuple[str, ...], fmt: str, verbose: int, purge: bool,
                 yes: bool) -> None:
    """Take hosts out of service before they leave the inventory: every openclaw unit
    stopped and disabled, every file openclaw manages removed (its .env files and their keys
    included). OpenClaw's state and the backups stay unless --purge. The host's last
    generation says so. When every host of a region leaves, the other regions'
    failover.json stops naming it. Exit 0 ok, 1 any host failed.

    \b
      openclaw decommission -i inventory/production.yaml --host agent-euw1-02.example.com
    """
    from openclaw import live
    if not limit and region is None:
        raise OpenclawError("name what leaves: --host HOST (repeatable) or --region REGION")
    live.setup_logging(verbose)
    project = load_all(config, inventory)
    leaving = {h.name for h in select_hosts(project, region, limit).inventory.hosts}
    show, confirm = _show_and_confirm(fmt, yes, "decommission")
    _finish(fmt, "decommission", live.decommission(project, leaving, _progress(fmt, verbose),
                                                   show, confirm, purge))


@main.command()
@config_options
@click.option("--base", "base", metavar="GITREF", help="Revision to compare against, e.g. "
              "origin/main (read with git; the working tree and index are not touched).")
@click.option("--head", "head", metavar="GITREF", help="Revision to compare (default: the "
              "working tree).")
@click.option("--base-config", type=click.Path(), help="Compare against this "
              "config file instead of a revision.")
@click.option("--base-inventory", type=click.Path(), help="Compare against "
              "this inventory file instead of a revision.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True, help="Output format.")
@click.option("--no-unit-checks", is_flag=True, help="Skip systemd-analyze on changed units.")
@guarded
def diff(config: str, inventory: str | None, base: str | None, head: str | None,
         base_config: str | None, base_inventory: str | None, fmt: str,
         no_unit_checks: bool) -> None:
    """Offline review: what every host would get, base -> head, with no hosts and no secrets.

    A policy summary (each changed setting, old -> new, and the hosts it reaches), then the
    per-host changes, identical changes grouped across hosts. Exit 0 no difference,
    2 differences, 1 error (a base that does not validate included).

    \b
      openclaw diff --base origin/main --format markdown > comment.md
    """
    from openclaw.review import diff as review
    from openclaw.review.render import render
    inv = resolve_inventory(inventory)
    if inv is None:
        raise OpenclawError("no inventory: pass -i/--inventory")
    if not (base or base_config or base_inventory):
        raise OpenclawError("give --base GITREF, or --base-config/--base-inventory")
    try:
        report = review.run(config, inv, base=base, head=head, base_config=base_config,
                            base_inventory=base_inventory, check_units=not no_unit_checks)
    except review.BaseInvalid as e:
        click.echo(f"error: {e}; its findings:", err=True)
        sys.stderr.write(render_text(e.findings))
        head_findings = check_all(config, inv).findings
        if head_findings:
            click.echo("and the head's findings:", err=True)
            sys.stderr.write(render_text(head_findings))
        sys.exit(1)
    sys.stdout.write(render(fmt, report))
    sys.exit(2 if report.differs else 0)


@main.group()
def dns() -> None:
    """The fleet's name in DNS (deployment.dns), through octoDNS and the operator's own
    provider: the hosts of every region in service (weight above 0), weighted by region, with
    geo rules per region when latency_routing is on and the provider supports dynamic records.
    Only deployment.dns.name is read or changed in the zone."""


def _dns(config: str, inventory: str | None, fmt: str, apply: bool) -> int:
    from openclaw.compile.dns import unpublished
    from openclaw.sync import dns as dns_sync
    project = load_all(config, inventory)
    missing = unpublished(project.inventory)
    if missing:
        click.echo(f"note: not in DNS (no public_address, and ssh_host is not an address): "
                   f"{', '.join(missing)}", err=True)
    changes, _ = dns_sync.sync(project.config, project.inventory, apply=apply)
    render = dns_sync.render_json if fmt == "json" else dns_sync.render_text
    sys.stdout.write(render(changes, apply))
    return len(changes)


@dns.command(name="plan")
@config_options
@format_option("text", "json")
@guarded
def dns_plan(config: str, inventory: str | None, fmt: str) -> None:
    """What `dns apply` would change at the provider. Exit 0 in sync, 2 changes, 1 error.

    \b
      openclaw dns plan -i inventory/production.yaml
    """
    sys.exit(2 if _dns(config, inventory, fmt, apply=False) else 0)


@dns.command(name="apply")
@config_options
@format_option("text", "json")
@guarded
def dns_apply(config: str, inventory: str | None, fmt: str) -> None:
    """Make the provider's records for deployment.dns.name what the config and inventory
    say. Exit 0 done (or nothing to do), 1 error."""
    _dns(config, inventory, fmt, apply=True)
    sys.exit(0)


@main.command(name="failover")
@config_options
@click.option("--from", "source", metavar="REGION",
              help="The region leaving the published records.")
@click.option("--to", "target", metavar="REGION",
              help="The region taking its traffic (verified healthy first).")
@click.option("--auto", "automatic", is_flag=True,
              help="Decide: fail over the first region in service none of whose hosts is "
                   "healthy (deployment.failover.automatic; run it from a scheduler).")
@click.option("-v", "--verbose", count=True, help="More detail on stderr.")
@guarded
def failover_cmd(config: str, inventory: str | None, source: str | None,
                 target: str | None, automatic: bool, verbose: int) -> None:
    """Move a region's traffic to another: the target's hosts must pass the rollout's
    health gate, then DNS (deployment.dns, through octoDNS) drops the source's hosts and
    gives its weight to the target; the zone records the failover, so `failback` and every
    later `dns apply` know it. With deployment.failover.replicate, the target's hosts first
    restore the source's replicas. --auto decides alone (deployment.failover.automatic):
    the first region in service none of whose hosts passes the gate goes to its first
    healthy failover region. Exit 0 done within deployment.failover.rto (or nothing to do),
    1 refused, failed or over the RTO.

    \b
      openclaw failover --from us-east --to eu-west -i inventory/production.yaml
      openclaw failover --auto -i inventory/production.yaml   # from cron or a timer
    """
    from openclaw import failover, live
    if (automatic and (source or target)) or (not automatic and not (source and target)):
        raise OpenclawError("failover needs --from and --to, or --auto alone")
    live.setup_logging(verbose)
    project = load_all(config, inventory)
    if automatic:
        decided = failover.auto(project, _progress("text", verbose))
        if decided is None:
            sys.stdout.write("failover --auto: every region in service has a healthy host; "
                             "nothing to do\n")
            sys.exit(0)
        outcome = decided
    else:
        assert source and target
        outcome = failover.failover(project, source, target, _progress("text", verbose))
    sys.stdout.write(failover.render_text(outcome))
    sys.exit(0 if outcome.within_rto else 1)


@main.command(name="failback")
@config_options
@click.option("--region", "region", required=True, help="The region coming back.")
@click.option("-v", "--verbose", count=True, help="More detail on stderr.")
@guarded
def failback_cmd(config: str, inventory: str | None, region: str, verbose: int) -> None:
    """Put a failed-over region back: its hosts must pass the health gate, then DNS
    publishes them again with the region's own weight. Exit 0 done, 1 refused or failed."""
    from openclaw import failover, live
    live.setup_logging(verbose)
    outcome = failover.failback(load_all(config, inventory), region,
                                _progress("text", verbose))
    sys.stdout.write(failover.render_text(outcome))
    sys.exit(0)


@main.command(name="merge-reports")
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False))
@format_option("text", "json")
@guarded
def merge_reports(reports: tuple[str, ...], fmt: str) -> None:
    """One report from the JSON reports of sharded runs (`--shard I/N --format json` on N
    CI runners): every shard's hosts and results, the summary counted again; shards that
    overlap are refused. Exits as the command would have: apply 0/1, plan 0/2/1.

    \b
      openclaw merge-reports shard-*.json
    """
    from openclaw.report import merge
    doc = merge.merge(list(reports))
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n" if fmt == "json"
                     else merge.render_text(doc))
    sys.exit(merge.exit_code(doc))
