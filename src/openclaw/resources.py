"""Find schema/ and templates/: inside the installed wheel, or at the top of a checkout, or
(for `openclaw diff`) in a revision's own tree, chosen with `overridden()`."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

_PKG = Path(__file__).resolve().parent
_OVERRIDE: ContextVar[Path | None] = ContextVar("openclaw_data_root", default=None)


def data_dir(name: str) -> Path:
    return _data_dir(_OVERRIDE.get(), name)


@functools.cache
def _data_dir(root: Path | None, name: str) -> Path:
    if root is not None and (root / name).is_dir():
        return root / name
    for candidate in (_PKG / "_data" / name, _PKG.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"openclaw installation is missing its {name}/ directory")


@contextlib.contextmanager
def overridden(root: Path | None) -> Iterator[None]:
    """Use root/templates and root/schema where they exist (a project's own revision)."""
    token = _OVERRIDE.set(root)
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def schema(name: str) -> dict[str, Any]:
    return schema_at(data_dir("schema") / name)


@functools.cache
def schema_at(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded
