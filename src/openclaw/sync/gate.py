"""The health gate after each batch, in one command per host and poll: the units active, and
the gateway asked directly: /healthz live and /readyz ready (a gateway still starting is
polled again until the gate's timeout), the LLM gateway's liveness. The periodic health
check (providers, breakers, budgets) is not part of it: a provider's cooldown must not fail
the rollout of a fix."""

from __future__ import annotations

import shlex


def gate_script(port: int, *, services: tuple[str, ...] = ("openclaw-gateway.service",),
                llm_port: int | None = None) -> str:
    """services: units that must be active (the LLM gateway and its Redis when they run);
    llm_port: the LLM gateway, which must answer its liveness probe."""
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
fi
ready=$(curl -sS --max-time 5 http://127.0.0.1:{port}/readyz 2>/dev/null | head -c 4000)
case $ready in
  *'"ready":true'*) ;;
  *) echo "FAIL	/readyz: not ready ($(printf '%s' "$ready" |
       grep -o '"failing":\\[[^]]*\\]' | head -c 200))"; exit 0 ;;
esac{llm}
echo PASS
"""


def seconds(output: str) -> int | None:
    """How long the gate polled on the host (a locked install prints it)."""
    for line in output.splitlines():
        if line.startswith("GATE_SECONDS\t") and line[13:].isdigit():
            return int(line[13:])
    return None


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
