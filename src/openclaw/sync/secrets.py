"""Secret values: resolved on the controller at plan/apply time, registered with the redactor
the moment they are read, and never part of any output."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from openclaw.compile.plan import File
from openclaw.errors import OpenclawError
from openclaw.model import SecretSource

MASK = "********"


class Redactor:
    """Replaces every known secret value in text. Fed by resolve(); applied to all output."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        # Very short values would mask ordinary words; they are refused at resolve time.
        if value and value not in self._values:
            self._values.add(value)
            alternatives = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)


REDACT = Redactor()


class RedactingFilter(logging.Filter):
    """Scrubs log records (pyinfra's own included) before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = REDACT(record.getMessage())
        record.args = None
        return True


def install_log_filter(*names: str) -> None:
    for name in ("", *names):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


MIN_SECRET_LENGTH = 4


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _utf8(value: str) -> bool:
    """Environment values come in as bytes decoded with surrogateescape."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def resolve(sources: Iterable[tuple[str, SecretSource]], base: Path) -> dict[str, str]:
    """Read every source; report all that are missing at once (by name, never by value)."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for key, source in sources:
        if source.kind == "env":
            value = os.environ.get(source.ref)
            if value is None:
                problems.append(f"{key}: environment variable {source.ref} is not set")
                continue
        else:
            path = Path(os.path.expanduser(source.ref))
            path = path if path.is_absolute() else base / path
            try:
                value = path.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as e:
                reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
                problems.append(f"{key}: cannot read {path}: {reason}")
                continue
        if len(value) >= MIN_SECRET_LENGTH:
            REDACT.add(value)
        if "\n" in value or "\0" in value:
            problems.append(f"{key}: the value from {source.describe()} spans several lines; "
                            "an .env value must be one line")
        elif not _utf8(value):
            problems.append(f"{key}: the value from {source.describe()} is not UTF-8 text")
        elif _CONTROL.search(value):
            problems.append(f"{key}: the value from {source.describe()} holds a control "
                            "character")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{key}: the value from {source.describe()} is shorter than "
                            f"{MIN_SECRET_LENGTH} characters")
        values[key] = value
    if problems:
        raise OpenclawError("secrets could not be resolved (no host was touched):\n  "
                            + "\n  ".join(problems))
    return values


_PLAIN = re.compile(r"^[A-Za-z0-9_./:@+=,%-]*$")


def env_value(value: str) -> str:
    """A value as systemd's EnvironmentFile= reads it back unchanged."""
    if _PLAIN.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def render_env(file: File, values: dict[str, str]) -> bytes:
    """The real .env: the compiled file's comments, each key with its resolved value."""
    lines = [line for line in file.content.decode().splitlines() if line.startswith("#")]
    lines += [f"{key}={env_value(values[key])}" for key, _ in file.secrets]
    return ("\n".join(lines) + "\n").encode()


def env_entries(content: bytes) -> dict[str, str]:
    """KEY -> raw value text of an .env (comments and blank lines skipped)."""
    out: dict[str, str] = {}
    for line in content.decode(errors="replace").splitlines():
        if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        out[key.strip()] = value
    return out
