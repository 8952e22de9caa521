"""What the runner needs from a connection session (engine.Session provides it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# What travels to a host before its script runs: (bytes or a local file, name in staging).
Upload = tuple[bytes | str, str]
Work = tuple[str, tuple[Upload, ...], str]  # (staging dir, uploads, script)


@dataclass
class Outcome:
    ok: bool
    stdout: str = ""
    error: str = ""


class SessionLike(Protocol):
    unreachable: dict[str, str]

    def shell(self, scripts: dict[str, str], *, sudo: bool = True) -> dict[str, Outcome]: ...

    def apply(self, work: dict[str, Work]) -> dict[str, Outcome]: ...
