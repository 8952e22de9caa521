"""The published schemas: meta-valid, current with their source, usable from a wheel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

REPO = Path(__file__).parent.parent


def test_schemas_are_valid_2020_12() -> None:
    for name in ("openclaw.schema.json", "inventory.schema.json"):
        schema = json.loads((REPO / "schema" / name).read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"].endswith(name)


def test_committed_schema_matches_generator(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import gen_schema  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    assert json.loads((REPO / "schema/openclaw.schema.json").read_text()) == \
        gen_schema.openclaw_schema(), "schema is stale: run `make schema`"
    assert json.loads((REPO / "schema/inventory.schema.json").read_text()) == \
        gen_schema.inventory_schema(), "schema is stale: run `make schema`"


def test_every_top_level_block_is_documented() -> None:
    schema = json.loads((REPO / "schema/openclaw.schema.json").read_text())
    for name, prop in schema["properties"].items():
        assert prop.get("description"), name


def test_wheel_carries_schema_and_templates(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(REPO)], check=True)
    wheel = next(tmp_path.glob("*.whl"))
    import zipfile
    names = zipfile.ZipFile(wheel).namelist()
    assert "openclaw/_data/schema/openclaw.schema.json" in names
    assert any(n.startswith("openclaw/_data/templates/") for n in names)
