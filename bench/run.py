"""openclaw vs plain pyinfra vs Ansible on the same freshly started hosts and the same content
(the artifacts openclaw compiles for the repo's openclaw.yaml). `make bench` runs it as root.

For each fleet size, each tool, each run: fresh light hosts (one sshd per 127.0.1.N in its
own mount namespace), then `apply` on fresh hosts, a no-op `plan` (pyinfra --dry, Ansible
--check --diff), and `apply` on the fleet in sync. Medians of --runs. Optionally 5 systemd
hosts (nspawn). Then compile of 1,000 hosts in-process against the bare Jinja render.
Writes bench/results.md, bench/results.json and bench/results.png.
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
SECRETS = {"MINIMAX_API_KEY": "bench-minimax-key", "OPENROUTER_API_KEY": "bench-or-key",
           "TELEGRAM_BOT_TOKEN": "1:bench-telegram", "TELEGRAM_CHAT_ID": "bench-chat",
           "LITELLM_MASTER_KEY": "sk-bench-litellm",
           "DATABASE_URL": "postgresql://canary:pw-canary-db@127.0.0.1/q",
           "QUEUE_REDIS_URL": "redis://:canary-redis-pw@127.0.0.1:6379/0"}
JOBS = ("plan in sync", "apply fresh", "apply in sync")
TOOLS = ("openclaw", "pyinfra", "ansible")


def timed(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    """Run a tool in its own process group, killed whole however the run ends (Ansible's
    forks outlive an interrupted parent otherwise)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **SECRETS, **env}, cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=3600)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    took = time.perf_counter() - start
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd[:3])} exited {proc.returncode}:\n"
                           f"{out[-2000:]}\n{err[-2000:]}")
    return took


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
                "systemd": self.systemd}
        path = self.work / "ansible-inventory.yml"
        path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
        return path

    systemd = False

    def run(self, tool: str, job: str) -> float:
        n = str(len(self.manifest["hosts"]))
        if tool == "openclaw":
            verb = ["plan"] if job == "plan in sync" else ["apply", "--yes"]
            return timed([str(BIN / "openclaw"), *verb, "-c", str(self.config), "-i",
                          str(self.inv)], {}, ok=(0,))
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
                     {"ANSIBLE_CONFIG": str(REPO / "bench/ansible.cfg")})


def light_round(n: int, tool: str, work: Path, key: Path,
                sessions: dict[str, list[int]] | None) -> dict[str, float]:
    """Fresh hosts, then the three jobs in the order an operator meets them."""
    with light_hosts(n, work / "hosts", key, first=60) as hosts:
        inv = inventory(hosts, key, work / "inventory.yaml")
        fleet = Fleet(work, REPO / "openclaw.yaml", inv, key)
        out: dict[str, float] = {}
        for job in ("apply fresh", "plan in sync", "apply in sync"):
            before = [h.sessions() for h in hosts]
            out[job] = fleet.run(tool, job)
            if sessions is not None:
                sessions[job] = [h.sessions() - b for h, b in zip(hosts, before, strict=True)]
        return out


def nspawn_round(tool: str, work: Path, key: Path) -> dict[str, float]:
    from tests.integration.conftest import binds
    config = work / "openclaw.yaml"
    # The repo's config, with the real OpenClaw bind-mounted (install: none; the tests' bundle,
    # `make openclaw-bundle`) and a worker the containers can run.
    config.write_text((REPO / "openclaw.yaml").read_text()
                      .replace("    install: bundle\n",
                               "    install: none\n"
                               "    command: /opt/openclaw-runtime/bin/openclaw\n")
                      .replace("command: /opt/openclaw/scripts/mission-worker.sh %i",
                               "command: /bin/sleep infinity")
                      .replace("  dashboard:\n    enabled: true",
                               "  dashboard:\n    enabled: false"))
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


def compile_bench(runs: int = 5) -> dict[str, float]:
    """openclaw compile of 1,000 hosts in-process, and the bare Jinja render of the same
    templates for the same hosts (every template rendered for every host) as the floor."""
    from openclaw.compile import compile_fleet, render
    from openclaw.compile.hostplan import Paths
    from openclaw.inventory import Host, Inventory
    from openclaw.project import load
    p = load(str(REPO / "openclaw.yaml"), str(REPO / "inventory/production.yaml"))
    regions = [r.name for r in p.config.deployment.regions]
    hosts = tuple(Host(f"h{i}", regions[i % len(regions)], f"h{i}", 22, None, None, None,
                       "accept-new", False, "/") for i in range(1000))
    inv = Inventory("bench", hosts)
    env = render.environment()
    names = [n for n in env.list_templates() if n.endswith(".j2") and not n.startswith("_")]
    templates = [env.get_template(n) for n in names]
    check = {"name": "x", "script": "/x", "description": "x", "interval": 60.0,
             "boot_delay": 60.0, "timeout": 60.0}

    def bare() -> None:
        for h in hosts:
            ctx = {"cfg": p.config, "svc": p.config.service, "paths": Paths("/opt/openclaw"),
                   "host": h.name, "region": h.region, "hardening": (), "units": (),
                   "check": check, "script": "x"}
            for t in templates:
                t.render(**ctx)

    def measure(fn: Callable[[], Any]) -> float:
        fn()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    return {"compile": measure(lambda: compile_fleet(p.config, inv)), "bare": measure(bare)}


