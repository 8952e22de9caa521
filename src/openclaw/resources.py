"""Find schema/ and templates/: inside the installed wheel, or at the top of a checkout."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PKG / "_data" / name, _PKG.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"openclaw installation is missing its {name}/ directory")


@functools.cache
def schema(name: str) -> dict[str, Any]:
    with open(data_dir("schema") / name, encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded
