"""Mutations of the reference config and inventory (mutations.yaml): every one either is
refused with its location and a clear message, secrets never echoed, or validates and then
compiles, diffs both ways and produces files their consumers accept: systemd-analyze verify,
shellcheck, a JSON parser and the LiteLLM proxy's own config loader."""

from __future__ import annotations

import ast
import copy
import functools
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from openclaw import inventory as inv
from openclaw import model, resources, units
from openclaw.cli import main
from openclaw.compile import HostPlan, compile_fleet
from openclaw.load import PathT, dotted
from openclaw.review import diff as review
from openclaw.validate import check_all
from tests.gateway.conftest import VENV

HERE = Path(__file__).parent
REPO = HERE.parent.parent
CONFIG = REPO / "openclaw.yaml"
INVENTORY = REPO / "inventory/production.yaml"
SPEC = yaml.safe_load((HERE / "mutations.yaml").read_text())
SCRIPTS = (".sh", ".conf")


def _path(at: str | list[str]) -> PathT:
    parts = at if isinstance(at, list) else at.split(".")
    return tuple(int(p) if isinstance(p, str) and p.isdigit() else p for p in parts)


@dataclass(frozen=True)
class Case:
    target: str  # "config" | "inventory"
    at: PathT
    value: Any
    error: str | None = None  # a fragment of the message; None: the case must validate
    path: PathT | None = None  # where the finding is, when not at `at`
    secret: str | None = None
    unit: tuple[str, str] | None = None  # (file, a line it must hold)
    also: tuple[tuple[PathT, Any], ...] = ()  # settings the value needs beside it

    @property
    def id(self) -> str:
        shown = json.dumps(self.value)[:40]
        return f"{self.target}:{dotted(self.at)}={shown}"


def _schema_at(path: PathT) -> dict[str, Any]:
    """The schema of a value of the raw reference config, through $refs, the report's list
    forms and anyOf branches."""
    root = resources.schema("openclaw.schema.json")

    def resolve(s: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in s and "x-range" not in s:
            s = root["$defs"][s["$ref"].rsplit("/", 1)[-1]]
        return s

    node = root
    for part in path:
        node = resolve(node)
        options = [node] + [resolve(b) for b in node.get("anyOf", [])]
        if isinstance(part, int):
            items = next(o["items"] for o in options if "items" in o)
            node = resolve(items["allOf"][0]) if "allOf" in items else items
        else:
            node = next(o["properties"][part] for o in options
                        if part in o.get("properties", {}))
    return node


def _written(kind: str, value: float) -> str:
    """A base-unit number as the config writes it, in the form the schema's pattern takes."""
    if kind == "duration":
        return units.show("duration", value)
    if kind == "percent":
        return units.show("percent", value)
    if kind == "size":
        return f"{int(value)}B"
    if kind == "rate":
        return f"{int(value)} requests/hour"
    return f"{int(value)} tokens"


def _bound_cases() -> list[Case]:
    out = []
    step = {"duration": 1, "percent": 0.005, "size": 1, "count": 1, "rate": 1}
    for entry in SPEC["bounds"]:
        at = entry if isinstance(entry, str) else entry["at"]
        also = tuple((_path(k), v) for k, v in (entry.get("with") or {}).items()) \
            if isinstance(entry, dict) else ()
        where = _path(at)
        bounds = _schema_at(where)["x-range"]
        kind, lo, hi = bounds["kind"], bounds["min"], bounds["max"]
        for v in (lo, hi):
            out.append(Case("config", where, _written(kind, v), also=also))
        outside = [hi + step[kind]] + ([lo - step[kind]] if lo - step[kind] >= 0 else [])
        for v in outside:
            out.append(Case("config", where, _written(kind, v), error="expected a", also=also))
            if kind in ("duration", "count") and float(v).is_integer():
                out.append(Case("config", where, int(v), error="expected a", also=also))
    return out


def _listed(target: str) -> list[Case]:
    return [Case(target, _path(c["at"]), c.get("set"), c.get("error"),
                 _path(c["path"]) if "path" in c else None, c.get("secret"),
                 tuple(c["unit"]) if "unit" in c else None)
            for c in SPEC[target]]


CASES = _bound_cases() + _listed("config") + _listed("inventory")


def _mutate(case: Case, tmp: Path) -> tuple[Path, Path]:
    source = CONFIG if case.target == "config" else INVENTORY
    data = copy.deepcopy(yaml.safe_load(source.read_text()))
    for at, value in ((case.at, case.value), *case.also):
        node = data
        for part in at[:-1]:
            node = node[part]
        node[at[-1]] = value
    mutated = tmp / source.name
    mutated.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=4096))
    if case.target == "config":
        return mutated, INVENTORY
    return CONFIG, mutated


