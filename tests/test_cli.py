"""The CLI as an operator runs it: a subprocess, exit codes, output, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
BIN = Path(sys.executable).parent


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "openclaw"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_validate_repo_config_prints_only_its_warnings() -> None:
    r = run("validate")
    assert (r.returncode, r.stderr) == (0, "")
    lines = r.stdout.splitlines()
    assert len(lines) == 29 and all(": warning: " in line for line in lines)


def test_both_entry_points_and_version() -> None:
    for name in ("openclaw", "openclaw-deploy"):
        r = subprocess.run([str(BIN / name), "--version"], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.strip() == "openclaw, version 0.1.0"


def test_help_has_examples() -> None:
    r = run("--help")
    assert r.returncode == 0 and "Examples:" in r.stdout and "validate" in r.stdout


def test_json_format_of_findings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nretry:\n  backoff: exponental\n")
    r = run("validate", "-c", str(bad), "--format", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["format_version"] == 1 and doc["ok"] is False
    (f,) = [f for f in doc["findings"] if f["file"] == str(bad)]
    assert (f["line"], f["col"], f["path"], f["code"]) == (3, 12, "retry.backoff", "S005")


def test_schema_command_prints_the_schema() -> None:
    r = run("schema")
    assert r.returncode == 0
    assert json.loads(r.stdout)["$id"].endswith("/openclaw.schema.json")
    r = run("schema", "--inventory")
    assert json.loads(r.stdout)["$id"].endswith("/inventory.schema.json")


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    big = tmp / "big.yaml"
    big.write_text("version: 1\n" + "# padding\n" * 120_000)
    binary = tmp / "binary.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    directory = tmp / "adir"
    directory.mkdir()
    return {
        "missing": (tmp / "nope.yaml", ":1:1: no such file"),
        "directory": (directory, ":1:1: is a directory, expected a YAML file"),
        "too_big": (big, "byte limit"),
        "binary": (binary, ":1:1: not valid UTF-8 (byte 0x89)"),
    }


@pytest.mark.parametrize("kind", ["missing", "directory", "too_big", "binary"])
@pytest.mark.parametrize("flag", ["-c", "-i"])
def test_bad_files_exit_1_with_location(tmp_path: Path, kind: str, flag: str) -> None:
    path, fragment = _bad_files(tmp_path)[kind]
    r = run("validate", flag, str(path))
    out = r.stdout + r.stderr
    assert r.returncode == 1
    assert f"{path}" + (fragment if fragment.startswith(":") else "") in out
    assert fragment.lstrip(":1") in out
    assert "Traceback" not in out


def test_alias_bomb_is_refused_quickly_and_bounded(tmp_path: Path) -> None:
    lines = ["version: 1", 'a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 12):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    # A fresh interpreter so that RUSAGE_CHILDREN sees only the openclaw process.
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
             "print(r.stdout)")
    r = subprocess.run([sys.executable, "-c", probe, str(BIN / "openclaw"), "validate", "-c",
                        str(bomb)], capture_output=True, text=True, timeout=30)
    code, max_rss_kb = map(int, r.stdout.splitlines()[0].split())
    assert code == 1 and "alias bomb" in r.stdout
    assert max_rss_kb < 400_000


def test_config_and_inventory_findings_together(tmp_path: Path) -> None:
    inv = tmp_path / "inv.yaml"
    inv.write_text("regions:\n  mars:\n    hosts:\n      h1: {ssh_prot: 22}\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text((REPO / "openclaw.yaml").read_text().replace("max_attempts: 3",
                                                                 "max_attempts: 0"))
    r = run("validate", "-c", str(cfg), "-i", str(inv))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert any(line.startswith(f"{cfg}:") and "retry.max_attempts" in line for line in lines)
    assert any(line.startswith(f"{inv}:4:") and "did you mean 'ssh_port'" in line
               for line in lines)


def test_default_inventory_is_local_yaml_when_present(tmp_path: Path) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "openclaw.yaml").write_text((REPO / "openclaw.yaml").read_text())
    (tmp_path / "inventory/local.yaml").write_text("regions:\n  nowhere:\n    hosts:\n"
                                                   "      h: {}\n")
    r = run("validate", cwd=tmp_path)
    assert r.returncode == 1 and "inventory/local.yaml:2:3: regions.nowhere" in r.stdout
    os.remove(tmp_path / "inventory/local.yaml")
    assert run("validate", cwd=tmp_path).returncode == 0


def test_warning_alone_exits_0(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("version: 1\ncaching:\n  semantic:\n    enabled: true\n")
    r = run("validate", "-c", str(cfg), cwd=tmp_path)
    assert r.returncode == 0 and ": warning: the semantic cache" in r.stdout


def test_a_file_that_is_not_a_config_is_refused_by_name_and_never_echoed(
        tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # reading it would block forever
    r = run("validate", "-c", str(fifo), cwd=tmp_path)
    assert r.returncode == 1
    assert f"{fifo}:1:1: is not a regular file, expected a YAML file" in r.stdout + r.stderr
    dotenv = tmp_path / "prod.env"  # passed as -c by mistake
    dotenv.write_text("MINIMAX_API_KEY=sk-canary-live-abcdef0123456789abcdef\n")
    r = run("validate", "-c", str(dotenv), "--format", "json", cwd=tmp_path)
    assert r.returncode == 1 and "sk-canary" not in r.stdout + r.stderr
    assert "top level is a scalar (str), expected a mapping" in r.stdout + r.stderr
    # A directory as --base-config is a file problem (exit 1, named), not a usage error (2).
    r = run("diff", "--base-config", str(tmp_path), "-i", "inventory/production.yaml")
    assert r.returncode == 1 and f"{tmp_path}:1:1: is a directory" in r.stdout + r.stderr


def test_file_problems_are_exit_1_naming_the_file(tmp_path: Path) -> None:
    """Never click's usage error (exit 2, which means "changes" here)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    cases = [
        (("validate", "-c", "/proc/self/mem"), "/proc/self/mem:1:1: cannot read: "),
        (("compile", "-i", "inventory/production.yaml", "-o", str(a_file)),
         f"{a_file}: is not a directory"),
        (("status", "-i", "inventory/local.yaml", "--html", str(tmp_path)),
         f"{tmp_path}: is a directory"),
    ]
    for args, fragment in cases:
        r = run(*args)
        assert (r.returncode, fragment in r.stdout + r.stderr) == (1, True), r.stderr


