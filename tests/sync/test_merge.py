"""openclaw's keys merged into OpenClaw's own openclaw.json: everything else kept, a file
that does not parse left alone, the budget check's switch respected, credentials never
shown."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openclaw.compile.plan import File
from openclaw.sync.merge import merge

MANAGED = {"agents": {"defaults": {"model": {"primary": "llm-gateway/minimax",
                                             "fallbacks": ["llm-gateway/openrouter"]}}},
           "gateway": {"port": 18789},
           "models": {"providers": {"llm-gateway": {"apiKey": "${LITELLM_MASTER_KEY}",
                                                    "baseUrl": "http://127.0.0.1:4000/v1"}}}}
REFS = (("minimax", "llm-gateway/minimax"), ("openrouter", "llm-gateway/openrouter"))
# What OpenClaw itself wrote: JSON5 with comments, unquoted keys, trailing commas, its own
# credentials.
OPENCLAW_WROTE = b"""// written by openclaw onboard
{
  agents: {
    defaults: {
      workspace: "~/.openclaw/workspace",
      model: { primary: "minimax/MiniMax-M2", },
    },
  },
  channels: { telegram: { botToken: "123456:canary-telegram-secret", enabled: true } },
  gateway: { port: 18789, auth: { token: "canary-gateway-token" } },
}
"""


def managed_file() -> File:
    return File("/opt/openclaw/state/openclaw/openclaw.json",
                (json.dumps(MANAGED, sort_keys=True, indent=2) + "\n").encode(), 0o600,
                "milkbot", "milkbot", merge=True, merge_refs=REFS,
                merge_active="/opt/openclaw/state/active-providers")


def load(content: bytes) -> Any:
    return json.loads(content)


def test_every_key_openclaw_wrote_is_kept() -> None:
    m = merge(managed_file(), OPENCLAW_WROTE)
    assert m.changed and not m.error
    doc = load(m.content)
    assert doc["channels"] == {"telegram": {"botToken": "123456:canary-telegram-secret",
                                            "enabled": True}}
    assert doc["gateway"] == {"port": 18789, "auth": {"token": "canary-gateway-token"}}
    assert doc["agents"]["defaults"]["workspace"] == "~/.openclaw/workspace"
    assert doc["agents"]["defaults"]["model"] == {
        "primary": "llm-gateway/minimax", "fallbacks": ["llm-gateway/openrouter"]}
    assert doc["models"]["providers"]["llm-gateway"]["apiKey"] == "${LITELLM_MASTER_KEY}"
    assert list(doc) == ["agents", "channels", "gateway", "models"]  # its order, ours after


def test_keys_openclaw_no_longer_sets_leave_the_file() -> None:
    """The LLM gateway turned off, a level without an allow list: openclaw's provider and
    allow list go (and the objects they leave empty), OpenClaw's own keys stay."""
    from dataclasses import replace
    with_gateway = merge(managed_file(), OPENCLAW_WROTE).content
    doc = load(with_gateway)
    doc["tools"] = {"profile": "full", "allow": ["read"]}
    without = {k: v for k, v in MANAGED.items() if k != "models"}
    f = replace(managed_file(), content=json.dumps(without).encode(),
                merge_drop=(("models", "providers", "llm-gateway"), ("tools", "allow"),
                            ("channels", "telegram", "execApprovals")))
    m = merge(f, json.dumps(doc).encode())
    after = load(m.content)
    assert m.changed and "models" not in after and after["tools"] == {"profile": "full"}
    assert after["channels"] == doc["channels"]
    assert '"llm-gateway"' in m.before and '"llm-gateway"' not in m.after
    assert not merge(f, m.content).changed


def test_the_diff_shows_only_openclaws_keys_and_never_credentials() -> None:
    m = merge(managed_file(), OPENCLAW_WROTE)
    shown = m.before + m.after
    assert "canary" not in shown and "workspace" not in shown
    assert '"primary": "minimax/MiniMax-M2"' in m.before
    assert '"primary": "llm-gateway/minimax"' in m.after
    assert "${LITELLM_MASTER_KEY}" in m.after  # a reference, not a value
    leaked = OPENCLAW_WROTE.replace(b"auth: {", b"apiKey: \"sk-canary-literal\", auth: {")
    hidden = merge(managed_file(), leaked.replace(
        b"gateway: {", b"models: {providers: {\"llm-gateway\": {apiKey: \"sk-canary-2\"}}},"
                       b" gateway: {"))
    assert "sk-canary" not in hidden.before + hidden.after
    assert "(not shown)" in hidden.before


