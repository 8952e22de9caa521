"""plan/apply end to end on @local sandbox hosts: the demo path, without servers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parent.parent
OPENCLAW = str(Path(sys.executable).parent / "openclaw")
SECRETS = {"GATEWAY_AUTH_TOKEN": "local-canary-gw-Tq8",
           "MINIMAX_API_KEY": "local-canary-minimax-Qw3", "OPENROUTER_API_KEY": "local-or-9Xk",
           "TELEGRAM_BOT_TOKEN": "123:local-canary-tg", "TELEGRAM_CHAT_ID": "chat-canary-1",
           "LITELLM_MASTER_KEY": "sk-local-canary-litellm",
           "DATABASE_URL": "postgresql://canary:pw-canary-db@127.0.0.1/q",
           "QUEUE_REDIS_URL": "redis://:canary-redis-pw@127.0.0.1:6379/0"}


def setup(tmp_path: Path) -> Path:
    shutil.copy(REPO / "openclaw.yaml", tmp_path / "openclaw.yaml")
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory/local.yaml").write_text(
        (REPO / "inventory/local.yaml").read_text().replace("../.demo/hosts", "../hosts"))
    return tmp_path


def run(cwd: Path, *args: str, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run([OPENCLAW, *args], cwd=cwd, capture_output=True, text=True,
                          env={**base, **(env if env is not None else SECRETS)},
                          stdin=subprocess.DEVNULL, timeout=120)


def test_missing_secret_stops_before_any_host_is_touched(tmp_path: Path) -> None:
    cwd = setup(tmp_path)
    r = run(cwd, "apply", "--yes", env={k: v for k, v in SECRETS.items()
                                         if k != "OPENROUTER_API_KEY"})
    assert r.returncode == 1
    assert "OPENROUTER_API_KEY: environment variable OPENROUTER_API_KEY is not set" in r.stderr
    assert not (tmp_path / "hosts").exists()


def test_apply_without_terminal_or_yes_is_refused(tmp_path: Path) -> None:
    r = run(setup(tmp_path), "apply")
    assert r.returncode == 1 and "needs a terminal to confirm, or --yes" in r.stderr
    assert not (tmp_path / "hosts").exists()


def test_local_plan_apply_plan_converges(tmp_path: Path) -> None:
    cwd = setup(tmp_path)
    r = run(cwd, "plan")
    assert r.returncode == 2 and "note: no running systemd: unit steps skipped" in r.stdout
    r = run(cwd, "apply", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "apply: 2 changed, 0 unchanged, 0 failed" in r.stdout
    env = tmp_path / "hosts/demo-us-east-1/opt/openclaw/config/llm-gateway.env"
    assert oct(env.stat().st_mode & 0o777) == "0o600"
    assert "MINIMAX_API_KEY=local-canary-minimax-Qw3" in env.read_text()
    r = run(cwd, "plan")
    assert r.returncode == 0 and "0 with changes" in r.stdout
    r = run(cwd, "apply", "--yes")
    assert r.returncode == 0 and "apply: 0 changed, 2 unchanged, 0 failed" in r.stdout
    for out in (r.stdout + r.stderr,):
        assert not any(v in out for v in SECRETS.values())


def test_markdown_plan_is_a_pr_comment(tmp_path: Path) -> None:
    cwd = setup(tmp_path)
    r = run(cwd, "plan", "--format", "markdown")
    assert r.returncode == 2
    assert r.stdout.startswith("### openclaw plan: 2 host(s), 2 with changes")
    assert "| us-east | demo-us-east-1 | 47 | 0 | 0 | 0 | 0 | changes |" in r.stdout
    assert r.stdout.count("<details>") == 2 and "```diff" in r.stdout
    assert "openclaw:" not in r.stdout  # progress goes to stderr only in text mode


def test_openclaws_own_config_is_merged_not_replaced(tmp_path: Path) -> None:
    import json
    cwd = setup(tmp_path)
    conf = tmp_path / "hosts/demo-us-east-1/opt/openclaw/state/openclaw/openclaw.json"
    conf.parent.mkdir(parents=True)
    conf.write_text('// OpenClaw wrote this\n{channels: {telegram: {botToken: "1:own-canary"}},'
                    ' agents: {defaults: {workspace: "~/ws"}},}\n')
    r = run(cwd, "plan")
    assert r.returncode == 2
    assert "openclaw.json (openclaw's keys)" in r.stdout
    assert '+        "primary": "llm-gateway/minimax"' in r.stdout
    assert "own-canary" not in r.stdout
    assert run(cwd, "apply", "--yes").returncode == 0
    doc = json.loads(conf.read_text())
    assert doc["channels"] == {"telegram": {"botToken": "1:own-canary"}}
    assert doc["agents"]["defaults"]["workspace"] == "~/ws"
    assert doc["models"]["providers"]["llm-gateway"]["baseUrl"] == "http://127.0.0.1:4000/v1"
    # OpenClaw adds keys of its own later: openclaw's plan stays in sync.
    doc["meta"] = {"lastTouchedAt": "2026-11-26"}
    conf.write_text(json.dumps(doc))
    r = run(cwd, "plan")
    assert r.returncode == 0, r.stdout


def test_status_reads_each_hosts_reports(tmp_path: Path) -> None:
    import json
    import time
    cwd = setup(tmp_path)
    assert run(cwd, "apply", "--yes").returncode == 0
    root = tmp_path / "hosts/demo-us-east-1/opt/openclaw"
    (root / "logs/health-check.json").write_text(json.dumps({
        "timestamp": int(time.time()) - 30, "healthy": True, "mode": "FULL", "error_rate": 0,
        "checks": [], "breakers": {"minimax": {"state": "CLOSED"}}}))
    (root / "state/budgets.state").write_text("daily_limit minimax 1000 100000 0.01\n")
    page = tmp_path / "status.html"
    r = run(cwd, "status", "--format", "json", "--html", str(page))
    assert r.returncode == 2  # demo-eu-west-1 has no report yet
    doc = json.loads(r.stdout)
    assert [(h["host"], h["state"]) for h in doc["hosts"]] == [
        ("demo-us-east-1", "ok"), ("demo-eu-west-1", "no report")]
    assert "minimax in us-east: 1%" in page.read_text()


REWRITE_DURING_APPLY = """
import json, sys
from openclaw import live
from openclaw.project import load

