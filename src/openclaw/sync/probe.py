"""Read a host's state in one command: every managed path stat'ed and hashed, .env keys
hashed with a per-run salt (values never leave the host), units, the lock. Pure: builds the
script and parses its output."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from openclaw.compile.plan import HostPlan

LOCK_PATH = "/run/lock/openclaw-apply"


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


def _q(value: str) -> str:
    return shlex.quote(value)


def state_script(plan: HostPlan, user: str, group: str, salt: str) -> str:
    """One shell script that reports everything plan needs, one tab-separated record a line."""
    files = " ".join(_q(plan.target(f.path)) for f in plan.files)
    dirs = " ".join(_q(plan.target(d.path)) for d in plan.directories)
    secrets = " ".join(_q(plan.target(f.path)) for f in plan.files if f.sensitive)
    units = " ".join(_q(u.name) for u in plan.units)
    lock = _q(plan.target(LOCK_PATH))
    return f"""export LC_ALL=C
printf 'WHOAMI\\t%s\\n' "$(id -un)"
if [ -d /run/systemd/system ]; then echo 'SYSTEMD	1'; else echo 'SYSTEMD	0'; fi
for a in passwd:{_q(user)} group:{_q(group)}; do
  if getent "${{a%%:*}}" "${{a#*:}}" >/dev/null 2>&1; then e=1; else e=0; fi
  printf 'ACCOUNT\\t%s\\t%s\\n' "$a" "$e"
done
for p in {dirs} {files}; do
  if [ -e "$p" ] || [ -L "$p" ]; then
    if [ -L "$p" ]; then k=o; elif [ -d "$p" ]; then k=d; elif [ -f "$p" ]; then k=f; else k=o; fi
    s=-; [ "$k" = f ] && s=$(sha256sum <"$p" | cut -c1-64)
    printf 'PATH\\t%s\\t%s\\t%s\\t%s\\n' "$p" "$k" "$(stat -c '%a	%U	%G' "$p")" "$s"
  else
    printf 'PATH\\t%s\\t-\\n' "$p"
  fi
done
for p in {secrets}; do
  [ -f "$p" ] || continue
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in ''|'#'*) continue ;; *=*) ;; *) continue ;; esac
    printf 'SECRET\\t%s\\t%s\\t%s\\n' "$p" "${{line%%=*}}" \\
      "$(printf '%s%s' {_q(salt)} "${{line#*=}}" | sha256sum | cut -c1-64)"
  done <"$p"
done
if [ -d /run/systemd/system ]; then
  for u in {units}; do
    printf 'UNIT\\t%s\\t%s\\t%s\\n' "$u" "$(systemctl is-enabled "$u" 2>/dev/null | head -n1)" \\
      "$(systemctl is-active "$u" 2>/dev/null | head -n1)"
  done
fi
if [ -r {lock}/holder ]; then
  printf 'LOCK\\t%s\\n' "$(cut -f2 {lock}/holder | head -c 300 | tr '\\t\\n' '  ')"
fi
echo 'END'
"""


def parse_state(plan: HostPlan, output: str) -> HostState:
    logical = {plan.target(p): p for p in
               [f.path for f in plan.files] + [d.path for d in plan.directories]}
    user, systemd, lock = "", False, ""
    paths: dict[str, PathState] = {}
    secrets: dict[str, dict[str, str]] = {}
    units: dict[str, tuple[str, str]] = {}
    accounts: dict[str, bool] = {}
    complete = False
    for line in output.splitlines():
        parts = line.split("\t")
        tag = parts[0]
        if tag == "WHOAMI":
            user = parts[1]
        elif tag == "SYSTEMD":
            systemd = parts[1] == "1"
        elif tag == "ACCOUNT":
            accounts[parts[1]] = parts[2] == "1"
        elif tag == "PATH" and parts[1] in logical:
            if parts[2] == "-":
                paths[logical[parts[1]]] = PathState(False)
            else:
                _, _, kind, mode, owner, group, sha = parts[:7]
                paths[logical[parts[1]]] = PathState(True, int(mode, 8), owner, group,
                                                     "" if sha == "-" else sha, kind)
        elif tag == "SECRET" and parts[1] in logical:
            secrets.setdefault(logical[parts[1]], {})[parts[2]] = parts[3]
        elif tag == "UNIT":
            units[parts[1]] = (parts[2] or "not-found", parts[3] or "inactive")
        elif tag == "LOCK":
            lock = parts[1].strip()
        elif tag == "END":
            complete = True
    if not complete:
        raise ValueError("host state probe ended early")
    return HostState(systemd, user, paths, secrets, units, accounts, lock)


def content_script(plan: HostPlan, paths: list[str]) -> str:
    """Fetch current content of the given (non-sensitive) files, base64, in one command."""
    targets = " ".join(_q(plan.target(p)) for p in paths)
    return f"""for p in {targets}; do
  printf 'BEGIN\\t%s\\n' "$p"
  base64 <"$p" 2>/dev/null
  printf 'END\\n'
done
"""


def parse_content(plan: HostPlan, paths: list[str], output: str) -> dict[str, bytes]:
    import base64
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
