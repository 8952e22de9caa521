"""openclaw.json against the pinned OpenClaw's own JSON Schema, offline.

The schema of each supported version is generated from the real package (`openclaw config
schema`, `make openclaw-schema`) and committed gzipped under schema/openclaw-json/; a test
fails when it differs from what the cached bundle prints. A version without one is checked
on the host only (`openclaw config validate` before the file is replaced), and validate says
so (W010)."""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema

from openclaw import resources

# Which settings of openclaw.yaml write each top-level key of openclaw.json (the first one
# the file has is named in a finding).
SOURCES: dict[str, tuple[tuple[str, ...], ...]] = {
    "agents": (("routing", "providers"), ("routing",)),
    "gateway": (("service", "gateway"), ("service",)),
    "logging": (("logging",),),
    "tools": (("security",),),
    "channels": (("security", "tool_approval"), ("alerting", "channels"), ("alerting",)),
    "models": (("llm_gateway",), ("routing",)),
    "update": (("service", "openclaw", "version"), ("service",)),
}


# Environment variables that make the pinned OpenClaw install an external plugin with npm
# before its gateway starts: the web-search providers of its package's
# scripts/lib/official-external-plugin-catalog.json, auto-detected from their keys. The
# hosts have no npm (the bundle is Node and OpenClaw), so the gateway exits 78 ("gateway
# requires state migration"); measured with OPENROUTER_API_KEY on 2026.9.6.
START_INSTALLS: dict[str, dict[str, str]] = {
    "2026.9.6": {
        "BRAVE_API_KEY": "@openclaw/brave-plugin",
        "EXA_API_KEY": "@openclaw/exa-plugin",
        "FIRECRAWL_API_KEY": "@openclaw/firecrawl-plugin",
        "OPENROUTER_API_KEY": "@openclaw/perplexity-plugin",
        "PARALLEL_API_KEY": "@openclaw/parallel-plugin",
        "PERPLEXITY_API_KEY": "@openclaw/perplexity-plugin",
        "SEARXNG_BASE_URL": "@openclaw/searxng-plugin",
        "TAVILY_API_KEY": "@openclaw/tavily-plugin",
    },
}


def schema_path(version: str) -> Path:
    return resources.data_dir("schema") / "openclaw-json" / f"{version}.schema.json.gz"


def supported() -> list[str]:
    folder = resources.data_dir("schema") / "openclaw-json"
    return sorted(p.name.removesuffix(".schema.json.gz") for p in folder.glob("*.json.gz"))


@functools.cache
def _validator(path: Path) -> jsonschema.protocols.Validator:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    _defaults_optional(schema)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _defaults_optional(node: Any) -> None:
    """The schema describes OpenClaw's parsed config, where a key with a default is always
    present; in the file it may be left out (its own validator fills it in)."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(node.get("required"), list):
            node["required"] = [r for r in node["required"]
                                if not (isinstance(props.get(r), dict)
                                        and "default" in props[r])]
        for value in node.values():
            _defaults_optional(value)
    elif isinstance(node, list):
        for value in node:
            _defaults_optional(value)


def problems(version: str, document: dict[str, Any]
             ) -> Iterator[tuple[tuple[str | int, ...], str]] | None:
    """Each place where the pinned version would refuse `document`, as (JSON path in
    openclaw.json, message); None when this release has no schema for that version."""
    if version not in supported():  # never a file name made from the config's text
        return None
    path = schema_path(version)
    validator = _validator(path)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    return ((tuple(e.absolute_path), _message(e)) for e in errors)


def _message(error: jsonschema.ValidationError) -> str:
    consts = [e.validator_value for e in error.context or () if e.validator == "const"]
    if consts and len(consts) == len(error.context or ()):
        return f"{error.instance!r} is not one of: {', '.join(map(str, consts))}"
    if error.context:  # anyOf/oneOf: the branch that got furthest says the most
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            error = best
    return error.message
