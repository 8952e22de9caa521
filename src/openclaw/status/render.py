"""Status as text tables per region and as JSON. Sorted, so the same fleet prints the same."""

from __future__ import annotations

import json
from typing import Any

from openclaw.status.probe import HostStatus

FORMAT_VERSION = 1


def by_region(hosts: list[HostStatus]) -> dict[str, list[HostStatus]]:
    out: dict[str, list[HostStatus]] = {}
    for h in hosts:
        out.setdefault(h.region, []).append(h)
    return {r: sorted(v, key=lambda h: h.host) for r, v in out.items()}


def age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def budget_use(h: HostStatus) -> str:
    """The fullest budget: 'daily_limit/minimax 82%'."""
    if not h.budgets:
        return "-"
    top = max(h.budgets, key=lambda b: (b.ratio, b.name, b.provider))
    return f"{top.name}/{top.provider} {top.ratio:.0%}"


def open_breakers(h: HostStatus) -> str:
    opened = [f"{k} {v}" for k, v in h.breakers.items() if v != "CLOSED"]
    return ", ".join(opened) if opened else ("all closed" if h.breakers else "-")


def replica(h: HostStatus) -> str:
    """'on node2 40s ago', with 'OVER RPO' when it is older than deployment.failover.rpo."""
    if not h.replica_peer:
        return "-"
    when = "never" if h.replica_age is None else age(h.replica_age)
    return f"on {h.replica_peer} {when}" + (" OVER RPO" if h.replica_stale else "")


def text(hosts: list[HostStatus]) -> str:
    lines: list[str] = []
    replicated = any(h.replica_peer for h in hosts)
    head = ("HOST", "STATE", "MODE", "BREAKERS", "BUDGET", "LAST CHECK", "PROVIDERS",
            *(("REPLICA",) if replicated else ()))
    for region, members in by_region(hosts).items():
        rows = [head] + [(h.host, h.state, h.mode or "-", open_breakers(h), budget_use(h),
                          age(h.age), " ".join(h.active) or "-",
                          *((replica(h),) if replicated else ())) for h in members]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        ok = sum(1 for h in members if h.state == "ok")
        lines.append(f"{region}: {ok}/{len(members)} ok")
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                  for r in rows]
        for h in members:
            detail = h.error or "; ".join(h.failing)
            if detail:
                lines.append(f"  {h.host}: {detail}")
        lines.append("")
    total = sum(1 for h in hosts if h.state == "ok")
    lines.append(f"status: {total}/{len(hosts)} host(s) ok")
    return "\n".join(lines) + "\n"


def as_dict(h: HostStatus) -> dict[str, Any]:
    return {"host": h.host, "region": h.region, "state": h.state, "error": h.error or None,
            "healthy": h.healthy, "mode": h.mode or None, "error_rate": h.error_rate,
            "last_check_age_seconds": h.age, "stale": h.stale, "failing": list(h.failing),
            "breakers": h.breakers, "active_providers": list(h.active),
            "replica": {"peer": h.replica_peer, "age_seconds": h.replica_age,
                        "over_rpo": h.replica_stale} if h.replica_peer else None,
            "budgets": [{"name": b.name, "provider": b.provider, "used_tokens": b.used,
                         "limit_tokens": b.limit, "used_ratio": b.ratio} for b in h.budgets]}


def jsondoc(hosts: list[HostStatus]) -> str:
    regions = {r: {"hosts": len(m), "ok": sum(1 for h in m if h.state == "ok")}
               for r, m in by_region(hosts).items()}
    doc = {"format_version": FORMAT_VERSION, "regions": regions,
           "hosts": [as_dict(h) for m in by_region(hosts).values() for h in m]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def usage_by_provider_and_region(hosts: list[HostStatus]) -> dict[str, dict[str, float]]:
    """provider -> region -> the fullest budget's used ratio on any host of the region."""
    out: dict[str, dict[str, float]] = {}
    for h in hosts:
        for b in h.budgets:
            cell = out.setdefault(b.provider, {})
            cell[h.region] = max(cell.get(h.region, 0.0), b.ratio)
    return {p: dict(sorted(r.items())) for p, r in sorted(out.items())}
