from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.behaviour.fakes import FakeServer
from tests.behaviour.host import SandboxHost, config


@dataclass
class World:
    gateway: FakeServer
    provider: FakeServer
    telegram: FakeServer
    webhook: FakeServer
    tmp: Path

    def text(self, **kw: Any) -> str:
        """The test openclaw.yaml, pointed at these fakes."""
        return config(self.gateway.port, self.provider.port, self.telegram.port,
                      self.webhook.port, **kw)

    def host(self, text: str | None = None, **kw: Any) -> SandboxHost:
        """A fresh sandbox host (its own directory) compiled from `text` or config(**kw)."""
        folder = self.tmp / f"host{len(list(self.tmp.glob('host*')))}"
        folder.mkdir()
        return SandboxHost(folder, text if text is not None else self.text(**kw))

    def messages(self) -> list[str]:
        return [r.form["text"] for r in self.telegram.requests if r.path.endswith(
            "/sendMessage")]

    def hooks(self) -> list[dict[str, Any]]:
        return [r.json for r in self.webhook.requests if r.path == "/hook"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with FakeServer() as gw, FakeServer() as prov, FakeServer() as tg, FakeServer() as wh:
        yield World(gw, prov, tg, wh, tmp_path)