def test_a_merged_file_is_not_rewritten() -> None:
    first = merge(managed_file(), OPENCLAW_WROTE)
    again = merge(managed_file(), first.content)
    assert not again.changed and again.content == first.content
    # OpenClaw reformatting or adding its own keys is not a change either.
    doc = load(first.content)
    doc["meta"] = {"lastTouchedVersion": "2026.11.1"}
    reformatted = json.dumps(doc, indent=4).encode()
    assert not merge(managed_file(), reformatted).changed


def test_an_absent_file_is_created_with_openclaws_keys() -> None:
    m = merge(managed_file(), None)
    assert m.changed and load(m.content) == MANAGED


def test_plain_json_is_read_without_the_json5_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """What apply and OpenClaw write is plain JSON: read in C. The pure-Python JSON5 parser
    took most of a 100-host plan's controller time; it is for what a person wrote."""
    import json5
    plain = merge(managed_file(), OPENCLAW_WROTE).content
    calls: list[str] = []
    real = json5.loads

    def counted(text: str) -> Any:
        calls.append(text)
        return real(text)
    monkeypatch.setattr(json5, "loads", counted)
    again = merge(managed_file(), plain)
    assert not again.changed and not again.error and calls == []
    assert merge(managed_file(), OPENCLAW_WROTE).content == plain and len(calls) == 1


@pytest.mark.parametrize("content, where", [
    (b"{ agents: { defaults: }\n", "line 1"),
    (b'{\n  "a": 1,\n  "b": [1, 2\n}\n', "line 4"),
    (b"[1, 2, 3]\n", "top level"),
    (b"\xff\xfe{}", "JSON5"),
])
def test_a_file_that_does_not_parse_is_left_untouched(content: bytes, where: str) -> None:
    m = merge(managed_file(), content)
    assert m.error and where in m.error
    assert not m.changed and m.content == content


def test_the_budget_checks_switch_is_kept() -> None:
    # The budget check left only openrouter in force and told OpenClaw so.
    switched = OPENCLAW_WROTE.replace(b'primary: "minimax/MiniMax-M2", ',
                                      b'primary: "llm-gateway/openrouter", fallbacks: [], ')
    m = merge(managed_file(), merge(managed_file(), switched, ("openrouter",)).content,
              ("openrouter",))
    assert not m.changed
    model = load(merge(managed_file(), switched, ("openrouter",)).content)
    assert model["agents"]["defaults"]["model"] == {"primary": "llm-gateway/openrouter",
                                                    "fallbacks": []}
    # Providers no longer configured are ignored; none left means the configured order.
    assert load(merge(managed_file(), None, ("gone",)).content) == MANAGED


def sandbox_plan(root: str) -> Any:
    from openclaw.compile.plan import Directory, HostPlan
    f = managed_file()
    return HostPlan("h", "r", root, (Directory("/opt/openclaw/state/openclaw", 0o700,
                                               "milkbot", "milkbot"),), (f,))


def probe_and_compute(p: Any) -> Any:
    import subprocess

    from openclaw.sync import probe
    from openclaw.sync.changes import compute
    out = subprocess.run(["sh", "-c", probe.state_script(p, "salt")],
                         capture_output=True, text=True, check=True).stdout
    return compute(p, probe.parse_state(p, out), desired={}, contents={}, salt="salt")


def install(p: Any, changes: Any, tmp: Any) -> Any:
    import subprocess

    from openclaw.sync import install as inst
    from openclaw.sync import probe
    paths = inst.to_write(changes)
    staging = tmp / "stage"
    staging.mkdir(mode=0o700)
    (staging / "bundle.tar").write_bytes(inst.bundle(paths, changes.merged))
    lock = tmp / "root" / probe.LOCK_PATH.lstrip("/")
    lock.mkdir(parents=True, exist_ok=True)
    (lock / "holder").write_text("tok\tme\t99999999999\n")
    return subprocess.run(["sh", "-c", inst.install_script(p, changes, str(staging), paths,
                                                           "tok")],
                          capture_output=True, text=True)


def host_with(tmp_path: Any, content: bytes) -> tuple[Any, Any, Any]:
    """A sandbox root holding OpenClaw's file as `content`: (root, plan, the file)."""
    root = tmp_path / "root"
    target = root / "opt/openclaw/state/openclaw/openclaw.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    return root, sandbox_plan(str(root)), target


