"""The one command that reads a host's status, and its parser. Pure."""

from __future__ import annotations

import base64
import json
import shlex
from dataclasses import dataclass, field
from typing import Any

STALE_FACTOR = 3  # a report older than this many health-check intervals is stale


@dataclass(frozen=True)
class Budget:
    name: str
    provider: str
    used: int
    limit: int
    ratio: float


@dataclass(frozen=True)
class HostStatus:
    host: str
    region: str
    error: str = ""  # unreachable, or the output was unreadable
    healthy: bool | None = None  # None: no report yet
    mode: str = ""
    error_rate: float | None = None
    age: int | None = None  # seconds since the last health check, by the host's clock
    stale: bool = False
    failing: tuple[str, ...] = ()  # checks that failed, "name: detail"
    breakers: dict[str, str] = field(default_factory=dict)  # target -> CLOSED/OPEN/HALF_OPEN
    budgets: tuple[Budget, ...] = ()
    active: tuple[str, ...] = ()  # providers the budget check left in force
    # deployment.failover.replicate: the peer holding this host's newest replica, its age
    # (None: never replicated) and whether it is older than the rpo
    replica_peer: str = ""
    replica_age: int | None = None
    replica_stale: bool = False

    @property
    def state(self) -> str:
        """One word for the table: ok, degraded, unhealthy, stale, no report, unreachable."""
        if self.error:
            return "unreachable"
        if self.healthy is None:
            return "no report"
        if self.stale:
            return "stale"
        if not self.healthy:
            return "unhealthy"
        return "ok" if self.mode in ("", "FULL") else "degraded"


def status_script(root: str) -> str:
    r = root.rstrip("/") or ""
    report = shlex.quote(f"{r}/logs/health-check.json")
    budgets = shlex.quote(f"{r}/state/budgets.state")
    active = shlex.quote(f"{r}/state/active-providers")
    replica = shlex.quote(f"{r}/state/replica")
    # Files the service account writes, read by root: never through a link, never whole.
    return f"""printf 'NOW\\t%s\\n' "$(date +%s)"
for pair in REPORT:{report} BUDGETS:{budgets} ACTIVE:{active} REPLICA:{replica}; do
  f=${{pair#*:}}
  if [ -f "$f" ] && [ ! -L "$f" ]; then
    printf '%s\\t' "${{pair%%:*}}"; head -c 1048576 "$f" | base64 -w0; echo
  fi
done
echo END
"""


def parse(host: str, region: str, output: str, interval: float,
          replica: tuple[str, float] | None = None) -> HostStatus:
    """replica: the peer and the rpo when the host replicates (deployment.failover)."""
    parts: dict[str, str] = {}
    for line in output.splitlines():
        tag, _, value = line.partition("\t")
        parts[tag] = value
    if "END" not in parts or "NOW" not in parts:
        return HostStatus(host, region, error="the status command ended early")
    now = int(parts["NOW"])
    budgets = tuple(_budgets(_text(parts.get("BUDGETS", ""))))
    active = tuple(_text(parts.get("ACTIVE", "")).split())
    repl: dict[str, Any] = {}
    if replica is not None:
        at = _text(parts.get("REPLICA", "")).split()
        age = max(now - int(at[0]), 0) if at and at[0].isdigit() else None
        repl = {"replica_peer": replica[0], "replica_age": age,
                "replica_stale": age is None or age > replica[1]}
    if "REPORT" not in parts:
        return HostStatus(host, region, budgets=budgets, active=active, **repl)
    try:
        doc: dict[str, Any] = json.loads(_text(parts["REPORT"]))
        age = max(now - int(doc["timestamp"]), 0)
        return HostStatus(
            host, region, healthy=bool(doc["healthy"]), mode=str(doc.get("mode", "")),
            error_rate=float(doc["error_rate"]) if doc.get("error_rate") is not None
            else None, age=age, stale=age > STALE_FACTOR * interval,
            failing=tuple(sorted(f"{c['name']}: {c.get('detail', '')}" for c in
                                 doc.get("checks", []) if c.get("status") == "fail")),
            breakers={k: str(v.get("state", "?")) for k, v in
                      sorted(doc.get("breakers", {}).items())},
            budgets=budgets, active=active, **repl)
    except (ValueError, KeyError, TypeError, AttributeError):
        return HostStatus(host, region, error="the health report is not readable",
                          budgets=budgets, active=active, **repl)


def _text(b64: str) -> str:
    return base64.b64decode(b64).decode("utf-8", "replace") if b64 else ""


def _budgets(text: str) -> list[Budget]:
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 5:
            continue
        try:
            out.append(Budget(fields[0], fields[1], int(float(fields[2])),
                              int(float(fields[3])), float(fields[4])))
        except ValueError:
            continue
    return sorted(out, key=lambda b: (b.name, b.provider))
