"""A self-contained status page: the fleet table per region and a bar chart (inline SVG) of
budget use per provider and region. No scripts, no external resources."""

from __future__ import annotations

from html import escape

from openclaw.status.probe import HostStatus
from openclaw.status.render import (
    age,
    budget_use,
    by_region,
    open_breakers,
    usage_by_provider_and_region,
)

COLORS = ("#1c7ed6", "#f08c00", "#2f9e44", "#ae3ec9", "#e03131", "#0c8599")
STATE_COLORS = {"ok": "#2f9e44", "degraded": "#f08c00", "unhealthy": "#e03131",
                "stale": "#868e96", "no report": "#868e96", "unreachable": "#e03131"}
STYLE = """body{font:14px system-ui,sans-serif;margin:24px;color:#212529}
h1{font-size:20px}h2{font-size:16px;margin-top:24px}
table{border-collapse:collapse;min-width:720px}th,td{border:1px solid #dee2e6;padding:4px 8px;
text-align:left}th{background:#f1f3f5}.state{font-weight:600}.detail{color:#868e96}"""


def page(hosts: list[HostStatus], title: str = "openclaw fleet status") -> str:
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{escape(title)}</h1>",
             f"<p>{sum(1 for h in hosts if h.state == 'ok')}/{len(hosts)} host(s) ok</p>"]
    for region, members in by_region(hosts).items():
        parts.append(f"<h2>{escape(region)}</h2><table id=\"region-{escape(region)}\">"
                     "<tr><th>host</th><th>state</th><th>mode</th><th>breakers</th>"
                     "<th>budget</th><th>last check</th><th>providers</th></tr>")
        for h in members:
            color = STATE_COLORS.get(h.state, "#212529")
            detail = h.error or "; ".join(h.failing)
            parts.append(
                f"<tr><td>{escape(h.host)}</td><td class=\"state\" style=\"color:{color}\">"
                f"{escape(h.state)}</td><td>{escape(h.mode or '-')}</td>"
                f"<td>{escape(open_breakers(h))}</td><td>{escape(budget_use(h))}</td>"
                f"<td>{escape(age(h.age))}</td><td>{escape(' '.join(h.active) or '-')}</td>"
                "</tr>" + (f"<tr><td></td><td colspan=\"6\" class=\"detail\">"
                           f"{escape(detail)}</td></tr>" if detail else ""))
        parts.append("</table>")
    parts.append("<h2>Budget use per provider and region</h2>")
    parts.append(chart(hosts))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def chart(hosts: list[HostStatus]) -> str:
    """Grouped bars: one group per provider, one bar per region, height = share used."""
    usage = usage_by_provider_and_region(hosts)
    regions = sorted({h.region for h in hosts})
    if not usage:
        return "<p id=\"budget-chart\">no budget use reported yet</p>"
    bar, gap, plot_h, left, top = 28, 24, 200, 48, 16
    group_w = bar * len(regions) + gap
    width = left + group_w * len(usage) + 16
    height = top + plot_h + 64
    svg = [f"<svg id=\"budget-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" "
           f"height=\"{height + 20 * len(regions)}\" role=\"img\" "
           "aria-label=\"budget use per provider and region\">"]
    for pct in (0, 50, 100):
        y = top + plot_h - plot_h * pct / 100
        svg.append(f"<line x1=\"{left}\" x2=\"{width - 8}\" y1=\"{y:.0f}\" y2=\"{y:.0f}\" "
                   "stroke=\"#dee2e6\"/>")
        svg.append(f"<text x=\"{left - 6}\" y=\"{y + 4:.0f}\" text-anchor=\"end\" "
                   f"font-size=\"11\">{pct}%</text>")
    for g, (provider, cells) in enumerate(usage.items()):
        x0 = left + g * group_w + gap / 2
        for i, region in enumerate(regions):
            if region not in cells:
                continue
            ratio = min(cells[region], 1.0)
            h = plot_h * ratio
            svg.append(f"<rect x=\"{x0 + i * bar:.0f}\" y=\"{top + plot_h - h:.0f}\" "
                       f"width=\"{bar - 4}\" height=\"{h:.0f}\" "
                       f"fill=\"{COLORS[i % len(COLORS)]}\"><title>{escape(provider)} in "
                       f"{escape(region)}: {cells[region]:.0%}</title></rect>")
        svg.append(f"<text x=\"{x0 + bar * len(regions) / 2:.0f}\" y=\"{top + plot_h + 18}\" "
                   f"text-anchor=\"middle\" font-size=\"12\">{escape(provider)}</text>")
    for i, region in enumerate(regions):
        y = top + plot_h + 44 + 20 * i
        svg.append(f"<rect x=\"{left}\" y=\"{y - 10}\" width=\"12\" height=\"12\" "
                   f"fill=\"{COLORS[i % len(COLORS)]}\"/><text x=\"{left + 18}\" y=\"{y}\" "
                   f"font-size=\"12\">{escape(region)}</text>")
    svg.append("</svg>")
    return "\n".join(svg)
