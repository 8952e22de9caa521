"""One error root. User errors are printed plainly (exit 1); anything else is a bug."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openclaw.findings import Finding


class OpenclawError(Exception):
    """An error caused by the operator's input or environment, reported without a traceback."""


class FindingsError(OpenclawError):
    """Input that could not be used; carries every finding, each with its location."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        super().__init__("\n".join(f.render() for f in self.findings))