def test_probe_merge_install_on_a_sandbox_root(tmp_path: Any) -> None:
    root, p, target = host_with(tmp_path, OPENCLAW_WROTE)
    active = root / "opt/openclaw/state/active-providers"
    active.write_text("openrouter\n")
    changes = probe_and_compute(p)
    (change,) = changes.files
    assert change.action == "update" and "canary" not in change.diff
    assert '+        "primary": "llm-gateway/openrouter"' in change.diff
    r = install(p, changes, tmp_path)
    assert r.returncode == 0, r.stderr
    doc = load(target.read_bytes())
    assert doc["channels"]["telegram"]["botToken"] == "123456:canary-telegram-secret"
    assert doc["agents"]["defaults"]["model"]["primary"] == "llm-gateway/openrouter"
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert probe_and_compute(p).files[0].action == "ok"  # converged


def test_a_file_rewritten_since_plan_is_not_overwritten(tmp_path: Any) -> None:
    _, p, target = host_with(tmp_path, OPENCLAW_WROTE)
    changes = probe_and_compute(p)
    assert changes.files[0].action == "update"
    rewritten = OPENCLAW_WROTE.replace(b"enabled: true", b"enabled: false")
    target.write_bytes(rewritten)  # OpenClaw wrote it between plan and apply
    r = install(p, changes, tmp_path)
    assert r.returncode == 1 and "changed on the host since plan" in r.stderr
    assert target.read_bytes() == rewritten


def test_a_file_rewritten_while_the_apply_runs_is_not_overwritten(tmp_path: Any) -> None:
    import subprocess

    from openclaw.sync import install as inst
    from openclaw.sync import probe
    _, p, target = host_with(tmp_path, OPENCLAW_WROTE)
    changes = probe_and_compute(p)
    rewritten = OPENCLAW_WROTE.replace(b"enabled: true", b"enabled: false")
    staging = tmp_path / "stage"
    staging.mkdir(mode=0o700)
    (staging / "bundle.tar").write_bytes(inst.bundle(inst.to_write(changes), changes.merged))
    lock = tmp_path / "root" / probe.LOCK_PATH.lstrip("/")
    lock.mkdir(parents=True, exist_ok=True)
    (lock / "holder").write_text("tok\tme\t99999999999\n")
    script = inst.install_script(p, changes, str(staging), inst.to_write(changes), "tok")
    # OpenClaw writes after the check at the start (while `config validate` would run).
    script = script.replace('put "$S/files/0"', f"printf '%s' '{rewritten.decode()}' "
                            f"> {target}\nput \"$S/files/0\"", 1)
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert r.returncode == 1 and "changed on the host since plan" in r.stderr
    assert target.read_bytes() == rewritten
    assert list(target.parent.glob(".*openclaw-new")) == []


def test_an_unparseable_file_is_reported_and_left(tmp_path: Any) -> None:
    _, p, _ = host_with(tmp_path, b'{"half": \n')
    changes = probe_and_compute(p)
    assert changes.files[0].action == "ok" and not changes.merged
    assert any("not valid JSON5 at line" in n and "left untouched" in n for n in changes.notes)


def test_a_rollback_diff_of_openclaw_json_never_shows_its_credentials(tmp_path: Any) -> None:
    import subprocess

    from openclaw.sync import probe
    from openclaw.sync.rollback import Before, restore_changes
    now = (b'{"gateway": {"port": 18790, "auth": {"token": "canary-now-gw-token"}},\n'
           b' "channels": {"telegram": {"botToken": "1:canary-now-tg"}},\n'
           b' "env": {"OPENAI_BASE": "canary-now-env"},\n'
           b' "models": {"providers": {"x": {"apiKey": "canary-now-key"}}}}\n')
    before = now.replace(b"18790", b"18789").replace(b"canary-now", b"canary-before")
    _, p, _ = host_with(tmp_path, now)
    out = subprocess.run(["sh", "-c", probe.state_script(p, "s")],
                         capture_output=True, text=True, check=True).stdout
    path = managed_file().path
    changes, want = restore_changes(p, probe.parse_state(p, out),
                                    {path: Before(path, True, before, 0o600, "m", "m")},
                                    {path: now}, "s")
    (change,) = changes.files
    assert '-    "port": 18790' in change.diff and '+    "port": 18789' in change.diff
    assert "canary" not in change.diff and "(not shown)" in change.diff
    assert want[path] == before  # what is written back is the file as it was