def table(results: dict[str, Any]) -> str:
    lines = [f"Machine: {results['machine']}. Medians of {results['runs']} run(s); seconds.",
             "", "| hosts | job | openclaw | plain pyinfra | Ansible | openclaw vs pyinfra |"
             " openclaw vs Ansible |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for size, jobs in results["timings"].items():
        for job in JOBS:
            t = jobs.get(job, {})
            o, p, a = (t.get(x) for x in TOOLS)

            def fmt(v: float | None) -> str:
                return "-" if v is None else f"{v:.2f}"

            def ratio(a_: float | None, b_: float | None) -> str:
                return "-" if not (a_ and b_) else f"{b_ / a_:.1f}x"
            lines.append(f"| {size} | {job} | {fmt(o)} | {fmt(p)} | {fmt(a)} | {ratio(o, p)} |"
                         f" {ratio(o, a)} |")
    lines += ["", "SSH sessions (commands and SFTP transfers) openclaw opens per host, counted "
              "by each host's sshd:", "", "| job | sessions per host |", "| --- | ---: |"]
    for job in JOBS:
        lines.append(f"| {job} | {results['sessions'].get(job, '-')} |")
    c = results["compile"]
    lines += ["", f"Compile of 1,000 hosts in-process: {c['compile']:.3f} s; bare Jinja render "
              f"of the same templates for the same hosts: {c['bare']:.3f} s "
              f"({c['compile'] / c['bare']:.2f}x the floor)."]
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    sizes = [s for s in results["timings"] if s.isdigit()]
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
    ap.add_argument("--sizes", default="20,100")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ansible-runs", type=int, default=None,
                    help="runs for Ansible (slow at 100 hosts); default --runs")
    ap.add_argument("--ansible-sizes", default=None,
                    help="fleet sizes Ansible runs at (it needs minutes per job at 100 "
                         "hosts); default: all of --sizes")
    ap.add_argument("--nspawn", type=int, default=5, help="0 to skip the systemd hosts")
    ap.add_argument("--tools", default=",".join(TOOLS))
    args = ap.parse_args()
    tools = args.tools.split(",")
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, "
               f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB, "
               f"Python {platform.python_version()}")
    results: dict[str, Any] = {"machine": machine, "runs": args.runs, "timings": {},
                               "sessions": {}}
    with tempfile.TemporaryDirectory(prefix="openclaw-bench-") as tmp:
        key = make_key(Path(tmp))
        for size in [int(s) for s in args.sizes.split(",")]:
            jobs: dict[str, dict[str, float]] = {j: {} for j in JOBS}
            for tool in tools:
                if tool == "ansible" and args.ansible_sizes and \
                        str(size) not in args.ansible_sizes.split(","):
                    continue
                runs = args.ansible_runs if tool == "ansible" and args.ansible_runs else args.runs
                samples: dict[str, list[float]] = {j: [] for j in JOBS}
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
                          + ", ".join(f"{j} {v:.2f}s" for j, v in got.items()), flush=True)
                for j in JOBS:
                    jobs[j][tool] = statistics.median(samples[j])
                results["timings"][str(size)] = jobs
                save(results, final=False)
        if args.nspawn:
            jobs = {j: {} for j in JOBS}
            for tool in tools:
                work = Path(tmp) / f"nspawn-{tool}"
                work.mkdir()
                got = nspawn_round(tool, work, key)
                print(f"{args.nspawn} systemd hosts, {tool}: "
                      + ", ".join(f"{j} {v:.2f}s" for j, v in got.items()), flush=True)
                for j, v in got.items():
                    jobs[j][tool] = v
                results["timings"][f"{args.nspawn} (systemd)"] = jobs
                save(results, final=False)
    results["compile"] = compile_bench()
    save(results, final=True)
    print(table(results))


def save(results: dict[str, Any], final: bool) -> None:
    """After every measurement, so an interrupted run keeps what it measured."""
    out = REPO / "bench"
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    if final:
        (out / "results.md").write_text(table(results))
        chart(results, out / "results.png")


if __name__ == "__main__":
    main()
