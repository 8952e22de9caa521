"""openclaw's usage records, written by the LLM gateway (LiteLLM's custom-callback mechanism:
litellm_settings.callbacks in llm-gateway.yaml names `openclaw_usage.recorder`).

One line per model request, tab-separated, in one file per UTC day (usage-YYYY-MM-DD.tsv in
the directory usage.json names), the format the budget check reads:

    TS  PROVIDER  MODEL_GROUP  TOKENS_IN  TOKENS_OUT  COST  OUTCOME  STATUS  LATENCY_MS

TS: epoch seconds (UTC) the request ended; PROVIDER: openclaw's provider name (the
deployment's model_info id); COST: US dollars from routing.providers[].price, "-" without
prices; OUTCOME: ok, cached (no provider was asked) or error; STATUS: the HTTP status the
provider answered ("-" when none). Files older than keep_days are removed. A record that
cannot be written is logged and never fails the request.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

log = logging.getLogger("openclaw_usage")
FIELDS = 9


def _settings() -> dict[str, Any]:
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "usage.json")) as fh:
        return dict(json.load(fh))


def _word(value: Any) -> str:
    """A field: no tab, newline or other control character can split a record."""
    text = "-" if value in (None, "") else str(value)
    return "".join(c if c.isprintable() else "_" for c in text)[:200]


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def record(slo: dict[str, Any], prices: dict[str, list[float]], code: Any = None) -> str:
    """One line from LiteLLM's StandardLoggingPayload; `code`: the HTTP status of a failed
    call (the payload's error_code may be the provider's own word, e.g. server_error)."""
    provider = _word(slo.get("model_id"))
    tokens_in, tokens_out = _count(slo.get("prompt_tokens")), _count(
        slo.get("completion_tokens"))
    price = prices.get(provider)
    cost = f"{(tokens_in * price[0] + tokens_out * price[1]) / 1000:.8f}" if price else "-"
    if slo.get("status") == "success":
        outcome, status = ("cached", "-") if slo.get("cache_hit") else ("ok", "200")
    else:
        outcome = "error"
        info = slo.get("error_information") or {}
        status = _word(code if isinstance(code, int) else info.get("error_code"))
    ended = slo.get("endTime")
    started = slo.get("startTime")
    ts = int(ended) if isinstance(ended, (int, float)) else int(time.time())
    latency = (str(int((ended - started) * 1000)) if isinstance(ended, (int, float))
               and isinstance(started, (int, float)) else "-")
    fields = [str(ts), provider, _word(slo.get("model_group")), str(tokens_in),
              str(tokens_out), cost, outcome, status, latency]
    return "\t".join(fields) + "\n"


class Recorder(CustomLogger):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        settings = _settings()
        self.directory = str(settings["dir"])
        self.prices: dict[str, list[float]] = dict(settings.get("prices", {}))
        self.keep_days = int(settings.get("keep_days", 62))
        self.day = ""

    def write(self, kwargs: dict[str, Any]) -> None:
        try:
            slo = kwargs.get("standard_logging_object")
            if not isinstance(slo, dict):
                log.warning("openclaw usage: a request without a logging payload")
                return
            line = record(slo, self.prices,
                          getattr(kwargs.get("exception"), "status_code", None))
            day = time.strftime("%Y-%m-%d", time.gmtime(int(line.split("\t", 1)[0])))
            path = os.path.join(self.directory, f"usage-{day}.tsv")
            # One write per record, appended: lines of concurrent requests never interleave.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o640)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
            if day != self.day:
                self.day = day
                self.prune()
        except Exception as e:  # a record is never worth a failed request
            log.warning("openclaw usage: record not written: %s", type(e).__name__)

    def prune(self) -> None:
        cutoff = time.strftime("%Y-%m-%d", time.gmtime(time.time() - self.keep_days * 86400))
        for name in os.listdir(self.directory):
            if name.startswith("usage-") and name.endswith(".tsv") and name[6:16] < cutoff:
                os.unlink(os.path.join(self.directory, name))

    # The proxy's requests are async: LiteLLM calls only these two for them.
    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any,
                                      end_time: Any) -> None:
        self.write(kwargs)

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any,
                                      end_time: Any) -> None:
        self.write(kwargs)


recorder = Recorder()
