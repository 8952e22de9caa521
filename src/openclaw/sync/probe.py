"""Read a host's state in one command: every managed path stat'ed and hashed, .env keys
hashed with a per-run salt (values never leave the host), units, the lock. Pure: builds the
script and parses its output."""

from __future__ import annotations

import base64
import re
import shlex
from dataclasses import dataclass, field

from openclaw.compile import replication
from openclaw.compile.plan import MODE_RECORD, MODES, HostPlan

# In a directory only root can write (made 0700 by the first apply): /run/lock is open to
# every local user, who could hold a fake lock or plant a link as its holder file.
LOCK_PATH = "/run/openclaw/apply-lock"
# Paths an apply wrote before its unit steps ran: written first, removed after the steps, so
# an apply cut short in between is finished by the next one (root-only, beside generations).
GENERATIONS = "/var/lib/openclaw/generations"
PENDING_PATH = f"{GENERATIONS}/pending"
# In each generation: every file the apply left (path, sha256, mode owner group) and every
# unit it enabled, so that the next plan can remove what openclaw.yaml dropped and tell
# hand edits from changes of the config.
RECORD = "managed"



@dataclass(frozen=True)
class PathState:
    exists: bool
    mode: int = 0
    owner: str = ""
    group: str = ""
    sha256: str = ""
    kind: str = ""  # "f" file, "d" directory, "o" other


@dataclass(frozen=True)
class HostState:
    systemd: bool
    user: str
    paths: dict[str, PathState] = field(default_factory=dict)  # by logical path
    secret_hashes: dict[str, dict[str, str]] = field(default_factory=dict)
    units: dict[str, tuple[str, str]] = field(default_factory=dict)  # (enabled, active)
    accounts: dict[str, bool] = field(default_factory=dict)  # "passwd:x"/"group:x" -> exists
    lock: str = ""
    # Merged files (by logical path): their current bytes, and the budget check's providers
    # in force for each.
    merge_current: dict[str, bytes] = field(default_factory=dict)
    active: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The pinned OpenClaw: the version found where the plan wants it ("" when absent), and
    # the version directory `current` points at (None when the plan has no runtime).
    runtime: str | None = None
    runtime_current: str = ""
    pending: frozenset[str] = frozenset()  # logical paths from PENDING_PATH
    # path -> (sha256, "mode owner group") as the last apply left it; directories: ("", ...)
    managed: dict[str, tuple[str, str]] = field(default_factory=dict)
    managed_units: frozenset[str] = frozenset()
    managed_dirs: dict[str, bool] = field(default_factory=dict)  # path -> disposable
    managed_accounts: tuple[tuple[str, str], ...] = ()  # (user, group), besides the agent's
    mode: str = "FULL"  # the degradation mode in force (mode.sh's record)
    # deployment.failover.replicate: the host's replication key and SSH host key (public
    # halves), and the current pairing files (by logical path)
    replication_key: str = ""
    host_key: str = ""
    pair_current: dict[str, str] = field(default_factory=dict)


def _q(value: str) -> str:
    return shlex.quote(value)


