"""openclaw vs plain pyinfra vs Ansible on the same freshly started hosts and the same content
(the artifacts openclaw compiles for the repo's openclaw.yaml). `make bench` runs it as root.

For each fleet size (up to 1,000 hosts), each tool, each run: fresh light hosts (one sshd per
loopback address in its own mount namespace), then `apply` on fresh hosts, a no-op `plan`
(pyinfra --dry, Ansible --check --diff), and `apply` on the fleet in sync: the time, the
controller's peak memory, and the SSH sessions each host served. Medians of --runs.
Optionally 5 systemd hosts (nspawn). Then compile of 1,000 hosts: in-process against the bare
Jinja render, and the CLI's `compile -o` with writing. Writes bench/results.md, .json and
.png, and with --readme the tables and the targets' verdicts into README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.hosts.light import inventory, light_hosts  # noqa: E402
from tests.hosts.nspawn import containers, make_key  # noqa: E402

BIN = Path(sys.executable).parent
SECRETS = {"GATEWAY_AUTH_TOKEN": "bench-gateway-token", "MINIMAX_API_KEY": "bench-minimax-key",
           "OPENROUTER_API_KEY": "bench-or-key",
           "TELEGRAM_BOT_TOKEN": "1:bench-telegram", "TELEGRAM_CHAT_ID": "bench-chat",
           "LITELLM_MASTER_KEY": "sk-bench-litellm",
           "DATABASE_URL": "postgresql://canary:pw-canary-db@127.0.0.1/q",
           "QUEUE_REDIS_URL": "redis://:canary-redis-pw@127.0.0.1:6379/0"}
JOBS = ("plan in sync", "apply fresh", "apply in sync")
Sample = tuple[float, float, float]  # seconds, peak MiB, CPU seconds
TOOLS = ("openclaw", "pyinfra", "ansible")


def timed(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,),
          keep: Path | None = None) -> Sample:
    """Seconds, the peak memory (MiB, the largest process's maximum RSS) and the CPU seconds
    (user + system, its own process: the controller's share of the machine) of one run of a
    tool, in its own process group, killed whole however the run ends (Ansible's forks
    outlive an interrupted parent otherwise)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env={**os.environ, **SECRETS, **env}, cwd=REPO,
                                text=True, stdout=out, stderr=err, start_new_session=True)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        took = time.perf_counter() - start
        if keep is not None:  # the tool's report
            out.seek(0)
            keep.write_text(out.read())
        if proc.returncode not in ok:
            out.seek(0)
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd[:3])} exited {proc.returncode}:\n"
                               f"{out.read()[-2000:]}\n{err.read()[-2000:]}")
    return took, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


