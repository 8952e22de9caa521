"""Merge openclaw's keys into a JSON file another program owns too (OpenClaw's openclaw.json,
JSON5): every other key is kept, a file that does not parse is left alone. Pure."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import json5

from openclaw.compile.plan import File

MODEL = ("agents", "defaults", "model")
# Values that may be credentials are never shown in a diff unless they are references: the
# paths OpenClaw itself redacts (its src/config/sensitive-paths.ts, 2026.9.6), anything under
# `env`, and any key that merely looks like a credential.
_SENSITIVE = tuple(re.compile(p, re.I) for p in (
    r"token$", r"password", r"secret", r"api.?key", r"encrypt.?key", r"private.?key",
    r"serviceaccount(?:ref)?$", r"(key|token|secret|password|credential)"))
_NOT_SENSITIVE = ("maxtokens", "maxoutputtokens", "maxinputtokens", "maxcompletiontokens",
                  "contexttokens", "totaltokens", "tokencount", "tokenlimit", "tokenbudget",
                  "passwordfile")
_REFERENCE = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*\}$")
HIDDEN = "(not shown)"


def sensitive_path(path: tuple[str, ...]) -> bool:
    dotted = ".".join(path)
    low = dotted.lower()
    if path[:1] == ("env",) or "localservice.env." in low:
        return True
    if low.endswith(_NOT_SENSITIVE):
        return False
    return any(p.search(dotted) for p in _SENSITIVE[:-1]) or bool(
        path and _SENSITIVE[-1].search(path[-1]))


def mask(node: Any, path: tuple[str, ...] = ()) -> Any:
    """`node` with every value at a sensitive path replaced, references kept."""
    if isinstance(node, dict):
        return {k: mask(v, (*path, str(k))) for k, v in node.items()}
    if isinstance(node, list):
        return [mask(v, path) for v in node]
    if path and sensitive_path(path) and not (isinstance(node, str)
                                              and _REFERENCE.match(node)):
        return HIDDEN
    return node


def load(text: str) -> Any:
    """openclaw.json as OpenClaw reads it (JSON5). What apply and OpenClaw write is plain
    JSON, read by the standard library in C; json5's pure-Python parser, for the rest, took
    most of a 100-host plan's controller time (15 ms per host)."""
    try:
        return json.loads(text)
    except ValueError:
        return json5.loads(text)


def masked_text(content: bytes) -> str:
    """A whole openclaw.json for a diff, credentials hidden; unparseable text not shown."""
    try:
        doc = load(content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return f"({len(content)} bytes that do not parse as JSON5; not shown)\n"
    return json.dumps(mask(doc), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Merged:
    content: bytes  # the file as it should be (the current bytes when nothing changes)
    changed: bool
    before: str  # openclaw's keys as they are, for the diff
    after: str  # openclaw's keys as they will be
    error: str = ""  # the current file does not parse: it is left untouched


def merge(f: File, current: bytes | None, active: tuple[str, ...] = ()) -> Merged:
    """current: the host's file (None when absent); active: the providers the budget check
    left in force, which decide the model order while a switch is in effect."""
    managed = json.loads(f.content)
    if active and f.merge_refs:
        refs = dict(f.merge_refs)
        order = list(dict.fromkeys(refs[n] for n in active if n in refs))
        if order:
            _put(managed, MODEL, {"primary": order[0], "fallbacks": order[1:]})
    doc: Any = {}
    if current is not None and current.strip():
        try:
            doc = load(current.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            return Merged(current, False, "", "", _parse_error(e))
        if not isinstance(doc, dict):
            return Merged(current, False, "", "", "the top level is not an object")
    merged = _deep_merge(copy.deepcopy(doc), managed)
    shape = copy.deepcopy(managed)
    for path in f.merge_drop:
        _drop(merged, path)
        _put(shape, path[:-1], {path[-1]: None})  # shown in the diff as they leave
    before, after = _view(doc, shape), _view(merged, shape)
    if merged == doc and current is not None:
        return Merged(current, False, before, after)
    text = json.dumps(merged, indent=2, ensure_ascii=False) + "\n"
    return Merged(text.encode(), True, before, after)


def _deep_merge(base: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    for key, value in ours.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _put(doc: dict[str, Any], path: tuple[str, ...], value: dict[str, Any]) -> None:
    for part in path[:-1]:
        doc = doc.setdefault(part, {})
    doc.setdefault(path[-1], {}).update(value)


def _drop(node: Any, path: tuple[str, ...]) -> None:
    """Remove a key, and the objects it leaves empty on its way up."""
    if not isinstance(node, dict) or path[0] not in node:
        return
    if len(path) > 1:
        _drop(node[path[0]], path[1:])
    if len(path) == 1 or node[path[0]] == {}:
        del node[path[0]]


def _view(doc: dict[str, Any], shape: dict[str, Any]) -> str:
    """Only the keys openclaw manages, as they are in `doc`; other keys never show."""
    def pick(node: Any, like: Any) -> Any:
        if isinstance(like, dict) and isinstance(node, dict):
            return {k: pick(node[k], like[k]) for k in sorted(like) if k in node}
        return node

    return json.dumps(mask(pick(doc, shape)), indent=2, sort_keys=True,
                      ensure_ascii=False) + "\n"


def _parse_error(e: Exception) -> str:
    text = str(e).splitlines()[0] if str(e) else e.__class__.__name__
    # json5 names the position as "<string>:LINE ..."; say so plainly, never echo content.
    m = re.match(r"<string>:(\d+)(?::(\d+))?\s*(.*)", text)
    if m:
        where = f"line {m.group(1)}" + (f", column {m.group(2)}" if m.group(2) else "")
        return f"not valid JSON5 at {where}"
    return "not valid JSON5"