def state_script(plan: HostPlan, salt: str, make_key: bool = False) -> str:
    """One shell script that reports everything plan needs. Few processes: one `stat` and one
    `sha256sum` for all paths, one `systemctl` per question (forks, not bytes, are the cost
    on a busy host). make_key: create the host's replication key when it has none (apply:
    the peers' authorized_keys in the same plan need its public half)."""
    files = " ".join(_q(plan.target(f.path)) for f in plan.files)
    retired = " ".join(_q(plan.target(p)) for p in plan.retired)
    accounts = "\n".join(
        line for a in plan.accounts for line in (
            f"getent passwd {_q(a.user)} >/dev/null 2>&1 && echo 'ACCOUNT\tpasswd:{a.user}\t1'"
            f" || echo 'ACCOUNT\tpasswd:{a.user}\t0'",
            f"getent group {_q(a.group)} >/dev/null 2>&1 && echo 'ACCOUNT\tgroup:{a.group}\t1'"
            f" || echo 'ACCOUNT\tgroup:{a.group}\t0'"))
    dirs = " ".join(_q(plan.target(d.path)) for d in plan.directories)
    secrets = " ".join(_q(plan.target(f.path)) for f in plan.files if f.sensitive)
    units = " ".join(_q(u.name) for u in plan.units)
    lock = _q(plan.target(LOCK_PATH))
    mode = _q(plan.target(MODE_RECORD))
    merged = " ".join(_q(plan.target(f.path)) for f in plan.files if f.merge)
    active = " ".join(_q(plan.target(f.merge_active)) for f in plan.files if f.merge_active)
    return f"""export LC_ALL=C
printf 'WHOAMI\\t%s\\n' "$(id -un)"
if [ -d /run/systemd/system ]; then echo 'SYSTEMD	1'; else echo 'SYSTEMD	0'; fi
{accounts}
stat -c 'STAT	%n	%F	%a	%U	%G' -- {dirs} {files} {retired} 2>/dev/null
# Never through a link: the service account can plant one where it may write.
for p in {files}; do [ -L "$p" ] || [ ! -f "$p" ] || printf '%s\\0' "$p"; done |
  xargs -0 -r sha256sum -- 2>/dev/null
for p in {secrets}; do
  [ -f "$p" ] && [ ! -L "$p" ] || continue
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in ''|'#'*) continue ;; *=*) ;; *) continue ;; esac
    printf 'SECRET\\t%s\\t%s\\t' "$p" "${{line%%=*}}"
    printf '%s%s' {_q(salt)} "${{line#*=}}" | sha256sum
  done <"$p"
done
for p in {merged}; do
  if [ -f "$p" ] && [ ! -L "$p" ]; then printf 'MERGE\t%s\t' "$p"; base64 -w0 <"$p"; echo; fi
done
for p in {active}; do
  if [ -f "$p" ] && [ ! -L "$p" ]; then printf 'ACTIVE\t%s\t%s\n' "$p" "$(tr '\n\t' '  ' <"$p")"; fi
done
if [ -d /run/systemd/system ]; then
  systemctl show -p Id -p ActiveState -p UnitFileState -- {units} 2>/dev/null
fi
if [ -f {_q(plan.target(PENDING_PATH))} ]; then
  head -c 65536 {_q(plan.target(PENDING_PATH))} | sed 's/^/PENDING\t/'; echo
fi
if [ -f {mode} ]; then printf 'MODE\t%s\n' "$(head -c 64 {mode} | cut -d ' ' -f 1)"; fi
{_record_probe(plan)}{_runtime_probe(plan)}{_replication_probe(plan, make_key)}\
if [ -r {lock}/holder ]; then
  printf 'LOCK\\t%s\\n' "$(cut -f2 {lock}/holder | head -c 300 | tr '\\t\\n' '  ')"
fi
echo 'END'
"""


def _record_probe(plan: HostPlan) -> str:
    """The last generation's record, and the state of what it names: files stat'ed and
    hashed (never through a link), units asked about."""
    gen = _q(plan.target(GENERATIONS))
    prefix = _q("" if plan.root == "/" else plan.root.rstrip("/"))
    return f"""if c=$(cat {gen}/current 2>/dev/null) && [ -f {gen}/"$c"/{RECORD} ]; then
  r={gen}/"$c"/{RECORD}
  head -c 1048576 "$r" | sed 's/^/MANAGED\t/'
  # One stat and one sha256sum for every recorded path (a fork per path was most of the
  # cost of reading a host in sync).
  paths=$(awk -F '\t' -v p={prefix} '$1 == "F" || $1 == "D" {{print p $2}}' "$r")
  if [ -n "$paths" ]; then
    printf '%s\\n' "$paths" | tr '\\n' '\\0' |
      xargs -0 stat -c 'STAT	%n	%F	%a	%U	%G' -- 2>/dev/null
    printf '%s\\n' "$paths" | while IFS= read -r p; do
      [ -L "$p" ] || [ ! -f "$p" ] || printf '%s\\0' "$p"
    done | xargs -0 -r sha256sum -- 2>/dev/null
  fi
  if [ -d /run/systemd/system ]; then
    awk -F '\t' '$1 == "U" {{print $2}}' "$r" | xargs -r systemctl show -p Id \
      -p ActiveState -p UnitFileState -- 2>/dev/null
  fi
fi
"""


