"""Reading and showing a host's status, without hosts: the one command's output parsed, the
tables, the JSON and the page."""

from __future__ import annotations

import base64
import json

import pytest

from openclaw.status import html, probe, render

NOW = 1_800_000_000
REPORT = {"timestamp": NOW - 90, "host": "h1", "region": "us", "healthy": True,
          "mode": "DEGRADED", "error_rate": 0.02,
          "checks": [{"name": "gateway", "status": "ok", "detail": "200"},
                     {"name": "provider:b", "status": "fail", "detail": "HTTP 503"}],
          "breakers": {"b": {"state": "OPEN", "failures": 3}, "a": {"state": "CLOSED"}}}
BUDGETS = "daily a 82000 100000 0.82\ndaily b 10 100000 0.0001\nbroken line\n"


def output(report: object = REPORT, budgets: str | None = BUDGETS, active: str = "a\n",
           end: bool = True) -> str:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()
    lines = [f"NOW\t{NOW}"]
    if report is not None:
        lines.append("REPORT\t" + b64(report if isinstance(report, str) else json.dumps(report)))
    if budgets is not None:
        lines.append("BUDGETS\t" + b64(budgets))
    lines.append("ACTIVE\t" + b64(active))
    if end:
        lines.append("END")
    return "\n".join(lines) + "\n"


def test_a_report_is_read_whole() -> None:
    s = probe.parse("h1", "us", output(), interval=300)
    assert (s.state, s.mode, s.age, s.stale) == ("degraded", "DEGRADED", 90, False)
    assert s.breakers == {"a": "CLOSED", "b": "OPEN"}
    assert s.failing == ("provider:b: HTTP 503",)
    assert [(b.provider, b.used, b.ratio) for b in s.budgets] == [("a", 82000, 0.82),
                                                                  ("b", 10, 0.0001)]
    assert s.active == ("a",)


@pytest.mark.parametrize("out, interval, state, error", [
    (output(report={**REPORT, "mode": "FULL"}), 300, "ok", ""),
    (output(report={**REPORT, "healthy": False}), 300, "unhealthy", ""),
    (output(report={**REPORT, "mode": "FULL"}), 20, "stale", ""),  # 90 s > 3 x 20 s
    (output(report=None), 300, "no report", ""),
    (output(report="{not json"), 300, "unreachable", "the health report is not readable"),
    (output(end=False), 300, "unreachable", "the status command ended early"),
])
def test_states(out: str, interval: float, state: str, error: str) -> None:
    s = probe.parse("h1", "us", out, interval=interval)
    assert (s.state, s.error) == (state, error)


def fleet() -> list[probe.HostStatus]:
    return [probe.parse("h2", "eu", output(report={**REPORT, "mode": "FULL"},
                                           budgets="daily a 50 100 0.5\n"), 300),
            probe.parse("h1", "us", output(), 300),
            probe.HostStatus("h3", "us", error="cannot connect to h3:22")]


def test_text_has_a_table_per_region_and_says_why() -> None:
    text = render.text(fleet())
    assert text.index("eu: 1/1 ok") < text.index("us: 0/2 ok")
    assert "  h1    degraded     DEGRADED  b OPEN    daily/a 82%  1m ago      a\n" in text
    assert "  h3    unreachable  -         -         -            -           -\n" in text
    assert "h3: cannot connect to h3:22" in text
    assert text.endswith("status: 1/3 host(s) ok\n")


def test_json_is_stable_and_complete() -> None:
    doc = json.loads(render.jsondoc(fleet()))
    assert doc["regions"] == {"eu": {"hosts": 1, "ok": 1}, "us": {"hosts": 2, "ok": 0}}
    h1 = next(h for h in doc["hosts"] if h["host"] == "h1")
    assert h1["last_check_age_seconds"] == 90 and h1["breakers"]["b"] == "OPEN"
    assert render.jsondoc(fleet()) == render.jsondoc(fleet())  # same fleet, same bytes
    assert [h["host"] for h in doc["hosts"]] == ["h2", "h1", "h3"]  # inventory order


def test_page_is_self_contained_with_table_and_chart() -> None:
    page = html.page(fleet())
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert page.count("<table") == 2 and 'id="budget-chart"' in page
    assert render.usage_by_provider_and_region(fleet()) == {"a": {"eu": 0.5, "us": 0.82},
                                                           "b": {"us": 0.0001}}
    # One bar per provider and region that reported, sized by its share.
    assert page.count("<rect") == 3 + 2  # bars + legend
    assert "a in us: 82%" in page
    hostile = probe.HostStatus("<img src=x>", "us", error="<b>boom</b>")
    assert "<img src=x>" not in html.page([hostile])
