"""Probe parsing and change computation, without hosts."""

from __future__ import annotations

from openclaw.compile.plan import Account, Directory, File, HostPlan, Unit
from openclaw.model import SecretSource
from openclaw.sync import probe
from openclaw.sync.changes import compute, salted
from openclaw.sync.secrets import render_env

ENV = "/opt/openclaw/config/gateway.env"
CONF = "/opt/openclaw/config/a.conf"
UNIT = "/etc/systemd/system/x.service"


def plan(root: str = "/") -> HostPlan:
    files = (
        File(UNIT, b"[Service]\nExecStart=/bin/true\n", 0o644, "root", "root"),
        File(CONF, b"A=1\nB=2\n", 0o640, "root", "milkbot"),
        File(ENV, b"# env\nK1=<env:K1>\nK2=<env:K2>\n", 0o600, "milkbot", "milkbot", True,
             (("K1", SecretSource("env", "K1")), ("K2", SecretSource("env", "K2")))),
    )
    return HostPlan("h", "r", root, (Directory("/opt/openclaw", 0o755, "root", "root"),),
                    files, (Unit("x.service", restart_on=(UNIT, ENV)),),
                    accounts=(Account("milkbot", "milkbot", "/opt/openclaw/state"),))


def state(p: HostPlan, salt: str, env: dict[str, str], *, conf: bytes = b"A=1\nB=2\n",
          conf_mode: str = "640", active: str = "active") -> probe.HostState:
    import hashlib
    lines = ["WHOAMI\troot", "SYSTEMD\t1", "ACCOUNT\tpasswd:milkbot\t1",
             "ACCOUNT\tgroup:milkbot\t1", "STAT\t/opt/openclaw\tdirectory\t755\troot\troot"]
    for f in p.files:
        content = conf if f.path == CONF else f.content
        mode = conf_mode if f.path == CONF else f"{f.mode:o}"
        lines.append(f"STAT\t{f.path}\tregular file\t{mode}\t{f.owner}\t{f.group}")
        lines.append(f"{hashlib.sha256(content).hexdigest()}  {f.path}")
    lines += [f"SECRET\t{ENV}\t{k}\t{salted(salt, v)}  -" for k, v in env.items()]
    lines += ["Id=x.service", f"ActiveState={active}", "UnitFileState=enabled", "", "END"]
    return probe.parse_state(p, "\n".join(lines) + "\n")


def desired(p: HostPlan, values: dict[str, str]) -> dict[str, bytes]:
    return {ENV: render_env(p.file(ENV), values)}


def test_in_sync_host_has_no_changes() -> None:
    p = plan()
    st = state(p, "salt", {"K1": "v1-aaaa", "K2": "v2-bbbb"})
    c = compute(p, st, desired=desired(p, {"K1": "v1-aaaa", "K2": "v2-bbbb"}), contents={},
                salt="salt")
    assert not c.changed and [f.action for f in c.files] == ["ok", "ok", "ok"]


def test_content_mode_and_key_changes_and_restarts() -> None:
    p = plan()
    st = state(p, "salt", {"K1": "v1-aaaa", "OLD": "zzzz"}, conf=b"A=1\nB=3\n",
               conf_mode="644")
    c = compute(p, st, desired=desired(p, {"K1": "v1-changed", "K2": "v2-bbbb"}),
                contents={CONF: b"A=1\nB=3\n"}, salt="salt")
    by_path = {f.path: f for f in c.files}
    assert by_path[CONF].action == "update" and by_path[CONF].mode == ("0644", "0640")
    assert "-B=3\n+B=2\n" in by_path[CONF].diff
    assert by_path[ENV].keys == (("~", "K1"), ("+", "K2"), ("-", "OLD"))
    assert by_path[ENV].diff == ""  # never a diff of secret values
    assert by_path[UNIT].action == "ok"
    assert [u.restart for u in c.units] == [True]  # the .env it reads changed
    assert c.daemon_reload is False  # no unit file changed


def test_fresh_host_creates_everything_and_starts_units() -> None:
    p = plan()
    out = "WHOAMI\troot\nSYSTEMD\t1\nACCOUNT\tpasswd:milkbot\t0\nACCOUNT\tgroup:milkbot\t0\n"
    out += "Id=x.service\nActiveState=inactive\nUnitFileState=\nEND\n"
    c = compute(p, probe.parse_state(p, out), desired=desired(p, {"K1": "x" * 5, "K2": "y" * 5}),
                contents={}, salt="s")
    assert {f.action for f in c.files} == {"create"} and c.accounts == ("group milkbot",
                                                                        "user milkbot")
    assert c.daemon_reload and c.units[0].enable and c.units[0].start
    assert not c.units[0].restart