@pytest.mark.parametrize("text", [
    "version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n",
    "version: 1\nx: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "version: 1\nx:\n" + "".join(" " * i + "- \n" for i in range(0, 400, 2)),
], ids=["flow-lists", "flow-maps", "block"])
def test_deep_nesting_is_refused_with_its_place(tmp_path: Path, text: str) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(text)
    r = run("validate", "-c", str(deep))
    assert r.returncode == 1 and "internal error" not in r.stdout + r.stderr
    assert f"{deep}:" in r.stdout and "nested more than 64 levels deep" in r.stdout


def test_no_host_reachable_is_reported_per_host(tmp_path: Path) -> None:
    import socket
    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "openclaw.yaml").write_text(
        "version: 1\ndeployment:\n  regions:\n    - {name: lab, weight: 1.0}\n")
    (tmp_path / "inv.yaml").write_text(
        f"defaults: {{ssh_user: root, ssh_port: {port}}}\nregions:\n  lab:\n    hosts:\n"
        "      a: {ssh_host: 127.0.0.1}\n      b: {ssh_host: 127.0.0.2}\n")
    env = {**os.environ, "GATEWAY_AUTH_TOKEN": "canary-unreachable-token"}
    for cmd in (("plan",), ("apply", "--yes")):
        r = subprocess.run([str(BIN / "openclaw"), *cmd, "-c", "openclaw.yaml", "-i",
                            "inv.yaml"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=60, env=env, stdin=subprocess.DEVNULL)
        out = r.stdout + r.stderr
        assert r.returncode == 1 and "internal error" not in out, out
        for host in ("127.0.0.1", "127.0.0.2"):
            assert f"cannot connect to {host}:{port}: Could not connect" in out