conf = sys.argv[1]

def confirm(changes):
    # OpenClaw writes its file after the plan read it, before the apply: a key of its own.
    doc = json.loads(open(conf).read())
    doc["meta"] = {"lastTouchedVersion": "2026.9.6"}
    open(conf, "w").write(json.dumps(doc))
    return True

run = live.apply(load("openclaw.yaml", "inventory/local.yaml"), "openclaw.yaml",
                 lambda m: print(m, file=sys.stderr), lambda c: None, confirm)
print(json.dumps([[r.host, r.status, r.error] for r in run.results]))
"""


def test_a_rewrite_between_plan_and_apply_is_merged_again(tmp_path: Path) -> None:
    import json
    cwd = setup(tmp_path)
    assert run(cwd, "apply", "--yes").returncode == 0
    conf = tmp_path / "hosts/demo-us-east-1/opt/openclaw/state/openclaw/openclaw.json"
    yaml = cwd / "openclaw.yaml"
    yaml.write_text(yaml.read_text().replace("port: 18789", "port: 18790", 1))
    base = {k: v for k, v in os.environ.items() if k not in SECRETS}
    r = subprocess.run([sys.executable, "-c", REWRITE_DURING_APPLY, str(conf)], cwd=cwd,
                       capture_output=True, text=True, env={**base, **SECRETS}, timeout=120)
    assert r.returncode == 0, r.stderr
    results = dict((h, (s, e)) for h, s, e in json.loads(r.stdout.splitlines()[-1]))
    assert results["demo-us-east-1"] == ("changed", ""), r.stderr
    assert "openclaw.json changed since plan; merging again" in r.stderr
    doc = json.loads(conf.read_text())
    assert doc["meta"] == {"lastTouchedVersion": "2026.9.6"}  # what OpenClaw wrote is kept
    assert doc["gateway"]["port"] == 18790  # and the approved change is in
    assert run(cwd, "plan").returncode == 0


def test_a_secret_that_is_not_utf8_or_holds_control_characters_stops_the_run(
        tmp_path: Path) -> None:
    cwd = setup(tmp_path)
    base = {k.encode(): v.encode() for k, v in os.environ.items() if k not in SECRETS}
    for bad, says in ((b"canary-\xff\xfe-value",
                       "MINIMAX_API_KEY: the value from env:MINIMAX_API_KEY is not UTF-8 text"),
                      (b"canary-\x1b[2J-value", "holds a control character")):
        env = {**base, **{k.encode(): v.encode() for k, v in SECRETS.items()},
               b"MINIMAX_API_KEY": bad}
        r = subprocess.run([OPENCLAW, "apply", "--yes"], cwd=cwd, capture_output=True,
                           env=env, stdin=subprocess.DEVNULL, timeout=120)
        err = r.stderr.decode(errors="replace")
        assert r.returncode == 1 and says in err and "no host was touched" in err, err
        assert b"canary-" not in r.stdout + r.stderr and "Traceback" not in err
        assert not (tmp_path / "hosts").exists()


def test_a_decommissioned_region_leaves_its_peers_failover_json(tmp_path: Path) -> None:
    """Every host of eu-west leaves: its managed files go, OpenClaw's state stays, and
    us-east's failover.json stops naming eu-west (asia-pacific, without hosts, stays)."""
    import json
    cwd = setup(tmp_path)
    assert run(cwd, "apply", "--yes").returncode == 0
    east = tmp_path / "hosts/demo-us-east-1/opt/openclaw"
    west = tmp_path / "hosts/demo-eu-west-1/opt/openclaw"
    (west / "state/openclaw").mkdir(parents=True, exist_ok=True)
    (west / "state/openclaw/sessions.json").write_text("{}")
    before = {p: p.read_bytes() for p in (east / "config").iterdir() if p.is_file()}
    assert "eu-west" in (east / "config/failover.json").read_text()

    r = run(cwd, "decommission", "--region", "eu-west", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "eu-west left: failover.json only" in r.stdout
    assert not any(v in r.stdout + r.stderr for v in SECRETS.values())
    peers = json.loads((east / "config/failover.json").read_text())["failover_regions"]
    assert peers == [{"name": "asia-pacific", "priority": 1, "weight": 0.1}]
    after = {p: p.read_bytes() for p in (east / "config").iterdir() if p.is_file()}
    assert {p for p in after if after[p] != before.get(p)} == {east / "config/failover.json"}
    assert not (west / "config").exists() and not (west / "scripts").exists()
    assert (west / "state/openclaw/sessions.json").read_text() == "{}"
    gens = tmp_path / "hosts/demo-us-east-1/var/lib/openclaw/generations"
    current = int((gens / "current").read_text())
    assert (gens / str(current) / "kind").read_text() == "decommission of eu-west\n"
    # The peer's record still names everything it manages: a later apply removes nothing.
    records = [{x for x in (gens / str(g) / "managed").read_text().splitlines()
                if "/failover.json\t" not in x} for g in (current - 1, current)]
    assert records[0] == records[1] and any(x.startswith("D\t") for x in records[1])
    r = run(cwd, "decommission", "--region", "eu-west", "--yes")
    assert r.returncode == 0 and "0 with changes" in r.stdout, r.stdout