def test_probe_output_cut_short_is_an_error() -> None:
    import pytest
    with pytest.raises(ValueError):
        probe.parse_state(plan(), "WHOAMI\troot\nSYSTEMD\t1\n")


def test_sandbox_paths_are_prefixed_and_ownership_ignored() -> None:
    p = plan("/srv/sandbox")
    assert p.target(CONF) == "/srv/sandbox/opt/openclaw/config/a.conf"
    script = probe.state_script(p, "salt")
    assert "/srv/sandbox/opt/openclaw/config/a.conf" in script
    lines = "\n".join(f"STAT\t{p.target(f.path)}\tregular file\t{f.mode:o}\tme\tme\n"
                      f"{f.sha256}  {p.target(f.path)}" for f in p.files if not f.sensitive)
    out = f"WHOAMI\tme\nSYSTEMD\t0\n{lines}\nEND\n"
    c = compute(p, probe.parse_state(p, out), desired=desired(p, {"K1": "x" * 5,
                                                                  "K2": "y" * 5}),
                contents={}, salt="s")
    assert [f.action for f in c.files] == ["ok", "ok", "create"]
    assert c.units == () and "no running systemd: unit steps skipped" in c.notes


def test_unit_steps_an_interrupted_apply_owed_run_on_the_next_one() -> None:
    # The last apply wrote the unit and the .env, then stopped before daemon-reload and the
    # restart: the files match, and the running service still has the old definition.
    p = plan()
    values = {"K1": "v1-aaaa", "K2": "v2-bbbb"}
    lines = state(p, "salt", values)
    owed = probe.HostState(**{**lines.__dict__, "pending": frozenset({UNIT, ENV})})
    c = compute(p, owed, desired=desired(p, values), contents={}, salt="salt")
    assert [f.action for f in c.files] == ["ok", "ok", "ok"]
    assert c.changed and c.daemon_reload and [u.restart for u in c.units] == [True]
    assert any("an earlier apply stopped before its unit steps" in n for n in c.notes)
    assert c.pending == (UNIT, ENV)  # recorded again before this apply writes anything
    # Without the record the host looks in sync, which is what left the old unit running.
    assert not compute(p, lines, desired=desired(p, values), contents={}, salt="salt").changed


def test_the_probe_reads_the_record_of_owed_unit_steps() -> None:
    p = plan()
    out = f"WHOAMI\troot\nSYSTEMD\t1\nPENDING\t{UNIT}\nPENDING\t\nEND\n"
    assert probe.parse_state(p, out).pending == frozenset({UNIT})


def test_a_rollback_that_removes_a_unit_file_stops_the_unit() -> None:
    """Back to a generation without the dashboard: its unit file goes, and it stops first."""
    from dataclasses import replace as with_

    from openclaw.sync.rollback import Before, restore_changes
    p = plan()
    dash = "/etc/systemd/system/openclaw-dashboard.service"
    st = state(p, "salt", {"K1": "v1-aaaa", "K2": "v2-bbbb"})
    st = with_(st, paths={**st.paths, dash: probe.PathState(True, 0o644, "root", "root",
                                                             "0" * 64, "f")},
               units={**st.units, "openclaw-dashboard.service": ("enabled", "active")})
    changes, _ = restore_changes(p, st, {dash: Before(dash, False)}, {}, "salt")
    assert [(f.path, f.action) for f in changes.files] == [(dash, "remove")]
    assert [(u.name, u.stop, u.disable) for u in changes.units if u.stop] == [
        ("openclaw-dashboard.service", True, True)]
    assert changes.daemon_reload


def test_apply_leaves_stopped_what_the_degradation_mode_in_force_stops() -> None:
    """The health check put the host in DEGRADED (mode.sh stopped x.service): the plan does
    not start it again, says why, and starts it once the host is back to FULL."""
    from dataclasses import replace
    p = replace(plan(), mode_off=(("DEGRADED", ("x.service",)), ("FULL", ())))
    values = {"K1": "v1-aaaa", "K2": "v2-bbbb"}
    st = state(p, "salt", values)
    stopped = replace(st, systemd=True, units={"x.service": ("enabled", "inactive")},
                      managed_units=frozenset({"x.service"}))
    degraded = compute(p, replace(stopped, mode="DEGRADED"), desired=desired(p, values),
                       contents={}, salt="salt")
    (x,) = degraded.units
    assert (x.start, x.drift) == (False, "")
    assert "mode DEGRADED in force: x.service stay stopped until the health check returns " \
           "the host to FULL" in degraded.notes
    full = compute(p, stopped, desired=desired(p, values), contents={}, salt="salt")
    assert full.units[0].start and full.units[0].drift == "stopped"
