"""JSON Schema validation whose every error becomes a Finding at the right FILE:LINE:COL."""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from openclaw import resources, units
from openclaw.findings import Finding
from openclaw.load import Document, PathT

SHOWN = 56  # characters of a long value that a message shows
MAX_UNKNOWN = 50  # unknown keys listed per mapping

_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string",
               "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "null": "nothing"}


def validator(name: str) -> jsonschema.protocols.Validator:
    return _validator_at(resources.data_dir("schema") / name)


@functools.cache
def _validator_at(path: Path) -> jsonschema.protocols.Validator:
    schema = resources.schema_at(path)
    base = jsonschema.validators.validator_for(schema)
    # An integer is an int: JSON Schema counts 3.0 as one, and it would be written as "3.0"
    # where a consumer wants a count or a port.
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _, x: isinstance(x, int) and not isinstance(x, bool))
    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        base, validators={"x-range": _in_range}, type_checker=checker)
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


def _in_range(_v: Any, spec: dict[str, Any], instance: Any, _s: Any
              ) -> Iterator[ValidationError]:
    """The number a human-unit value means, held to its consumer's bounds: strings such as
    '0 tokens' or '150%' meet the same limits as plain numbers."""
    if isinstance(instance, bool) or not isinstance(instance, int | float | str) or \
            (isinstance(instance, float) and not math.isfinite(instance)):
        return  # not a number at all: validate's finite-number check says so
    kind = spec["kind"]
    try:
        if kind == "threshold":
            try:
                t = units.threshold(instance)
            except ValueError as e:
                if isinstance(instance, str) and re.match(units.THRESHOLD_RE, instance):
                    yield ValidationError(f"expected a comparison such as '> 5%', '> 10s' or "
                                          f"'< 256MB', got {_show(instance)}: {e}")
                return
            kind, value = t.kind, t.value
            lo, hi = units.THRESHOLD_LIMITS[kind]
        else:
            value = units.PARSERS[kind](instance)
            lo, hi = float(spec["min"]), float(spec["max"])
    except (ValueError, TypeError, KeyError, OverflowError):
        return  # the type and pattern keywords report a value of the wrong shape
    if not lo <= value <= hi:
        what = {"fraction": "percentage", "percent": "percentage", "count": "whole number"
                }.get(kind, kind)
        why = f" ({spec['why']})" if spec.get("why") else ""
        yield ValidationError(f"expected a {what} between {units.show(kind, lo)} and "
                              f"{units.show(kind, hi)}{why}, got {_show(instance)}")


def check(doc: Document, schema_name: str) -> list[Finding]:
    errors = validator(schema_name).iter_errors(doc.data)
    return [f for e in errors for f in _findings(doc, e)]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null"