def _runtime_probe(plan: HostPlan) -> str:
    rt = plan.runtime
    if rt is None:
        return ""
    if rt.install == "none":
        cmd = " ".join(_q(c) for c in rt.cli)
        return (f"printf 'RUNTIME\\t%s\\t\\n' \"$({cmd} --version 2>/dev/null | head -n1 | "
                "tr -d '\\t' | head -c 200)\"\n")
    d = _q(plan.target(rt.directory))
    current = _q(plan.target(rt.directory.rsplit("/", 1)[0] + "/current"))
    return (f"v=''; [ -f {d}/.complete ] && v=$(head -c 100 {d}/.complete | tr -d '\\t\\n')\n"
            f"printf 'RUNTIME\\t%s\\t%s\\n' \"$v\" \"$(basename \"$(readlink {current})\" "
            "2>/dev/null)\"\n")


_KIND = {"regular file": "f", "regular empty file": "f", "directory": "d"}
_SHA = re.compile(r"^([0-9a-f]{64})  (.*)$")


def parse_state(plan: HostPlan, output: str) -> HostState:
    managed: dict[str, tuple[str, str]] = {}
    managed_units: set[str] = set()
    managed_dirs: dict[str, bool] = {}
    managed_accounts: list[tuple[str, str]] = []
    for line in output.splitlines():
        parts = line.split("\t")
        if parts[0] == "MANAGED" and len(parts) >= 4 and parts[1] == "F":
            managed[parts[2]] = (parts[3], " ".join(parts[4:7]))
        elif parts[0] == "MANAGED" and len(parts) == 3 and parts[1] == "U":
            managed_units.add(parts[2])
        elif parts[0] == "MANAGED" and len(parts) in (4, 7) and parts[1] == "D":
            managed_dirs[parts[2]] = parts[3] == "1"
            if len(parts) == 7:  # with the mode and owner the last apply left
                managed[parts[2]] = ("", " ".join(parts[4:7]))
        elif parts[0] == "MANAGED" and len(parts) == 4 and parts[1] == "A":
            managed_accounts.append((parts[2], parts[3]))
    logical = {plan.target(p): p for p in
               [f.path for f in plan.files] + [d.path for d in plan.directories]
               + list(plan.retired) + list(managed) + list(managed_dirs)}
    user, systemd, lock = "", False, ""
    stats: dict[str, tuple[str, int, str, str]] = {}
    hashes: dict[str, str] = {}
    secrets: dict[str, dict[str, str]] = {}
    unit_states: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    accounts: dict[str, bool] = {}
    actives = {plan.target(f.merge_active): f.path for f in plan.files if f.merge_active}
    merge_current: dict[str, bytes] = {}
    active: dict[str, tuple[str, ...]] = {}
    complete = False
    runtime: str | None = None
    runtime_current = ""
    pending: set[str] = set()
    host_mode = "FULL"
    repl_key, host_key = parse_keys(output)
    pair_current: dict[str, str] = {}
    for line in output.splitlines():
        sha = _SHA.match(line)
        if sha and sha.group(2) in logical:
            hashes[logical[sha.group(2)]] = sha.group(1)
            continue
        parts = line.split("\t")
        tag = parts[0]
        if tag == "WHOAMI":
            user = parts[1]
        elif tag == "SYSTEMD":
            systemd = parts[1] == "1"
        elif tag == "ACCOUNT":
            accounts[parts[1]] = parts[2] == "1"
        elif tag == "STAT" and parts[1] in logical:
            stats[logical[parts[1]]] = (_KIND.get(parts[2], "o"), int(parts[3], 8), parts[4],
                                        parts[5])
        elif tag == "SECRET" and parts[1] in logical:
            secrets.setdefault(logical[parts[1]], {})[parts[2]] = parts[3].split()[0]
        elif line.startswith("Id="):
            current = unit_states.setdefault(line[3:], {})
        elif line.startswith(("ActiveState=", "UnitFileState=")):
            key, _, value = line.partition("=")
            current[key] = value
        elif tag == "MERGE" and parts[1] in logical:
            merge_current[logical[parts[1]]] = base64.b64decode(parts[2])
        elif tag == "ACTIVE" and parts[1] in actives:
            active[actives[parts[1]]] = tuple(parts[2].split())
        elif tag == "LOCK":
            lock = parts[1].strip()
        elif tag == "RUNTIME" and len(parts) >= 3:
            runtime, runtime_current = parts[1], parts[2]
        elif tag == "PENDING" and len(parts) == 2 and parts[1]:
            pending.add(parts[1])
        elif tag == "MODE" and len(parts) == 2 and parts[1] in MODES:
            host_mode = parts[1]
        elif tag == "PAIR" and len(parts) == 3 and parts[1] in logical:
            pair_current[logical[parts[1]]] = base64.b64decode(parts[2]).decode(
                errors="replace")
        elif tag == "END":
            complete = True
    if not complete:
        raise ValueError("host state probe ended early")
    paths: dict[str, PathState] = {}
    for path in logical.values():
        if path in stats:
            kind, mode, owner, group = stats[path]
            paths[path] = PathState(True, mode, owner, group, hashes.get(path, ""), kind)
        else:
            paths[path] = PathState(False)
    names = [u.name for u in plan.units] + sorted(managed_units)
    units = {name: (unit_states.get(name, {}).get("UnitFileState") or "not-found",
                    unit_states.get(name, {}).get("ActiveState") or "inactive")
             for name in names} if systemd else {}
    return HostState(systemd, user, paths, secrets, units, accounts, lock, merge_current,
                     active, runtime, runtime_current, frozenset(pending), managed,
                     frozenset(managed_units), managed_dirs, tuple(managed_accounts), host_mode,
                     repl_key, host_key, pair_current)