class Fleet:
    """What each tool needs to reach the same hosts with the same content."""

    def __init__(self, work: Path, config: Path, inv: Path, key: Path) -> None:
        self.work, self.config, self.inv, self.key = work, config, inv, key
        self.tree = work / "tree"
        subprocess.run([str(BIN / "openclaw"), "compile", "-c", str(config), "-i", str(inv),
                        "-o", str(self.tree)], check=True, capture_output=True)
        self.manifest = json.loads((self.tree / "manifest.json").read_text())
        self.ansible_inventory = self._ansible_inventory()

    def _ansible_inventory(self) -> Path:
        import yaml
        hosts = {}
        ips = yaml.safe_load(self.inv.read_text())
        address = {name: data["ssh_host"] for region in ips["regions"].values()
                   for name, data in region["hosts"].items()}
        for h in self.manifest["hosts"]:
            hosts[h["host"]] = {
                "ansible_host": address[h["host"]], "ansible_user": "root",
                "ansible_ssh_private_key_file": str(self.key), "region": h["region"],
                "tree": str(self.tree), "files": h["files"], "directories": h["directories"],
                "units": [{"name": u["name"]} for u in h["units"]],
                "accounts": sorted({x["owner"] for x in h["directories"] + h["files"]}
                                   - {"root"}),
                # copy does not make a file's directory (pyinfra's files.put does)
                "parents": sorted({os.path.dirname(f["path"]) for f in h["files"]}
                                  - {d["path"] for d in h["directories"]}),
                "systemd": self.systemd}
        path = self.work / "ansible-inventory.yml"
        path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
        return path

    systemd = False

    def run(self, tool: str, job: str) -> tuple[float, float]:
        n = str(len(self.manifest["hosts"]))
        if tool == "openclaw":
            verb = ["plan"] if job == "plan in sync" else ["apply", "--yes"]
            return timed([str(BIN / "openclaw"), *verb, "-c", str(self.config), "-i",
                          str(self.inv), "--format", "json"], {}, ok=(0,),
                         keep=self.work / f"{job.replace(' ', '-')}.json")
        if tool == "pyinfra":
            dry = ["--dry"] if job == "plan in sync" else []
            return timed([str(BIN / "pyinfra"), "-y", *dry, "--parallel", n,
                          str(REPO / "deploys/inventory.py"),
                          str(REPO / "bench/pyinfra_deploy.py")],
                         {"BENCH_TREE": str(self.tree), "OPENCLAW_CONFIG": str(self.config),
                          "OPENCLAW_INVENTORY": str(self.inv)})
        check = ["--check", "--diff"] if job == "plan in sync" else []
        return timed([str(BIN / "ansible-playbook"), "-i", str(self.ansible_inventory), "-f",
                      n, *check, str(REPO / "bench/playbook.yml")],
                     # this round's own multiplexed connections, never an earlier round's
                     {"ANSIBLE_CONFIG": str(REPO / "bench/ansible.cfg"),
                      "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.work / "cp")})




def bench_config(path: Path, openclaw: str, llm_gateway: bool = True) -> Path:
    """The repo's config with OpenClaw already on the hosts (install: none, run as
    `openclaw`), so that every tool ships the same artifacts and nothing else, and a worker
    the hosts can run. Without `llm_gateway` for hosts that run what they get (the LiteLLM
    proxy is not on them: bootstrap installs it, and plain pyinfra ships files only)."""
    text = (REPO / "openclaw.yaml").read_text()
    if not llm_gateway:
        # OpenRouter's key in the gateway's own environment makes OpenClaw 2026.9.6 pick the
        # external Perplexity web-search plugin and install it with npm before it starts,
        # which no host can (the bundle has no npm): the gateway exits 78. Through the LLM
        # gateway (the reference config) provider keys never reach it.
        text = (text.replace("llm_gateway:\n  enabled: true", "llm_gateway:\n  enabled: false")
                .replace("api_key_env: OPENROUTER_API_KEY", "api_key_env: OPENROUTER_KEY")
                .replace("    OPENROUTER_API_KEY: {env:", "    OPENROUTER_KEY: {env:"))
    path.write_text(text
                    .replace("    install: bundle\n",
                             f"    install: none\n    command: {openclaw}\n")
                    .replace("command: /opt/openclaw/scripts/mission-worker.sh %i",
                             "command: /bin/sleep infinity")
                    .replace("  dashboard:\n    enabled: true",
                             "  dashboard:\n    enabled: false"))
    return path


def openclaw_stub() -> str:
    """What light hosts run as OpenClaw: its version line and an accepting config check
    (starting Node on every light host would measure Node). In the repo, which light hosts
    see (their /tmp is their own)."""
    import yaml
    version = yaml.safe_load((REPO / "openclaw.yaml").read_text())["service"]["openclaw"][
        "version"]
    stub = REPO / "bench" / ".openclaw-stub"
    stub.write_text(f"#!/bin/sh\ncase $1 in --version) echo 'OpenClaw {version} (bench stub)'"
                    " ;; esac\nexit 0\n")
    stub.chmod(0o755)
    return str(stub)


def light_round(n: int, tool: str, work: Path, key: Path,
                sessions: dict[str, list[int]] | None) -> dict[str, Sample]:
    """Fresh hosts, then the three jobs in the order an operator meets them. Light hosts run
    no OpenClaw: a stub answers for it."""
    with light_hosts(n, work / "hosts", key, first=60) as hosts:
        inv = inventory(hosts, key, work / "inventory.yaml")
        fleet = Fleet(work, bench_config(work / "openclaw.yaml", openclaw_stub()), inv, key)
        out: dict[str, Sample] = {}
        for job in ("apply fresh", "plan in sync", "apply in sync"):
            before = [h.sessions() for h in hosts]
            out[job] = fleet.run(tool, job)
            if sessions is not None:
                sessions[job] = [h.sessions() - b for h, b in zip(hosts, before, strict=True)]
        return out


def nspawn_round(tool: str, work: Path, key: Path) -> dict[str, Sample]:
    from tests.integration.conftest import binds
    # The real OpenClaw bind-mounted (the tests' bundle, `make openclaw-bundle`).
    config = bench_config(work / "openclaw.yaml", "/opt/openclaw-runtime/bin/openclaw",
                          llm_gateway=False)
    with containers(5, work / "ns", key, extra_binds=binds()) as hosts:
        inv = work / "inventory.yaml"
        regions = ["us-east", "us-east", "eu-west", "eu-west", "asia-pacific"]
        lines = [f"defaults:\n  ssh_user: root\n  ssh_key: {key}\n"
                 f"  ssh_known_hosts: {work}/known_hosts\nregions:"]
        for region in dict.fromkeys(regions):
            lines.append(f"  {region}:\n    hosts:")
            lines += [f"      node{i + 1}: {{ssh_host: {h.ip}}}"
                      for i, h in enumerate(hosts) if regions[i] == region]
        inv.write_text("\n".join(lines) + "\n")
        Fleet.systemd = True
        try:
            fleet = Fleet(work, config, inv, key)
            return {job: fleet.run(tool, job) for job in ("apply fresh", "plan in sync",
                                                           "apply in sync")}
        finally:
            Fleet.systemd = False


def gate_wait(work: Path) -> float | None:
    """The longest health gate of openclaw's fresh apply in a round (its JSON report)."""
    report = work / "apply-fresh.json"
    if not report.exists():
        return None
    waits = [r["gate_seconds"] for r in json.loads(report.read_text())["results"]
             if r.get("gate_seconds") is not None]
    return float(max(waits)) if waits else None


def bootstrap_round(work: Path, key: Path, n: int = 3) -> dict[str, float]:
    """`openclaw bootstrap` of one region of n bare systemd hosts: the real OpenClaw bundle
    (Node and OpenClaw, from the tests' cache) and the LiteLLM wheels uploaded to each,
    LiteLLM installed into its virtualenv, every unit started, the health gate passed.
    Then the same bootstrap again, which finds the region in sync."""
    from tests.integration.conftest import RUNTIME_CACHE
    from tests.integration.test_llm_gateway import WHEELS
    config = work / "openclaw.yaml"
    config.write_text((REPO / "openclaw.yaml").read_text()
                      .replace("    install: bundle\n",
                               f"    install: bundle\n    bundle_cache: {RUNTIME_CACHE}\n")
                      .replace('    method: index\n    version: "1.108.7"\n',
                               f"    method: wheels\n    wheels: {WHEELS}\n")
                      .replace("command: /opt/openclaw/scripts/mission-worker.sh %i",
                               "command: /bin/sleep infinity")
                      .replace("  dashboard:\n    enabled: true",
                               "  dashboard:\n    enabled: false"))
    with containers(n, work / "ns", key) as hosts:
        inv = work / "inventory.yaml"
        inv.write_text(f"defaults:\n  ssh_user: root\n  ssh_key: {key}\n"
                       f"  ssh_known_hosts: {work}/known_hosts\nregions:\n  us-east:\n"
                       "    hosts:\n" + "".join(f"      node{i + 1}: {{ssh_host: {h.ip}}}\n"
                                                for i, h in enumerate(hosts)))
        cmd = [str(BIN / "openclaw"), "bootstrap", "--region", "us-east", "--yes", "-c",
               str(config), "-i", str(inv)]
        return {"fresh": timed(cmd, {})[0], "in sync": timed(cmd, {})[0]}


def compile_bench(work: Path, runs: int = 5) -> dict[str, float]:
    """openclaw compile of 1,000 hosts in-process, the bare Jinja render of the same templates
    for the same hosts (every template rendered for every host) as the floor, and the CLI's
    `compile -o` of the same hosts with writing (wall time, Python's start included), as a
    tree per host and as content stored by hash (--objects)."""
    from openclaw.compile import compile_fleet, hostplan, render
    from openclaw.inventory import Host, Inventory
    from openclaw.project import load
    p = load(str(REPO / "openclaw.yaml"), str(REPO / "inventory/production.yaml"))
    regions = [r.name for r in p.config.deployment.regions]
    hosts = tuple(Host(f"h{i}", regions[i % len(regions)], f"h{i}", 22, None, None, None,
                       "accept-new", False, "/") for i in range(1000))
    inv = Inventory("bench", hosts)
    # The floor: every template compile renders for a host, rendered again for every host
    # with the same context (what compile would cost without rendering shared files once).
    calls: list[tuple[str, dict[str, Any]]] = []
    real = hostplan.render

    def spy(template: str, for_host: str, **ctx: Any) -> str:
        calls.append((template, ctx))
        return real(template, for_host, **ctx)
    hostplan.render = spy
    try:
        hostplan.compile_host(p.config, hosts[0])
    finally:
        hostplan.render = real
    env = render.environment()
    jobs = [(env.get_template(t), ctx) for t, ctx in calls]

    def bare() -> None:
        for h in hosts:
            for t, ctx in jobs:
                t.render(**{**ctx, "host": h.name, "region": h.region})

    def measure(fn: Callable[[], Any]) -> float:
        fn()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    inv_file = work / "inventory-1000.yaml"
    lines = ["regions:"]
    for region in regions:
        lines.append(f"  {region}:\n    hosts:")
        lines += [f"      {h.name}: {{ssh_host: 10.9.{i // 250}.{i % 250 + 1}}}"
                  for i, h in enumerate(hosts) if h.region == region]
    inv_file.write_text("\n".join(lines) + "\n")

    def cli(*extra: str) -> float:
        # Into a new directory each time, as a CI job does (replacing an earlier output
        # removes it first: as many unlinks again).
        return statistics.median(timed([str(BIN / "openclaw"), "compile", "-c",
                                         str(REPO / "openclaw.yaml"), "-i", str(inv_file),
                                         "-o", str(work / f"compiled{extra}-{i}"), *extra],
                                        {})[0]
                                 for i in range(runs))
    return {"compile": measure(lambda: compile_fleet(p.config, inv)), "bare": measure(bare),
            "cli objects": cli("--objects"), "cli tree": cli()}


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if not (a and b) else f"{b / a:.1f}x"


def ansible_estimate(results: dict[str, Any], size: str, job: str) -> float | None:
    """Ansible where it was not run: its per-host cost at the largest size it was measured
    at, times the hosts (it grows about linearly: forks = hosts on two cores)."""
    measured = [(int(n), j[job]["ansible"]) for n, j in results["timings"].items()
                if n.isdigit() and "ansible" in j.get(job, {})]
    if not size.isdigit() or not measured:
        return None
    n, t = max(measured)
    return t / n * int(size) if int(size) > n else None


def _size_order(item: tuple[str, Any]) -> tuple[int, int]:
    """Light sizes by number, then the systemd hosts."""
    size = item[0]
    return (0, int(size)) if size.isdigit() else (1, 0)


def table(results: dict[str, Any]) -> str:
    lines = [f"Machine: {results['machine']}. Medians of {results['runs']} run(s) below 100 "
             "hosts, 1 run at 100 and more; seconds. openclaw CPU: the openclaw process's own "
             "user + system time, without the hosts' share of the machine. `~`: estimated, "
             "not run (from Ansible's per-host cost at the largest size it ran at).", "",
             "| hosts | job | openclaw | plain pyinfra | Ansible | openclaw vs pyinfra |"
             " openclaw vs Ansible | openclaw peak memory | openclaw CPU |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for size, jobs in sorted(results["timings"].items(), key=_size_order):
        for job in JOBS:
            t = jobs.get(job, {})
            o, p, a = (t.get(x) for x in TOOLS)
            est = ansible_estimate(results, size, job) if a is None else None
            a_text = f"~{est:.0f}" if est else _fmt(a)
            mem = results.get("memory", {}).get(size, {}).get(job, {}).get("openclaw")
            cpu = results.get("cpu", {}).get(size, {}).get(job, {}).get("openclaw")
            lines.append(f"| {size} | {job} | {_fmt(o)} | {_fmt(p)} | {a_text} | "
                         f"{_ratio(o, p)} | {_ratio(o, a or est)}{' (est.)' if est else ''} |"
                         f" {'-' if mem is None else f'{mem:.0f} MiB'} |"
                         f" {'-' if cpu is None else f'{cpu:.2f} s'} |")
    lines += ["", "SSH sessions (commands and SFTP transfers) openclaw opens per host, counted "
              "by each host's sshd:", "", "| job | sessions per host |", "| --- | ---: |"]
    for job in JOBS:
        lines.append(f"| {job} | {results['sessions'].get(job, '-')} |")
    b = results.get("bootstrap")
    if b:
        lines += ["", f"`openclaw bootstrap` of a {b['hosts']}-host region from bare systemd "
                  "hosts (nspawn; the real OpenClaw bundle, Node and OpenClaw, and the LiteLLM "
                  f"wheels uploaded to each, every unit started, gates passed): {b['fresh']:.1f} "
                  f"s; the same bootstrap again, in sync: {b['in sync']:.1f} s."]
    c = results["compile"]
    lines += ["", f"Compile of 1,000 hosts in-process: {c['compile']:.3f} s; bare Jinja render "
              f"of the same templates for the same hosts: {c['bare']:.3f} s "
              f"({c['compile'] / c['bare']:.2f}x the floor). `openclaw compile -o` of the "
              f"same 1,000 hosts, the command's wall time with writing: "
              f"{c['cli objects']:.2f} s with `--objects` (each distinct content once, by "
              f"hash), {c['cli tree']:.2f} s as a tree per host."]
    return "\n".join(lines) + "\n"


def verdicts(results: dict[str, Any]) -> str:
    """#20's targets against this run's figures."""
    t = results["timings"]

    def get(size: str, job: str, tool: str = "openclaw") -> float | None:
        v = t.get(size, {}).get(job, {}).get(tool)
        return None if v is None else float(v)

    def mem(size: str, job: str) -> float | None:
        v = results.get("memory", {}).get(size, {}).get(job, {}).get("openclaw")
        return None if v is None else float(v)

    def mark(ok: bool) -> str:
        return "**met**" if ok else "**not met**"
    rows = []
    plan1000, plan100 = get("1000", "plan in sync"), get("100", "plan in sync")
    if plan1000 is not None:
        rows.append(("no-op plan of 1,000 hosts in at most 15 s",
                     f"{mark(plan1000 <= 15)}: {plan1000:.2f} s"))
        if plan100 is not None:
            per = (plan1000 - plan100) / 900 * 1000
            rows.append(("at most 12 ms per added host (100 to 1,000)",
                         f"{mark(per <= 12)}: {per:.1f} ms"))
    c100, c1000 = (results.get("cpu", {}).get(n, {}).get("plan in sync", {}).get("openclaw")
                   for n in ("100", "1000"))
    if c100 is not None and c1000 is not None:
        per = (c1000 - c100) / 900 * 1000
        rows.append(("the controller's own cost: at most 12 ms of CPU per added host "
                     "(100 to 1,000; the light hosts' sshd and probe excluded)",
                     f"{mark(per <= 12)}: {per:.1f} ms ({c100:.1f} s and {c1000:.1f} s of "
                     "CPU at 100 and 1,000 hosts)"))
    m = {n: mem(n, "plan in sync") for n in ("20", "100", "1000")}
    if all(v is not None for v in m.values()):
        a, b, c = (m[n] or 0.0 for n in ("20", "100", "1000"))
        rows.append(("controller memory reported and linear",
                     f"no-op plan: {a:.0f} / {b:.0f} / {c:.0f} MiB at 20 / 100 / 1,000 hosts:"
                     f" {(b - a) / 80:.2f} MiB per host from 20 to 100, "
                     f"{(c - b) / 900:.2f} from 100 to 1,000"))
    ses = results["sessions"]
    if ses:
        rows.append(("an apply that changes nothing: 1 SSH session per host",
                     f"{mark(ses.get('apply in sync') == 1)}: {ses.get('apply in sync')}"))
        rows.append(("a fresh apply: at most 3 SSH sessions per host",
                     f"{mark((ses.get('apply fresh') or 99) <= 3)}: {ses.get('apply fresh')}"))
    sysd = next((n for n in t if "systemd" in n), None)
    if sysd:
        o, p = get(sysd, "apply fresh"), get(sysd, "apply fresh", "pyinfra")
        if o is not None and p is not None:
            wait = results.get("gate wait")
            rows.append(("fresh apply of 5 systemd hosts within 1.5x of plain pyinfra, gates "
                         "on", f"{mark(o <= 1.5 * p)}: {o:.2f} s vs {p:.2f} s "
                               f"({o / p:.2f}x the time)" + (
                                   "" if wait is None else
                                   f"; of it, the slowest host's health gate waited "
                                   f"{wait:.0f} s for its gateway to start")))
    b = results.get("bootstrap")
    if b:
        rows.append((f"bootstrap time for a {b['hosts']}-host region reported",
                     f"reported: {b['fresh']:.1f} s from bare hosts, {b['in sync']:.1f} s "
                     "in sync"))
    c = results["compile"]
    rows.append(("`compile -o` of 1,000 hosts under 1 s with writing",
                 f"{mark(c['cli objects'] < 1)} with `--objects`: {c['cli objects']:.2f} s; "
                 f"as a tree per host {c['cli tree']:.2f} s"))
    return "\n".join(["| target (#20) | result |", "| --- | --- |",
                      *(f"| {a} | {b} |" for a, b in rows)]) + "\n"


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    sizes = sorted((s for s in results["timings"] if s.isdigit()), key=int)
    for ax, job in zip(axes, JOBS, strict=True):
        for tool, label in zip(TOOLS, ("openclaw", "plain pyinfra", "Ansible"), strict=True):
            xs = [int(s) for s in sizes if results["timings"][s].get(job, {}).get(tool)]
            ys = [results["timings"][str(s)][job][tool] for s in xs]
            if xs:
                ax.plot(xs, ys, marker="o", label=label)
        ax.set_title(job)
        ax.set_xlabel("hosts")
        ax.set_ylabel("seconds")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    axes[0].legend()
    fig.suptitle(f"openclaw vs plain pyinfra vs Ansible ({results['machine']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="20,100,1000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-runs", type=int, default=1,
                    help="runs at 100 hosts and more (minutes per run)")
    ap.add_argument("--ansible-runs", type=int, default=None,
                    help="runs for Ansible (slow at 100 hosts); default --runs")
    ap.add_argument("--ansible-sizes", default="20",
                    help="fleet sizes Ansible runs at (it needs minutes per job at 100 hosts "
                         "on two cores); larger sizes are estimated from its per-host cost")
    ap.add_argument("--pyinfra-sizes", default="20,100",
                    help="fleet sizes plain pyinfra runs at")
    ap.add_argument("--nspawn", type=int, default=5, help="0 to skip the systemd hosts")
    ap.add_argument("--bootstrap", type=int, default=3,
                    help="hosts of the region bootstrapped from bare systemd hosts; 0 to skip")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--keep", action="store_true",
                    help="start from bench/results.json: sizes not run again keep their "
                         "figures (an interrupted run, or one size again)")
    ap.add_argument("--readme", action="store_true",
                    help="also write the tables into README.md, between its bench markers")
    args = ap.parse_args()
    tools = args.tools.split(",")
    only = {"ansible": args.ansible_sizes.split(","), "pyinfra": args.pyinfra_sizes.split(",")}
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, "
               f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB, "
               f"Python {platform.python_version()}")
    results: dict[str, Any] = {"machine": machine, "runs": args.runs, "timings": {},
                               "memory": {}, "cpu": {}, "sessions": {}}
    saved = REPO / "bench" / "results.json"
    if args.keep and saved.exists():
        results = {**results, **{k: v for k, v in json.loads(saved.read_text()).items()
                                 if k in ("timings", "memory", "cpu", "sessions",
                                          "bootstrap", "gate wait")}}
    with tempfile.TemporaryDirectory(prefix="openclaw-bench-") as tmp:
        key = make_key(Path(tmp))
        for size in [int(s) for s in args.sizes.split(",") if s]:
            # with --keep, a tool not run again at this size keeps its figures
            old = [results[k].get(str(size), {}) for k in ("timings", "memory", "cpu")]
            jobs, memory, cpu = ({j: dict(o.get(j, {})) for j in JOBS} for o in old)
            for tool in tools:
                if tool in only and str(size) not in only[tool]:
                    continue
                runs = args.big_runs if size >= 100 else (
                    args.ansible_runs if tool == "ansible" and args.ansible_runs else args.runs)
                samples: dict[str, list[Sample]] = {j: [] for j in JOBS}
                for r in range(runs):
                    work = Path(tmp) / f"{size}-{tool}-{r}"
                    work.mkdir()
                    counts: dict[str, list[int]] | None = ({} if tool == "openclaw" and r == 0
                                                           else None)
                    got = light_round(size, tool, work, key, counts)
                    if counts:
                        results["sessions"] = {j: max(v) for j, v in counts.items()}
                    for j, v in got.items():
                        samples[j].append(v)
                    shutil.rmtree(work, ignore_errors=True)
                    print(f"{size} hosts, {tool}, run {r + 1}: "
                          + ", ".join(f"{j} {v[0]:.2f}s {v[1]:.0f}MiB {v[2]:.1f}s CPU"
                                      for j, v in got.items()), flush=True)
                for j in JOBS:
                    jobs[j][tool] = statistics.median(x[0] for x in samples[j])
                    memory[j][tool] = statistics.median(x[1] for x in samples[j])
                    cpu[j][tool] = statistics.median(x[2] for x in samples[j])
                results["timings"][str(size)] = jobs
                results["memory"][str(size)] = memory
                results["cpu"][str(size)] = cpu
                save(results, final=False)
        if args.nspawn:
            # with --keep, a tool not run again keeps its figures
            kept = results["timings"].get(f"{args.nspawn} (systemd)", {})
            jobs = {j: dict(kept.get(j, {})) for j in JOBS}
            for tool in tools:
                work = Path(tmp) / f"nspawn-{tool}"
                work.mkdir()
                got = nspawn_round(tool, work, key)
                print(f"{args.nspawn} systemd hosts, {tool}: "
                      + ", ".join(f"{j} {v[0]:.2f}s" for j, v in got.items()), flush=True)
                for j, v in got.items():
                    jobs[j][tool] = v[0]
                if tool == "openclaw":
                    results["gate wait"] = gate_wait(work)
                results["timings"][f"{args.nspawn} (systemd)"] = jobs
                save(results, final=False)
        if args.bootstrap:
            work = Path(tmp) / "bootstrap"
            work.mkdir()
            results["bootstrap"] = {"hosts": args.bootstrap,
                                    **bootstrap_round(work, key, args.bootstrap)}
            print(f"bootstrap of {args.bootstrap} hosts: {results['bootstrap']}", flush=True)
            save(results, final=False)
        work = Path(tmp) / "compile"
        work.mkdir()
        results["compile"] = compile_bench(work)
    save(results, final=True, readme=args.readme)
    print(table(results) + "\n" + verdicts(results))


def save(results: dict[str, Any], final: bool, readme: bool = False) -> None:
    """After every measurement, so an interrupted run keeps what it measured."""
    out = REPO / "bench"
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    if not final:
        return
    text = table(results) + "\n" + verdicts(results)
    (out / "results.md").write_text(text)
    chart(results, out / "results.png")
    if readme:
        write_readme(REPO / "README.md", text)


START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def write_readme(path: Path, text: str) -> None:
    """The tables between the README's markers; the prose around them is the team's."""
    doc = path.read_text()
    if START not in doc or END not in doc:
        raise SystemExit(f"{path}: no {START} ... {END} markers to write the results between")
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    day = time.strftime("%Y-%m-%d")
    path.write_text(f"{head}{START}\nLatest run ({day}):\n\n{text}{END}{tail}")


if __name__ == "__main__":
    main()
