"""The health gate after each batch: the gateway unit active, /healthz answering, and the
health-check script's own verdict, in one command per host and poll."""

from __future__ import annotations

import shlex


def gate_script(port: int, report: str, *, services: tuple[str, ...] = (
        "openclaw-gateway.service",), llm_port: int | None = None) -> str:
    """services: units that must be active (the LLM gateway and its Redis when they run);
    llm_port: the LLM gateway, which must answer its liveness probe."""
    r = shlex.quote(report)
    llm = "" if llm_port is None else f"""
if ! curl -fsS -o /dev/null --max-time 5 http://127.0.0.1:{llm_port}/health/liveliness \\
    2>/dev/null; then
  echo 'FAIL	the LLM gateway does not answer on port {llm_port}'; exit 0
fi"""
    return f"""if [ ! -d /run/systemd/system ]; then echo 'SKIP	no running systemd'; exit 0; fi
for unit in {" ".join(shlex.quote(s) for s in services)}; do
  state=$(systemctl is-active "$unit" 2>/dev/null)
  if [ "$state" != active ]; then
    echo "FAIL	$unit is ${{state:-unknown}}"; exit 0
  fi
done
if ! curl -fsS -o /dev/null --max-time 5 http://127.0.0.1:{port}/healthz 2>/dev/null; then
  echo 'FAIL	/healthz does not answer on port {port}'; exit 0
fi{llm}
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