def keys_script() -> str:
    """A host outside the run: its replication key and SSH host key (public halves)."""
    return _keys(_q(replication.KEY)) + "echo END\n"


def parse_keys(output: str) -> tuple[str, str]:
    """(replication key, host key) from keys_script or state_script output."""
    repl = host = ""
    for line in output.splitlines():
        tag, _, value = line.partition("\t")
        if tag == "REPLKEY":
            repl = replication.clean_key(value)
        elif tag == "HOSTKEY":
            host = replication.clean_key(value)
    return repl, host


def _keys(key: str) -> str:
    return f"""if [ -f {key}.pub ]; then
  printf 'REPLKEY\\t%s\\n' "$(head -n 1 {key}.pub | head -c 2000)"
fi
if [ -f {replication.HOST_KEY} ]; then
  printf 'HOSTKEY\\t%s\\n' "$(head -n 1 {replication.HOST_KEY} | head -c 2000)"
fi
"""


def _replication_probe(plan: HostPlan, make_key: bool) -> str:
    rep = plan.replication
    if rep is None:
        return ""
    key = _q(plan.target(replication.KEY))
    pairs = " ".join(_q(plan.target(p)) for p in (rep.authorized_keys, rep.known_hosts))
    keygen = (f"ssh-keygen -q -t ed25519 -N '' -C {_q(replication.MARK + plan.host)} "
              f"-f {key} </dev/null >/dev/null")
    made = (f"""if [ ! -f {key} ]; then
  mkdir -p -m 0700 {_q(plan.target(replication.KEY_DIR))} && (umask 077 && {keygen}) || true
fi
""" if make_key else "")
    return made + _keys(key) + f"""for p in {pairs}; do
  [ -f "$p" ] && [ ! -L "$p" ] || continue
  printf 'PAIR\\t%s\\t' "$p"; head -c 65536 "$p" | base64 -w0; echo
done
"""


def content_script(plan: HostPlan, paths: list[str]) -> str:
    """Fetch current content of the given (non-sensitive) files, base64, in one command."""
    targets = " ".join(_q(plan.target(p)) for p in paths)
    return f"""for p in {targets}; do
  printf 'BEGIN\\t%s\\n' "$p"
  [ -L "$p" ] || base64 <"$p" 2>/dev/null
  printf 'END\\n'
done
"""


def parse_content(plan: HostPlan, paths: list[str], output: str) -> dict[str, bytes]:
    logical = {plan.target(p): p for p in paths}
    out: dict[str, bytes] = {}
    current: str | None = None
    chunks: list[str] = []
    for line in output.splitlines():
        if line.startswith("BEGIN\t"):
            current, chunks = logical.get(line[6:]), []
        elif line == "END" and current is not None:
            out[current] = base64.b64decode("".join(chunks))
            current = None
        elif current is not None:
            chunks.append(line)
    return out
