"""The apply step as shell: one script per host that creates accounts and directories, puts
every changed file in place atomically (never readable by others, not even for an instant),
and runs the unit steps. File contents travel separately, in a tar uploaded into a private
staging directory, so no secret is ever part of a command line. Also the host lock."""

from __future__ import annotations

import io
import shlex
import tarfile

from openclaw.compile.plan import HostPlan, RuntimeSpec
from openclaw.sync import packages
from openclaw.sync.changes import HostChanges
from openclaw.sync.probe import GENERATIONS, LOCK_PATH, PENDING_PATH, RECORD

LEASE_SECONDS = 900
KEEP_GENERATIONS = 10
# A merged file its program rewrote after the plan read it: nothing of it is lost, the host
# fails with this, and apply plans that host again (live.py).
CHANGED_SINCE_PLAN = "changed on the host since plan"


def _q(value: str) -> str:
    return shlex.quote(value)


def to_write(changes: HostChanges) -> list[str]:
    return [c.path for c in changes.files if c.content_changed and c.action != "remove"]


def bundle(paths: list[str], contents: dict[str, bytes]) -> bytes:
    """A tar of the files to write, named by their index in `paths`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for i, path in enumerate(paths):
            data = contents[path]
            info = tarfile.TarInfo(str(i))
            info.size, info.mode, info.mtime = len(data), 0o600, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def install_script(plan: HostPlan, changes: HostChanges, staging: str, paths: list[str],
                   token: str, *, own_lock: str = "", kind: str = "apply") -> str:
    """own_lock: take the host lock here (as this holder) and release it on exit, for runs
    that are a single command (the pyinfra CLI deploy)."""
    sandbox = changes.sandbox
    cleanup = "rm -rf \"$S\""
    lines = ["set -eu", "umask 077", f"S={_q(staging)}"]
    if own_lock:
        lines += [f"held=$(sh -c {_q(lock_script(plan, token, own_lock))})",
                  "case $held in *LOCKED*) ;; *) echo \"host lock: $held\" >&2; exit 75 ;; esac"]
        cleanup += "; " + unlock_script(plan, token) + " >/dev/null"
    cleanup += "; rm -rf \"$v\" \"$w\""
    lines += [
        "t='' v='' w=''",
        f"trap {_q(cleanup)} EXIT",
        # Interrupted (the connection dropped): no temp file left behind.
        "trap 'rm -f \"$t\"; rm -rf \"$v\" \"$w\"; exit 129' HUP INT TERM",
        _lock_check(plan, token),
        "step() { printf 'STEP\\t%s\\n' \"$*\"; }",
        # sha FILE: its sha256, empty when absent (the compare-and-swap of merged files).
        SHA,
        f"CHANGED={_q(CHANGED_SINCE_PLAN)}",
        f"WRITE_AS={_q(WRITE_AS)}",
        f"READ_NOFOLLOW={_q(READ_NOFOLLOW)}",
        f"FIX_META={_q(FIX_META)}",
        # Root never acts through a link: one where a managed path should be is refused.
        "nolink() {",
        "  if [ -L \"$1\" ]; then",
        "    echo \"$1 is a symbolic link where openclaw manages a file or directory; \\",
        "refusing to follow it (remove it, then apply again)\" >&2; exit 1",
        "  fi",
        "}",
        # put STAGED TARGET MODE OWNER GROUP [CHECK [EXPECT [AS]]]: complete temp file beside
        # the target, then rename; a temp file left by a failure (a full disk) is removed.
        # AS: the service account, for a target in a directory it can change (written as it).
        "put() {",
        "  nolink \"$2\"",
        # A check by the program's own validator first, on a copy in a private directory
        # (it takes seconds: an interruption must not leave a temp file beside the target);
        # a refusal leaves the old file in place and fails the host.
        "  if [ -n \"${6:-}\" ]; then",
        "    v=$(mktemp -d) && cp \"$1\" \"$v/$(basename \"$2\")\" && chmod 0700 \"$v\" &&",
        "      { [ \"$4\" = - ] || chown -R \"$4:$5\" \"$v\"; } || exit 1",
        "    if ! out=$(\"$6\" \"$v/$(basename \"$2\")\" 2>&1); then",
        "      rm -rf \"$v\"",
        "      echo \"$2 refused: $(printf '%s' \"$out\" | tr '\\n' ' ' | head -c 600)\" >&2",
        "      exit 1",
        "    fi",
        "    rm -rf \"$v\"",
        "  fi",
        "  if [ \"${8:--}\" != - ]; then",
        # A copy root left there (owner root, say) becomes the account's first, so that the
        # account can compare and replace it.
        "    if [ -e \"$2\" ]; then",
        "      perl -e \"$FIX_META\" \"$2\" \"$3\" \"$4\" \"$5\" || exit 1",
        "    fi",
        "    w=$(mktemp -d) && cp \"$1\" \"$w/f\" && chown -R \"$8\" \"$w\" || exit 1",
        "    rc=0; runuser -u \"$8\" -- sh -c \"$WRITE_AS\" sh \"$w/f\" \"$2\" \"$3\" \"${7:-}\" "
        "|| rc=$?",
        "    rm -rf \"$w\"",
        "    case $rc in",
        "      0) step wrote \"$2\"; return 0 ;;",
        "      3) echo \"$2 $CHANGED\" >&2; exit 1 ;;",
        "      *) echo \"cannot write $2\" >&2; exit 1 ;;",
        "    esac",
        "  fi",
        "  t=\"$(dirname \"$2\")/.$(basename \"$2\").openclaw-new\"",
        "  if ! { cp \"$1\" \"$t\" && { [ \"$4\" = - ] || chown \"$4:$5\" \"$t\"; } &&",
        "        chmod \"$3\" \"$t\"; }; then",
        "    rm -f \"$t\"; echo \"cannot write $2\" >&2; exit 1",
        "  fi",
        # A merged file ($7: x + its sha256 at plan time) is compared again right before
        # the rename: its program may have rewritten it while the check ran.
        "  if [ -n \"${7:-}\" ] && [ \"x$(sha \"$2\")\" != \"$7\" ]; then",
        "    rm -f \"$t\"; echo \"$2 $CHANGED\" >&2; exit 1",
        "  fi",
        "  mv -f \"$t\" \"$2\"",
        "  step wrote \"$2\"",
        "}",
        # The generation record: what each changed path was before this apply, for rollback.
        f"GEN={_q(plan.target(GENERATIONS))}",
        # Generations hold copies of the .env: root only. Their parent holds root's record of
        # the degradation mode, which the LLM gateway's account reads (openclaw_policy.py).
        "mkdir -p \"$GEN\" && chmod 0700 \"$GEN\" && chmod 0755 \"${GEN%/*}\"",
        "G=$(( $(cat \"$GEN/current\" 2>/dev/null || echo 0) + 1 ))",
        # An apply cut short before it recorded its generation left what it saved under
        # the same number: kept, so a rollback still finds what the files were before it.
        "if [ -f \"$GEN/$G/applied\" ]; then rm -rf \"${GEN:?}/$G\"; fi",
        "mkdir -p \"$GEN/$G/files\"",
        # Before any write: the paths whose unit steps this apply owes (see PENDING_PATH).
        f"P={_q(plan.target(PENDING_PATH))}",
        "printf '%s\\n' " + " ".join(_q(p) for p in changes.pending)
        + " >\"$P.new\" && mv -f \"$P.new\" \"$P\"" if changes.pending else ":",
        # save TARGET [AS]: what TARGET was (never read through a link in a directory the
        # account AS can change).
        "save() {",
        "  nolink \"$1\"",
        "  M=\"$GEN/$G/manifest\"",
        "  if [ -f \"$M\" ] && awk -F '\\t' -v p=\"$1\" '$3 == p {f = 1} END {exit !f}' \"$M\"; "
        "then return 0; fi",
        "  n=$(( $(cat \"$M\" 2>/dev/null | wc -l) ))",
        "  if [ -f \"$1\" ]; then",
        "    if [ \"${2:--}\" = - ]; then cp \"$1\" \"$GEN/$G/files/$n\"; else",
        "      perl -e \"$READ_NOFOLLOW\" \"$1\" >\"$GEN/$G/files/$n\"; fi",
        "    printf '%s\\t1\\t%s\\t%s\\n' \"$n\" \"$1\" \"$(stat -c '%a\t%U\t%G' \"$1\")\" \\",
        "      >>\"$M\"",
        "  else",
        "    printf '%s\\t0\\t%s\\n' \"$n\" \"$1\" >>\"$M\"",
        "  fi",
        "}",
    ]
    for path, sha in sorted(changes.expect.items()):
        # Merged against the copy read at plan time: if its program rewrote it since, stop
        # before anything is written rather than lose what it wrote.
        target = _q(plan.target(path))
        lines.append(f"nolink {target}")
        lines.append(f"[ \"$(sha {target})\" = {_q(sha)} ] || "
                     f"{{ echo {target} \"$CHANGED\" >&2; exit 1; }}")
    for account in changes.accounts:
        kind, name = account.split(" ", 1)
        if kind == "group":
            lines.append(f"getent group {_q(name)} >/dev/null || groupadd --system {_q(name)}"
                         f" && step created group {_q(name)}")
        else:
            acct = next(a for a in plan.accounts if a.user == name)
            lines.append(f"getent passwd {_q(name)} >/dev/null || useradd --system --gid "
                         f"{_q(acct.group)} --home-dir {_q(plan.target(acct.home))} "
                         f"--no-create-home --shell {_q(acct.shell)} {_q(name)} && "
                         f"step created user {_q(name)}")
    by_path = {d.path: d for d in plan.directories}
    for c in changes.directories:
        if c.action in ("ok", "remove"):  # removals come after the files
            continue
        d = by_path[c.path]
        target = _q(plan.target(d.path))
        user = writer(plan, d.path)
        lines.append(f"nolink {target}")
        if user and not sandbox:
            # Made by the account; one that exists (made by root before) gets its owner and
            # mode on the opened directory itself.
            lines.append(f"[ -e {target} ] || runuser -u {_q(user)} -- mkdir -m "
                         f"{d.mode:04o} {target}")
            lines.append(f"perl -e {_q(FIX_META)} {target} {d.mode:04o} {_q(d.owner)} "
                         f"{_q(d.group)}")
        elif sandbox:
            lines.append(f"mkdir -p {target} && chmod {d.mode:04o} {target}")
        else:
            lines.append(f"install -d -m {d.mode:04o} -o {_q(d.owner)} -g {_q(d.group)} "
                         f"{target}")
        lines.append(f"step dir {target}")
    rt = plan.runtime
    if changes.runtime and rt is not None:
        lines.append(packages.runtime_install(rt, plan.root))
    checked = rt is not None and not sandbox
    if checked and rt is not None:
        lines.append(_openclaw_check(plan, rt))
    if paths:
        lines.append("mkdir \"$S/files\" && tar -xf \"$S/bundle.tar\" -C \"$S/files\" "
                     "--no-same-owner")
    files = {f.path: f for f in plan.files}
    index = {p: i for i, p in enumerate(paths)}
    for c in changes.files:
        if c.path not in files:  # removed: a link there is only removed, never saved
            lines.append(f"[ -L {_q(plan.target(c.path))} ] || save "
                         f"{_q(plan.target(c.path))}")
        elif c.action != "ok":
            user = "" if sandbox else writer(plan, c.path)
            lines.append(f"save {_q(plan.target(c.path))}{' ' + _q(user) if user else ''}")
    for c in changes.files:
        if c.path not in files:
            continue
        f = files[c.path]
        target = _q(plan.target(f.path))
        owner, group = ("-", "-") if sandbox else (_q(f.owner), _q(f.group))
        user = "" if sandbox else writer(plan, f.path)
        if c.path in index:
            if not user:
                lines.append(f"mkdir -p \"$(dirname {target})\"")
            check = ""
            if f.merge or user:
                check = (" check_openclaw_json" if checked and f.merge else " ''") + \
                    " " + _q("x" + changes.expect[c.path] if c.path in changes.expect
                             else "") + " " + _q(user or "-")
            lines.append(f"put \"$S/files/{index[c.path]}\" {target} {f.mode:04o} {owner} "
                         f"{group}{check}")
            if f.on_change and not sandbox:  # a sandbox must not touch the real system
                lines.append(f.on_change)
        elif c.action == "remove":
            lines.append(f"rm -f {target} && step removed {target}")
        elif c.action == "update" and user:  # mode or owner, on the file itself only
            lines.append(f"perl -e {_q(FIX_META)} {target} {f.mode:04o} {owner} {group} && "
                         f"step meta {target}")
        elif c.action == "update":  # only mode or owner differ
            lines.append(f"nolink {target}")
            if owner != "-":
                lines.append(f"chown {owner}:{group} {target}")
            lines.append(f"chmod {f.mode:04o} {target} && step meta {target}")
    # Units openclaw.yaml dropped stop before their files go.
    gone = [u.name for u in changes.units if u.stop or u.disable] if changes.systemd else []
    if gone:
        lines.append(f"systemctl disable --now --quiet {' '.join(map(_q, gone))} && "
                     f"step stopped and disabled {' '.join(map(_q, gone))}")
        # A timer's run in progress (a backup, a check) stops with it.
        runs = [n.removesuffix(".timer") + ".service" for n in gone if n.endswith(".timer")]
        if runs:
            lines.append(f"systemctl stop {' '.join(map(_q, runs))} 2>/dev/null || :")
            lines.append(f"systemctl reset-failed {' '.join(map(_q, runs))} 2>/dev/null || :")
        lines.append(f"systemctl reset-failed {' '.join(map(_q, gone))} 2>/dev/null || :")
    # Removed paths go last, once what replaces them is written (a link is itself removed).
    for c in changes.files:
        if c.path not in files:
            target = _q(plan.target(c.path))
            lines.append(f"rm -f {target} && step removed {target}")
            if c.path.startswith("/etc/") and c.path.count("/") > 2:
                # Directories it leaves empty (/etc/audit/rules.d without auditd) go too,
                # as a fresh host would not have them; never /etc itself.
                top = _q(plan.target("/etc"))
                lines.append(f"d=$(dirname {target}); while [ \"$d\" != {top} ] && "
                             "rmdir -- \"$d\" 2>/dev/null; do d=$(dirname \"$d\"); done")
    # Then dropped directories, deepest first: an openclaw-only tree whole (rm does not
    # follow links, and stays on its file system), any other only when empty.
    for c in changes.directories:
        if c.action != "remove":
            continue
        target = _q(plan.target(c.path))
        if c.tree:
            lines.append(f"if [ -L {target} ]; then rm -f {target}; else rm -rf "
                         f"--one-file-system -- {target}; fi && step removed {target}/")
        else:
            lines.append(f"rmdir -- {target} 2>/dev/null && step removed {target}/ || :")
    for account in changes.retire_accounts:
        kind, name = account.split(" ", 1)
        tool = "userdel" if kind == "user" else "groupdel"
        lines.append(f"if getent {'passwd' if kind == 'user' else 'group'} {_q(name)} "
                     f">/dev/null; then {tool} {_q(name)} && step removed {kind} {_q(name)}; "
                     "fi")
    if changes.systemd:
        if changes.daemon_reload:
            lines.append("systemctl daemon-reload && step daemon-reload")
        enable = [u.name for u in changes.units if u.enable]
        restart = [u.name for u in changes.units if u.restart]
        start = [u.name for u in changes.units if u.start]
        if enable:
            lines.append(f"systemctl enable --quiet {' '.join(map(_q, enable))} && "
                         f"step enabled {' '.join(map(_q, enable))}")
        if restart:
            lines.append(f"systemctl restart {' '.join(map(_q, restart))} && "
                         f"step restarted {' '.join(map(_q, restart))}")
        if start:
            lines.append(f"systemctl start {' '.join(map(_q, start))} && "
                         f"step started {' '.join(map(_q, start))}")
    lines += record_script(plan, changes.complete)
    lines += [
        "rm -f \"$P\"",
        "printf '%s\\n' \"$G\" >\"$GEN/current.new\"",
        "mv -f \"$GEN/current.new\" \"$GEN/current\"",
        "date -u +%Y-%m-%dT%H:%M:%SZ >\"$GEN/$G/applied\"",
        f"printf '%s\\n' {_q(kind)} >\"$GEN/$G/kind\"",
        "step generation \"$G\"",
        f"for old in $(ls \"$GEN\" | grep -E '^[0-9]+$' | sort -n | head -n -{KEEP_GENERATIONS}); "
        "do rm -rf \"${GEN:?}/$old\"; done",
        "echo DONE",
    ]
    return "\n".join(lines) + "\n"


def record_script(plan: HostPlan, complete: bool = True) -> list[str]:
    """The generation's record of what this apply leaves: every managed file (never read
    through a link) and every unit it enabled (probe.RECORD)."""
    lines = ["rec() { if [ -f \"$2\" ] && [ ! -L \"$2\" ]; then printf 'F\\t%s\\t%s\\t%s\\n' "
             "\"$1\" \"$(sha \"$2\")\" \"$(stat -c '%a\t%U\t%G' \"$2\")\"; fi; }",
             # recd PATH TARGET DISPOSABLE: a directory, with the mode and owner it was left
             "recd() { if [ -d \"$2\" ] && [ ! -L \"$2\" ]; then printf 'D\\t%s\\t%s\\t%s\\n' "
             "\"$1\" \"$3\" \"$(stat -c '%a\t%U\t%G' \"$2\")\"; fi; }",
             "{"]
    files = sorted(plan.files, key=lambda f: f.path)
    units = [u.name for u in sorted(plan.units, key=lambda u: u.name) if u.enable]
    dirs = sorted(plan.directories, key=lambda d: d.path)
    lines += [f"  rec {_q(f.path)} {_q(plan.target(f.path))}" for f in files]
    lines += [f"  printf 'U\\t%s\\n' {_q(u)}" for u in units]
    lines += [f"  recd {_q(d.path)} {_q(plan.target(d.path))} {int(d.disposable)}"
              for d in dirs]
    # Accounts besides the agent's (which keeps its files, even after a decommission).
    lines += [f"  printf 'A\\t%s\\t%s\\n' {_q(a.user)} {_q(a.group)}"
              for a in plan.accounts[1:]]
    named = ([f"F\t{f.path}" for f in files] + [f"U\t{u}" for u in units]
             + [f"D\t{d.path}" for d in dirs] + [f"A\t{a.user}" for a in plan.accounts[1:]])
    # What the previous record names and this plan does not, while still on the host, is
    # carried forward: files and directories always (a removal that failed), units and
    # accounts when the plan is partial (a rollback's, or a peer's failover.json update).
    prefix = _q("" if plan.root == "/" else plan.root.rstrip("/"))
    unit = (f"u=$(printf '%s' \"$p\" | sed 's/@[^.]*[.]/@./'); "
            f"if [ -f {prefix}/etc/systemd/system/\"$u\" ]; then printf '%s\\n' \"$l\"; fi"
            if not complete else ":")
    # (A sandbox has no accounts of its own: its record keeps naming them.)
    account = (":" if complete else "printf '%s\\n' \"$l\"" if plan.root != "/" else
               "if getent passwd \"$p\" >/dev/null; then printf '%s\\n' \"$l\"; fi")
    lines += ["  c=$(cat \"$GEN/current\" 2>/dev/null || echo 0)",
              f"  if [ -f \"$GEN/$c/{RECORD}\" ]; then",
              "    T=$(printf '\\t')",
              "    awk -F '\\t' 'NR == FNR {n[$1 FS $2] = 1; next} !(($1 FS $2) in n)' - "
              f"\"$GEN/$c/{RECORD}\" <<'EOF' |",
              *named,
              "EOF",
              "    while IFS= read -r l; do",
              "      t=${l%%\"$T\"*}; r=${l#*\"$T\"}; p=${r%%\"$T\"*}",
              "      case $t in",
              f"        F) rec \"$p\" {prefix}\"$p\" ;;",
              f"        D) r=${{r#*\"$T\"}}; recd \"$p\" {prefix}\"$p\" \"${{r%%\"$T\"*}}\" ;;",
              f"        U) {unit} ;;",
              f"        A) {account} ;;",
              "      esac",
              "    done",
              "  fi"]
    lines += [f"}} >\"$GEN/$G/{RECORD}\""]
    return lines


# sha FILE: its sha256, empty when absent (the compare-and-swap of merged files); defined in
# the install script and in what it runs as the service account.
SHA = "sha() { if [ -f \"$1\" ]; then sha256sum <\"$1\" | cut -c1-64; fi; }"
# Run as the service account by `put`: $1 the staged copy, $2 the target, $3 its mode, $4 the
# target's sha256 at plan time ("x" + hash; empty: no check). Exit 3: changed since plan.
WRITE_AS = "\n".join((
    "umask 077",
    SHA,
    "t=$(mktemp --suffix=.openclaw-new \"$(dirname \"$2\")/.$(basename \"$2\").XXXXXX\") || exit 1",
    "trap 'rm -f \"$t\"; exit 129' HUP INT TERM",
    "if ! { cat \"$1\" >\"$t\" && chmod \"$3\" \"$t\"; }; then rm -f \"$t\"; exit 1; fi",
    "if [ -n \"$4\" ] && [ \"x$(sha \"$2\")\" != \"$4\" ]; then rm -f \"$t\"; exit 3; fi",
    "mv -f -T \"$t\" \"$2\" || { rm -f \"$t\"; exit 1; }",
))
# Owner and mode set on the file opened without following a link (fchown, fchmod).
FIX_META = ("use Fcntl; sysopen(my $f, $ARGV[0], O_RDONLY|O_NOFOLLOW|O_NONBLOCK) or "
            "die \"$ARGV[0]: $!\\n\"; -f $f or -d $f or die \"$ARGV[0]: not a file\\n\"; "
            "chown(scalar getpwnam($ARGV[2]), scalar getgrnam($ARGV[3]), $f) or die \"$!\\n\"; "
            "chmod(oct($ARGV[1]), $f) or die \"$!\\n\"")


# A file's bytes to standard output, refusing a link in its place (generations of files in
# the service account's directories; read as root, since the file may be root's).
READ_NOFOLLOW = ("use Fcntl; sysopen(my $f, $ARGV[0], O_RDONLY|O_NOFOLLOW|O_NONBLOCK) or "
                 "die \"$ARGV[0]: $!\\n\"; -f $f or die \"$ARGV[0]: not a file\\n\"; "
                 "binmode $f; binmode STDOUT; local $/; print <$f>")


def writer(plan: HostPlan, path: str) -> str:
    """The account other than root that can change the directory holding `path` (a managed
    file or directory), or "" when only root can: root writes there as that account."""
    dirs = {d.path: d for d in plan.directories}
    parent = path.rsplit("/", 1)[0]
    while parent:
        d = dirs.get(parent)
        if d is not None and d.owner != "root":
            return d.owner
        parent = parent.rsplit("/", 1)[0]
    return ""


def _openclaw_check(plan: HostPlan, rt: RuntimeSpec) -> str:
    """check_openclaw_json FILE: the pinned OpenClaw's own `config validate`, as the
    service user, on the file about to replace openclaw.json."""
    user = _q(plan.service_account.user)
    merged = next(f for f in plan.files if f.merge)
    state = merged.path.rsplit("/", 1)[0]
    home = state.rsplit("/", 1)[0]
    cli = " ".join(_q(c) for c in rt.cli)
    return (f"check_openclaw_json() {{ runuser -u {user} -- env -i PATH=/usr/bin:/bin "
            f"HOME={_q(home)} OPENCLAW_STATE_DIR={_q(state)} OPENCLAW_CONFIG_PATH=\"$1\" "
            f"{cli} config validate --json; }}")


def _lock_dir(plan: HostPlan) -> str:
    return _q(plan.target(LOCK_PATH))


def _lock_check(plan: HostPlan, token: str) -> str:
    """Refuse to write unless this run still holds the lock; renew its lease."""
    lock = _lock_dir(plan)
    return (f"[ \"$(cut -f1 {lock}/holder 2>/dev/null)\" = {_q(token)} ] || "
            "{ echo 'LOST the host lock' >&2; exit 75; }\n"
            f"touch {lock}/holder")


def lock_script(plan: HostPlan, token: str, holder: str, *, force: bool = False) -> str:
    """Take the host lock: a directory made atomically, with who holds it and until when.
    A lease past its expiry (or `force`, when the holder is known to be gone) is taken over."""
    lock = _lock_dir(plan)
    return f"""umask 077
