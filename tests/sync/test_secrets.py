"""Secret resolution, .env rendering, and the redactor."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from openclaw.errors import OpenclawError
from openclaw.model import SecretSource
from openclaw.sync import secrets


def test_resolve_reports_every_missing_source_by_name(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("PRESENT_KEY", "value-present-123")
    monkeypatch.delenv("ABSENT_KEY", raising=False)
    (tmp_path / "token").write_text("file-secret-456\n")
    sources = [("A", SecretSource("env", "PRESENT_KEY")), ("B", SecretSource("env", "ABSENT_KEY")),
               ("C", SecretSource("file", "token")), ("D", SecretSource("file", "missing"))]
    with pytest.raises(OpenclawError) as e:
        secrets.resolve(sources, tmp_path)
    text = str(e.value)
    assert "no host was touched" in text
    assert "B: environment variable ABSENT_KEY is not set" in text
    assert f"D: cannot read {tmp_path}/missing" in text
    assert "value-present-123" not in text and "file-secret-456" not in text
    values = secrets.resolve(sources[:1] + sources[2:3], tmp_path)
    assert values == {"A": "value-present-123", "C": "file-secret-456"}


def test_multiline_and_tiny_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ML", "line-one\nline-two")
    monkeypatch.setenv("TINY", "ab")
    with pytest.raises(OpenclawError, match="spans several lines") as e:
        secrets.resolve([("ML", SecretSource("env", "ML")), ("T", SecretSource("env", "TINY"))],
                        Path("."))
    assert "line-one" not in str(e.value) and "shorter than 4" in str(e.value)


@pytest.mark.parametrize("value, written", [
    ("plain-Value_1.2:3@x", "plain-Value_1.2:3@x"),
    ('has "quotes" and $VAR\\n', '"has \\"quotes\\" and \\$VAR\\\\n"'),
    ("with space", '"with space"'),
])
def test_env_values_survive_systemd_parsing(value: str, written: str) -> None:
    assert secrets.env_value(value) == written


def test_redactor_masks_values_in_text_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    r = secrets.Redactor()
    r.add("s3cr3t-value")
    r.add("s3cr3t-value-longer")
    assert r("a s3cr3t-value-longer and s3cr3t-value") == "a ******** and ********"
    secrets.REDACT.add("logged-secret-999")
    logger = logging.getLogger("pyinfra.test")
    logger.addFilter(secrets.RedactingFilter())
    with caplog.at_level(logging.INFO, logger="pyinfra.test"):
        logger.info("command: echo %s", "logged-secret-999")
    assert "logged-secret-999" not in caplog.text and "********" in caplog.text
