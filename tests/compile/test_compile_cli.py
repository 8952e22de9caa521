"""`openclaw compile` as an operator runs it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parent.parent.parent
OPENCLAW = str(Path(sys.executable).parent / "openclaw")


def compile_to(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENCLAW, "compile", "-i", "inventory/production.yaml", "-o",
                           str(out), *extra], cwd=REPO, capture_output=True, text=True)


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        h.update(oct(p.stat().st_mode).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def test_compile_twice_identical_with_manifest(tmp_path: Path) -> None:
    r = compile_to(tmp_path / "a")
    assert r.returncode == 0 and "compiled 6 host(s), 322 files" in r.stderr
    assert compile_to(tmp_path / "b").returncode == 0
    assert compile_to(tmp_path / "a").returncode == 0  # replaces its own earlier tree
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    manifest = json.loads((tmp_path / "a/manifest.json").read_text())
    host = manifest["hosts"][0]
    assert (host["host"], host["region"]) == ("agent-use1-01.example.com", "us-east")
    # One environment file per consumer, each root's (systemd reads it before it drops
    # privileges) and holding only the keys its units use: no provider key outside the LLM
    # gateway's.
    config = tmp_path / "a/us-east/agent-use1-01.example.com/opt/openclaw/config"
    expected = {
        "llm-gateway": ["LITELLM_MASTER_KEY", "MINIMAX_API_KEY", "OPENROUTER_API_KEY"],
        "gateway": ["GATEWAY_AUTH_TOKEN", "LITELLM_MASTER_KEY"],
        "checks": ["GATEWAY_AUTH_TOKEN", "LITELLM_MASTER_KEY", "TELEGRAM_BOT_TOKEN",
                   "TELEGRAM_CHAT_ID"],
        "workers": ["DATABASE_URL", "GATEWAY_AUTH_TOKEN", "QUEUE_REDIS_URL"],
        "autoscale": ["DATABASE_URL", "QUEUE_REDIS_URL"]}
    for name, keys in expected.items():
        entry = next(f for f in host["files"]
                     if f["path"] == f"/opt/openclaw/config/{name}.env")
        assert (entry["mode"], entry["owner"], entry["sensitive"]) == ("0600", "root", True)
        content = (config / f"{name}.env").read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
        assert sorted(x.split("=")[0] for x in content.decode().splitlines()
                      if not x.startswith("#")) == keys, name
    assert not (config / ".env").exists()
    assert [u["name"] for u in host["units"]] == [
        "openclaw-redis.service", "openclaw-redis-state.service",
        "openclaw-llm-gateway.service", "openclaw-gateway.service",
        "openclaw-worker@1.service", "openclaw-worker@2.service",
        "openclaw-health-check.timer", "openclaw-budget-check.timer", "openclaw-backup.timer",
        "openclaw-replicate.timer", "openclaw-autoscale.timer", "systemd-journald.service",
        "openclaw-dashboard.service", "openclaw-mode.path"]


def test_region_and_limit_select_hosts(tmp_path: Path) -> None:
    assert compile_to(tmp_path / "r", "--region", "eu-west").returncode == 0
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["eu-west", "manifest.json"]
    assert compile_to(tmp_path / "l", "--limit", "agent-euw1-02.example.com").returncode == 0
    hosts = json.loads((tmp_path / "l/manifest.json").read_text())["hosts"]
    assert [h["host"] for h in hosts] == ["agent-euw1-02.example.com"]
    r = compile_to(tmp_path / "x", "--region", "mars")
    assert r.returncode == 1 and "region 'mars' has no hosts" in r.stderr


def test_refuses_to_replace_a_directory_that_is_not_a_tree(tmp_path: Path) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    r = compile_to(precious)
    assert r.returncode == 1 and "refusing to replace it" in r.stderr
    assert (precious / "notes.txt").read_text() == "keep me"


def test_no_secret_is_resolved_offline(tmp_path: Path) -> None:
    canary = "sk-canary-0123456789abcdefghijklmnop"
    env = {"MINIMAX_API_KEY": canary, "PATH": "/usr/bin:/bin"}
    r = subprocess.run([OPENCLAW, "compile", "-i", "inventory/production.yaml", "-o",
                        str(tmp_path / "t")], cwd=REPO, capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0
    for p in (tmp_path / "t").rglob("*"):
        if p.is_file():
            assert canary.encode() not in p.read_bytes()
    env_file = next((tmp_path / "t").rglob("llm-gateway.env")).read_text()
    assert "MINIMAX_API_KEY=<env:MINIMAX_API_KEY>" in env_file


def test_a_failed_compile_leaves_the_previous_tree(tmp_path: Path) -> None:
    import resource
    out = tmp_path / "out"
    assert compile_to(out).returncode == 0
    before = digest(out)

    def small_files() -> None:  # a full disk, as far as the compile can tell
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    r = subprocess.run([OPENCLAW, "compile", "-i", "inventory/production.yaml", "-o", str(out)],
                       cwd=REPO, capture_output=True, text=True, preexec_fn=small_files)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "cannot write the compiled tree (File too large)" in r.stderr
    assert "internal error" not in r.stderr
    assert digest(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert compile_to(out).returncode == 0 and digest(out) == before  # replaced again


def test_objects_store_each_content_once_and_the_manifest_says_where(tmp_path: Path) -> None:
    assert compile_to(tmp_path / "tree").returncode == 0
    r = compile_to(tmp_path / "obj", "--objects")
    assert r.returncode == 0, r.stderr
    assert "compiled 6 host(s)" in r.stderr and "distinct contents" in r.stderr
    doc = json.loads((tmp_path / "obj/manifest.json").read_text())
    tree = json.loads((tmp_path / "tree/manifest.json").read_text())
    assert doc.pop("layout") == "objects" and doc == tree  # the same hosts, files and hashes
    store = tmp_path / "obj/objects"
    names = {p.name for p in store.iterdir()}
    wanted = {f["sha256"] for h in doc["hosts"] for f in h["files"]}
    assert names == wanted and len(names) < sum(len(h["files"]) for h in doc["hosts"])
    for h in doc["hosts"]:
        for f in h["files"]:
            obj = store / f["sha256"]
            assert hashlib.sha256(obj.read_bytes()).hexdigest() == f["sha256"]
            # what a host holds: the bytes of its tree copy
            copy = tmp_path / "tree" / h["region"] / h["host"] / f["path"].lstrip("/")
            assert copy.read_bytes() == obj.read_bytes()
            if f["sensitive"]:
                assert obj.stat().st_mode & 0o077 == 0  # .env placeholders: root's alone
    assert sorted(p.name for p in (tmp_path / "obj").iterdir()) == ["manifest.json", "objects"]
    # and back to a tree in place
    assert compile_to(tmp_path / "obj").returncode == 0
    assert digest(tmp_path / "obj") == digest(tmp_path / "tree")


def test_manifest_lines_are_canonical_json(tmp_path: Path) -> None:
    """Each host's line is built from shared pieces: it must be what json writes itself."""
    assert compile_to(tmp_path / "a").returncode == 0
    lines = (tmp_path / "a/manifest.json").read_text().splitlines()
    assert lines[0] == '{"format_version": 1, "hosts": ['
    for line in lines[1:-1]:
        doc = json.loads(line.rstrip(","))
        assert json.dumps(doc, sort_keys=True, separators=(",", ":")) == line.rstrip(",")
