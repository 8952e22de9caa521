"""secrets.audit: the audit check counts non-root accesses to the .env that auditd recorded,
and the health check turns new ones into an alert. The kernel's audit subsystem cannot run in
this sandbox, so `ausearch` is a stand-in printing records in its interpreted format; every
other part (the scripts, their configs, the alert path to fake Telegram) is real."""

from __future__ import annotations

from pathlib import Path

from tests.behaviour.conftest import World

AUDIT = "secrets:\n  audit:\n    - log_access: true\n    - alert_on_access: true\n  env:"
RECORDS = {
    # systemd reading the EnvironmentFile as root: expected, not counted
    "root": "type=SYSCALL msg=audit(1767225600.100:41) : arch=x86_64 syscall=openat "
            "success=yes exit=3 auid=unset uid=root gid=root comm=systemd exe=/usr/lib/systemd "
            "key=openclaw-secrets",
    "milkbot": "type=SYSCALL msg=audit(1767225700.200:42) : arch=x86_64 syscall=openat "
               "success=yes exit=3 auid=alice uid=milkbot gid=milkbot comm=cat exe=/usr/bin/cat "
               "key=openclaw-secrets",
}


def stub_ausearch(bindir: Path, records: list[str], log: Path) -> None:
    """Prints the given records once per checkpoint, as ausearch --checkpoint would."""
    data = bindir / "ausearch.out"
    data.write_text("----\n" + "\n".join(records) + "\n" if records else "")
    (bindir / "ausearch").write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> {log}\n'
        f'if [ -s {data} ]; then cat {data}; : > {data}; exit 0; fi\n'
        "echo '<no matches>'; exit 1\n")
    (bindir / "ausearch").chmod(0o755)


def test_non_root_access_alerts_once(world: World) -> None:
    host = world.host(world.text().replace("secrets:\n  env:", AUDIT))
    rules = Path(host.plan.target("/etc/audit/rules.d/openclaw.rules")).read_text()
    for env in ("gateway", "checks", "workers"):  # every unit's own environment file
        assert f"-w {host.root}/config/{env}.env -p rwa -k openclaw-secrets" in rules
    calls = world.tmp / "ausearch.calls"
    stub_ausearch(host.bin, [RECORDS["root"], RECORDS["milkbot"]], calls)
    t = 7_000_000
    r = host.run("audit-check.sh", t)
    assert r.returncode == 0, r.stderr
    assert (host.root / "audit/hits").read_text().split() == ["1", str(t), "milkbot", "cat"]
    assert "-k openclaw-secrets --checkpoint" in calls.read_text()

    host.health(t + 10)
    alerts = [m for m in world.messages() if ".env" in m]
    assert alerts == ["[critical] the .env files on box (lab) was accessed by milkbot (cat) at "
                      "1970-03-23T00:26:40Z; 1 new access(es)"]
    assert {"name": "audit", "status": "ok", "detail": "1 non-root access(es) to the .env files"} \
        in host.report()["checks"]

    # Nothing new: no second alert; root's reads never count.
    stub_ausearch(host.bin, [RECORDS["root"]], calls)
    host.run("audit-check.sh", t + 300)
    host.health(t + 310)
    assert (host.root / "audit/hits").read_text().split()[0] == "1"
    assert len([m for m in world.messages() if ".env" in m]) == 1


def test_without_auditd_the_check_says_so(world: World) -> None:
    host = world.host(world.text().replace("secrets:\n  env:", AUDIT))
    r = host.run("audit-check.sh", 7_000_000, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and "ausearch not found" in r.stderr
