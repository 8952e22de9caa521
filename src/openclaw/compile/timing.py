"""How long a health-check run can take at worst, from the retry and timeout settings: the
unit's start timeout is sized from it, and validate says when it passes the interval."""

from __future__ import annotations

from openclaw.model import Config

# Host checks and alert deliveries (curl --max-time 10 each) on top of the probes.
MARGIN = 30.0


def probe_worst(timeout: float, attempts: int, backoff: str, initial: float,
                max_delay: float) -> float:
    """Every attempt timing out, with the pauses between them (health-check.sh's probe)."""
    total, delay = attempts * timeout, initial
    for _ in range(attempts - 1):
        total += delay
        if backoff == "exponential":
            delay = min(delay * 2, max_delay)
        elif backoff == "linear":
            delay = min(delay + initial, max_delay)
    return total


def health_check_worst(cfg: Config) -> float:
    r, hc = cfg.retry, cfg.health_checks

    def probe(timeout: float) -> float:
        return probe_worst(timeout, r.max_attempts, r.backoff, r.initial_delay, r.max_delay)
    # liveness (and the "still starting" look), readiness (and its body), each provider
    gateway = probe(hc.liveness.timeout) + hc.liveness.timeout \
        + probe(hc.readiness.timeout) + hc.readiness.timeout
    providers = sum(probe(p.timeout) for p in cfg.routing.providers if p.endpoint)
    return gateway + providers + MARGIN
