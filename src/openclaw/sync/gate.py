"""The health gate after each batch: the gateway unit active, /healthz answering, and the
health-check script's own verdict, in one command per host and poll."""

from __future__ import annotations

import shlex


def gate_script(port: int, report: str) -> str:
    r = shlex.quote(report)
    return f"""if [ ! -d /run/systemd/system ]; then echo 'SKIP	no running systemd'; exit 0; fi
state=$(systemctl is-active openclaw-gateway.service 2>/dev/null)
if [ "$state" != active ]; then
  echo "FAIL	openclaw-gateway.service is ${{state:-unknown}}"; exit 0
fi
if ! curl -fsS -o /dev/null --max-time 5 http://127.0.0.1:{port}/healthz 2>/dev/null; then
  echo 'FAIL	/healthz does not answer on port {port}'; exit 0
fi
systemctl start openclaw-health-check.service >/dev/null 2>&1
if grep -q '"healthy": true' {r} 2>/dev/null; then echo PASS; else
  echo "FAIL	the health check says unhealthy ($(grep -o '"mode": "[A-Z]*"' {r} 2>/dev/null))"
fi
"""


def verdict(output: str) -> tuple[str, str]:
    """('pass' | 'skip' | 'fail', reason)."""
    for line in output.splitlines():
        if line == "PASS":
            return "pass", ""
        if line.startswith("SKIP\t"):
            return "skip", line.split("\t", 1)[1]
        if line.startswith("FAIL\t"):
            return "fail", line.split("\t", 1)[1]
    return "fail", "no verdict from the health gate"