def _branch_errors(error: ValidationError) -> list[ValidationError]:
    """For anyOf/oneOf: the errors of the branch that fits the value's type best."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)

    def score(errs: list[ValidationError]) -> tuple[int, int]:
        type_miss = any(e.validator in ("type", "enum", "const") and not e.relative_path
                        for e in errs)
        return (1 if type_miss else 0, len(errs))

    if not branches:
        return []
    best = min(sorted(branches), key=lambda i: score(branches[i]))
    if score(branches[best])[0]:
        return []  # no branch takes this type at all: report the anyOf itself
    return branches[best]


def _hint(schema: Any) -> str | None:
    if isinstance(schema, dict):
        hint = schema.get("x-hint")
        return str(hint) if hint else None
    return None


def _expected(schema: Any) -> str:
    hint = _hint(schema)
    if hint:
        return hint
    if isinstance(schema, dict):
        t = schema.get("type")
        if isinstance(t, str):
            return _TYPE_NAMES.get(t, t)
        if isinstance(t, list):
            return " or ".join(_TYPE_NAMES.get(str(x), str(x)) for x in t)
        if "enum" in schema:
            return "one of " + ", ".join(str(x) for x in schema["enum"])
    return "a different value"


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if not isinstance(value, bool) else str(value).lower()
    return text if len(text) <= SHOWN + 4 else text[:SHOWN + 1] + "..."


def _findings(doc: Document, error: ValidationError) -> Iterator[Finding]:
    path: PathT = tuple(error.absolute_path)
    v = error.validator
    if "propertyNames" in error.schema_path:  # a bad key: point at the key itself
        yield doc.finding((*path, str(error.instance)), f"{error.instance!r} is not a valid "
                          f"name: expected {_expected(error.schema)}", "S004", key=True)
        return
    if v in ("anyOf", "oneOf"):
        subs = _branch_errors(error)
        if subs:
            for sub in subs:
                yield from _findings(doc, sub)
            return
        yield doc.finding(path, f"expected {_expected(error.schema)}, got "
                          f"{_show(error.instance)}", "S001")
        return
    if v == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted((error.schema.get("properties") or {}).keys()) \
            if isinstance(error.schema, dict) else []
        unknown = [k for k in error.instance if k not in known]  # in file order
        if len(unknown) > MAX_UNKNOWN:  # a file of junk gets a bounded answer
            yield doc.finding((*path, unknown[MAX_UNKNOWN]), f"{len(unknown) - MAX_UNKNOWN} "
                              "more unknown keys in this mapping are not listed", "S002",
                              key=True)
        for key in unknown[:MAX_UNKNOWN]:
            msg = f"unknown key {key!r}"
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            if close:
                msg += f"; did you mean {close[0]!r}?"
            elif known:
                msg += " (expected one of: " + ", ".join(known) + ")"
            yield doc.finding((*path, key), msg, "S002", key=True)
        return
    if v == "required":
        required: Any = error.validator_value
        instance: Any = error.instance
        missing = [k for k in required if k not in instance]
        for key in missing:
            yield doc.finding(path, f"missing required key {key!r}", "S003")
        return
    if v == "enum":
        options: Any = error.validator_value
        opts = [str(o) for o in options]
        msg = f"{_show(error.instance)} is not one of: {', '.join(opts)}"
        if isinstance(error.instance, str):
            close = difflib.get_close_matches(error.instance, opts, n=1, cutoff=0.6)
            if close:
                msg += f"; did you mean {close[0]!r}?"
        yield doc.finding(path, msg, "S005")
        return
    if v == "const":
        yield doc.finding(path, f"must be {error.validator_value!r}, got "
                          f"{_show(error.instance)}", "S006")
        return
    if v in ("maxProperties", "minProperties") and _hint(error.schema):
        n = len(error.instance) if isinstance(error.instance, dict) else 0
        yield doc.finding(path, f"expected {_hint(error.schema)}, found {n} keys", "S007")
        return
    if v in ("type", "pattern", "minimum", "maximum", "exclusiveMinimum", "minLength"):
        if v == "minimum" and not _hint(error.schema):
            msg = f"must be at least {error.validator_value}, got {_show(error.instance)}"
        elif v == "maximum" and not _hint(error.schema):
            msg = f"must be at most {error.validator_value}, got {_show(error.instance)}"
        elif v == "minLength":
            msg = "must not be empty"
        else:
            msg = f"expected {_expected(error.schema)}, got {_show(error.instance)}"
        yield doc.finding(path, msg, "S008")
        return
    if v == "maxLength":
        n = len(error.instance) if isinstance(error.instance, str) else 0
        yield doc.finding(path, f"must be at most {error.validator_value} characters long, "
                          f"got {n}", "S008")
        return
    if v == "x-range":
        yield doc.finding(path, error.message, "S010")
        return
    if v == "minProperties":
        yield doc.finding(path, "must not be empty", "S009")
        return
    if v in ("maxItems", "maxProperties"):
        n = len(error.instance) if isinstance(error.instance, list | dict) else 0
        what = "items" if v == "maxItems" else "keys"
        yield doc.finding(path, f"has {n} {what}; at most {error.validator_value} are "
                          "accepted", "S011")
        return
    if v == "minItems":
        yield doc.finding(path, f"must have at least {error.validator_value} item(s)", "S009")
        return
    yield doc.finding(path, error.message, "S000")