L={lock}
D=$(dirname "$L")
if [ -L "$D" ] || ! {{ mkdir -p "$D" && [ "$(stat -c %u "$D")" = "$(id -u)" ]; }}; then
  echo "host lock: $D is not a directory of $(id -un) alone; refusing to use it" >&2; exit 1
fi
chmod 0700 "$D"
now=$(date +%s)
take() {{
  printf '%s\\t%s\\t%s\\n' {_q(token)} {_q(holder)} "$((now + {LEASE_SECONDS}))" >"$L/holder" &&
    echo LOCKED
}}
if mkdir "$L" 2>/dev/null; then take; exit 0; fi
expires=$(cut -f3 "$L/holder" 2>/dev/null); expires=${{expires:-0}}
# A locked install's own command (its PID in the lock) still running: never taken over. Its
# controller gone (`force`), it ends at its next output; waited for, up to a minute.
running() {{ p=$(cat "$L/pid" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }}
if [ {1 if force else 0} = 1 ]; then
  i=0; while running && [ "$i" -lt 60 ]; do sleep 1; i=$((i + 1)); done
fi
if ! running && {{ [ {1 if force else 0} = 1 ] || [ "$now" -gt "$expires" ] ||
                   [ ! -e "$L/holder" ]; }}; then
  rm -rf "$L" && mkdir "$L" 2>/dev/null && take && exit 0
fi
printf 'BUSY\\t%s\\n' "$(cut -f2 "$L/holder" 2>/dev/null | head -c 300)"
"""


# Sections of a locked install's output after its DONE (see locked_install).
STATE_MARK = "@@openclaw-state"
GATE_MARK = "@@openclaw-gate"


def locked_install(plan: HostPlan, token: str, holder: str, staging: str, install: str,
                   probe: str, gate: str = "", timeout: float = 0, *,
                   force: bool = False) -> str:
    """The whole apply of a host in one command: take the host lock, install, read the
    host again (the probe's output after STATE_MARK, for the check that it matches its plan),
    poll the health gate until it passes or `timeout` runs out (its verdict after GATE_MARK),
    and release the lock however it ends. A lock held by another run prints BUSY (see
    lock_script) and exits 75. Each part runs in a subshell: its `set -e` and traps are its
    own, and no script is quoted twice (an argument is at most 128 KiB)."""
    lock = _lock_dir(plan)
    lines = [# Held already by this run (bootstrap locks before it reads): kept when done.
             f"if [ \"$(cut -f1 {lock}/holder 2>/dev/null)\" = {_q(token)} ]; then",
             "  mine=0; held=LOCKED",
             "else",
             f"  mine=1; held=$(sh -c {_q(lock_script(plan, token, holder, force=force))})",
             "fi",
             f"case $held in *LOCKED*) ;; *) rm -rf {_q(staging)}; "
             "printf '%s\\n' \"$held\"; exit 75 ;; esac",
             # The lock names this command: its lock is not taken over while it runs.
             f"[ \"$mine\" = 0 ] || echo $$ >{lock}/pid",
             "trap " + _q(f"[ \"$mine\" = 0 ] || {{ {unlock_script(plan, token)} >/dev/null; }}")
             + " EXIT",
             # Its controller gone, the next line it writes ends it, and the lock with it.
             "trap 'exit 129' HUP INT TERM PIPE",
             "(", install, ")", "rc=$?", "[ \"$rc\" = 0 ] || exit \"$rc\"",
             f"echo {STATE_MARK}", "(", probe, ")"]
    if gate:
        lines += [f"echo {GATE_MARK}",
                  "start=$(date +%s)",
                  f"end=$(( start + {max(0, int(timeout))} ))",
                  "while :; do",
                  "  verdict=$( (", gate, ") )",
                  "  case $verdict in PASS*|SKIP*) break ;; esac",
                  "  [ \"$(date +%s)\" -lt \"$end\" ] || break",
                  "  echo",  # a controller that is gone is noticed (SIGPIPE) while it waits
                  "  sleep 2",
                  "done",
                  # How long the host took to pass (or not): the report says so.
                  "printf 'GATE_SECONDS\\t%s\\n' $(( $(date +%s) - start ))",
                  "printf '%s\\n' \"$verdict\""]
    return "\n".join(lines) + "\n"


def sections(output: str) -> tuple[str, str | None, str | None]:
    """A locked install's output: (install, probe or None, gate verdict or None)."""
    install, _, rest = output.partition(f"\n{STATE_MARK}\n")
    if not _:
        return output, None, None
    state, found, verdict = rest.partition(f"\n{GATE_MARK}\n")
    return install, state, verdict if found else None


def unlock_script(plan: HostPlan, token: str) -> str:
    lock = _lock_dir(plan)
    return (f"if [ \"$(cut -f1 {lock}/holder 2>/dev/null)\" = {_q(token)} ]; then "
            f"rm -rf {lock}; fi; echo UNLOCKED")