@functools.cache
def _reference() -> dict[tuple[str, str], bytes]:
    checked = check_all(str(CONFIG), str(INVENTORY))
    return _contents(_compile(checked))


def _compile(checked: Any) -> list[HostPlan]:
    cfg = model.build(checked.config)
    hosts = inv.build(checked.inventory, str(INVENTORY),
                      [r.name for r in cfg.deployment.regions])
    return list(compile_fleet(cfg, hosts))


def _contents(plans: list[HostPlan]) -> dict[tuple[str, str], bytes]:
    return {(p.host, f.path): f.content for p in plans for f in p.files}


def _cli(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout + r.stderr


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_mutation(case: Case, tmp_path: Path, litellm_loads: Any) -> None:
    config, inventory = _mutate(case, tmp_path)
    code, text = _cli("validate", "-c", str(config), "-i", str(inventory))
    jcode, jtext = _cli("validate", "-c", str(config), "-i", str(inventory), "--format", "json")
    assert "internal error" not in text + jtext and "Traceback" not in text + jtext
    assert code == jcode
    if case.secret:
        assert case.secret not in text and case.secret not in jtext
    if case.error is not None:
        _refused(case, code, text, config if case.target == "config" else inventory)
    else:
        assert code == 0, text
        _accepted(case, config, inventory, litellm_loads)


def _refused(case: Case, code: int, text: str, mutated: Path) -> None:
    assert code == 1 and case.error is not None, text
    checked = check_all(*(str(p) for p in ((mutated, INVENTORY) if case.target == "config"
                                           else (CONFIG, mutated))))
    want = dotted(case.path or case.at)
    errors = [f for f in checked.findings if f.severity == "error" and f.file == str(mutated)
              and f.path.startswith(want) and case.error in f.message]
    assert errors, text
    # FILE:LINE:COL is where the value is: that line names the value's key.
    lines = mutated.read_text().splitlines()
    for f in errors:
        assert f"{f.file}:{f.line}:{f.col}: {f.path}: " in text
        key = f.path.rsplit(".", 1)[-1]
        near = lines[f.line - 1] + lines[f.line - 2]  # a mapping's mark is its first entry
        assert key.endswith("]") or key in near, (f, near)


def _accepted(case: Case, config: Path, inventory: Path, litellm_loads: Any) -> None:
    checked = check_all(str(config), str(inventory))
    plans = _compile(checked)
    changed = {k: v for k, v in _contents(plans).items() if _reference().get(k) != v}
    if case.unit is not None:
        file, line = case.unit
        unit = next(v for (_, path), v in changed.items() if path == file)
        assert line in unit.decode().splitlines()
    # Both ways: the diff compiles each side and runs systemd-analyze on the changed units.
    for base, head in ((CONFIG, config), (config, CONFIG)):
        base_inv, head_inv = (INVENTORY, inventory) if head == config else (inventory, INVENTORY)
        report = review.run(str(head), str(head_inv), base_config=str(base),
                            base_inventory=str(base_inv))
        bad = [n for n in report.findings if n.startswith("systemd-analyze verify")
               and not n.endswith("clean")]
        assert not bad
    _consumers_accept(changed, litellm_loads)


def _consumers_accept(changed: dict[tuple[str, str], bytes], litellm_loads: Any) -> None:
    seen: dict[str, bytes] = {}
    for (_, path), content in sorted(changed.items()):
        seen.setdefault(path + "#" + str(hash(content)), content)
    for key, content in seen.items():
        path = key.split("#", 1)[0]
        name = Path(path).name
        if name.endswith(".json"):
            json.loads(content)
        elif name == "llm-gateway.yaml":
            assert litellm_loads(content) == "Router"
        elif name.endswith(".py"):  # the host's Python helpers
            ast.parse(content)
        elif (name.endswith(SCRIPTS) and "/config/" in path) or "/scripts/" in path:
            if name.startswith("redis"):
                continue
            # On stdin a script cannot follow its `. lib.sh` (test_artifacts checks with -x).
            shell = ["shellcheck", "-s", "bash", "-e", "SC2034", "-"] \
                if name.endswith(".conf") else ["shellcheck", "-s", "bash", "-e", "SC1091", "-"]
            r = subprocess.run(shell, input=content, capture_output=True)
            assert r.returncode == 0, (path, r.stdout.decode())


LOADER = """
import asyncio, logging, os, sys
logging.disable(logging.CRITICAL)
for k in sys.argv[1].split(","):
    os.environ.setdefault(k, "sk-test-not-a-key")
out, sys.stdout = sys.stdout, sys.stderr  # the proxy prints banners
from litellm.proxy.proxy_server import ProxyConfig
for line in sys.stdin:
    path = line.strip()
    try:
        router = asyncio.run(ProxyConfig().load_config(router=None, config_file_path=path))[0]
        print("RESULT " + type(router).__name__, file=out, flush=True)
    except Exception as e:
        print("RESULT refused: " + type(e).__name__ + ": " + str(e)[:300].replace("\\n", " "),
              file=out, flush=True)
"""


@pytest.fixture(scope="module")
def litellm_loads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """LiteLLM's own proxy config loader, one process for the module (its import takes
    seconds): each llm-gateway.yaml goes in on stdin, the router's type (or why not) out."""
    python = VENV / "bin/python"
    assert python.exists(), f"the LiteLLM test venv is missing: {VENV} (make test builds it)"
    keys = ",".join(sorted(checked_keys()))
    proc = subprocess.Popen([str(python), "-c", LOADER, keys], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    folder = tmp_path_factory.mktemp("litellm")
    # The usage callback the config names, beside it as on a host.
    (folder / "openclaw_usage.py").write_bytes(
        (REPO / "templates/scripts/openclaw_usage.py").read_bytes())
    (folder / "usage").mkdir()
    (folder / "usage.json").write_text(json.dumps({"dir": str(folder / "usage")}))
    # And the mode policy's.
    (folder / "openclaw_policy.py").write_bytes(
        (REPO / "templates/scripts/openclaw_policy.py").read_bytes())
    (folder / "policy.json").write_text(json.dumps({
        "record": str(folder / "mode"), "modes": {"FULL": {}}}))
    count = 0

    def load(content: bytes) -> str:
        nonlocal count
        count += 1
        path = folder / f"llm-gateway-{count}.yaml"
        path.write_bytes(content)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"{path}\n")
        proc.stdin.flush()
        while not (line := proc.stdout.readline()).startswith("RESULT ") and line:
            pass
        return line.removeprefix("RESULT ").strip()

    try:
        yield load
    finally:
        proc.kill()
        proc.wait()


def checked_keys() -> set[str]:
    return set(yaml.safe_load(CONFIG.read_text())["secrets"]["env"])


def test_the_loader_refuses_a_broken_config(litellm_loads: Any) -> None:
    """The LiteLLM check above could not pass vacuously."""
    assert litellm_loads(b"model_list: 7\n").startswith("refused")
