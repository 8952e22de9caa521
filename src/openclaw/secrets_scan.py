"""Spot values that look like real secrets, so openclaw.yaml never carries one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # load uses this module to keep secret-looking keys out of its messages
    from openclaw.load import PathT

_VALUE_PATTERNS = [
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),                 # OpenAI / Anthropic style
    re.compile(r"\bsk-or-v1-[A-Fa-f0-9]{32,}"),             # OpenRouter
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),            # GitHub
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),          # Slack
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),                    # AWS access key id
    re.compile(r"(?<![0-9])[0-9]{6,12}:[A-Za-z0-9_-]{30,}"),  # Telegram bot token, anywhere
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),  # JWT
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----"),  # PEM, PGP
    re.compile(r"://[^/\s:@]+:[^\s@]+@"),                    # credentials inside a URL
    re.compile(r"hooks\.slack\.com/services/[A-Za-z0-9/]{20,}"),  # Slack webhook
    re.compile(r"(?i)[?&](?:access_token|api_key|apikey|token|key|secret|password|sig)"
               r"=[^&\s]{8,}"),                              # a credential in a query string
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{12,}"),    # an Authorization header value
]
# An AWS secret access key: 40 characters of base64's alphabet, mixing cases and digits.
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def _aws_secret(value: str) -> bool:
    return any(re.search(r"[a-z]", m) and re.search(r"[A-Z]", m) and re.search(r"[0-9]", m)
               for m in _AWS_SECRET.findall(value))
# Keys whose string value is a secret unless it names where the secret comes from.
_SECRET_KEY = re.compile(
    r"(?i)^(?:.*[_-])?(?:api[_-]?key|apikey|token|secret|password|passwd|private[_-]?key|"
    r"access[_-]?key|client[_-]?secret|bot[_-]?token|auth)$")


# octoDNS's reference to a secret in the controller's environment (deployment.dns.provider).
_ENV_REFERENCE = re.compile(r"env/[A-Z_][A-Z0-9_]*")


def looks_secret(key: str | None, value: str) -> bool:
    if any(p.search(value) for p in _VALUE_PATTERNS) or _aws_secret(value):
        return True
    return bool(key and _SECRET_KEY.match(key) and value.strip()
                and not _ENV_REFERENCE.fullmatch(value.strip()))


def scan(data: Any, path: PathT = ()) -> Iterator[tuple[PathT, str]]:
    """Yield (path, value) of every string that looks like a secret."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and looks_secret(None, key):  # pasted where a name goes
                yield (*path, key), key
            if isinstance(value, str) and looks_secret(key, value):
                yield (*path, key), value
            else:
                yield from scan(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if isinstance(value, str) and looks_secret(None, value):
                yield (*path, i), value
            else:
                yield from scan(value, (*path, i))
