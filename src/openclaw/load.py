"""Load YAML so that every value keeps its FILE:LINE:COL.

PyYAML composes a node tree (with marks); we construct plain Python values from it ourselves so
that we can reject duplicate keys, resolve scalars the YAML 1.2 way (``yes``/``on``/dates stay
strings), refuse unknown tags, and bound the work an alias bomb can cause.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from openclaw.errors import FindingsError
from openclaw.findings import Finding
from openclaw.secrets_scan import looks_secret

MAX_BYTES = 1024 * 1024
# Nodes visited while constructing; a document of this size is far beyond any real fleet
# config, while an alias bomb reaches it in milliseconds.
MAX_NODES = 200_000
# Characters of all scalars after aliases: a long string aliased a thousand times is small
# on disk and gigabytes for every later check.
MAX_CHARS = 4 * 1024 * 1024
# Mappings and lists inside each other; the reference config needs 6. PyYAML composes
# recursively, so a deeper document would exhaust Python's stack.
MAX_DEPTH = 64

PathT = tuple[str | int, ...]
Mark = tuple[int, int]

_T = "tag:yaml.org,2002:"


class _Resolver(BaseResolver):
    """YAML 1.2 core schema: only true/false are booleans; no dates, no yes/no/on/off."""


_Resolver.add_implicit_resolver(
    _T + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Resolver.add_implicit_resolver(
    _T + "int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
_Resolver.add_implicit_resolver(
    _T + "float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))
_Resolver.add_implicit_resolver(_T + "merge", re.compile(r"^<<$"), ["<"])
_Resolver.add_implicit_resolver(
    _T + "null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


class _Loader(Reader, Scanner, Parser, Composer, _Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Resolver.__init__(self)
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            node: Node | None = super().compose_node(parent, index)
            return node
        finally:
            self.depth -= 1


_CParser: Any
try:  # libyaml parses a 1 MiB file in a tenth of the time
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None

_CLoader: Any = None
if _CParser is not None:
    class _CLoaderImpl(_CParser, _Resolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Resolver.__init__(self)
    _CLoader = _CLoaderImpl

_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _compose(text: str) -> Node | None:
    if _CLoader is None:
        loader = _Loader(text)
        try:
            node: Node | None = loader.get_single_node()
            return node
        finally:
            loader.dispose()
    # libyaml's parser is iterative but its composer is not: measure the depth on the
    # events first, then compose.
    probe = _CLoader(text)
    try:
        depth = 0
        while probe.check_event():
            event = probe.get_event()
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _TooDeep(event.start_mark)
            elif isinstance(event, _CLOSE):
                depth -= 1
    finally:
        probe.dispose()
    loader = _CLoader(text)
    try:
        return loader.get_single_node()  # type: ignore[no-any-return]
    finally:
        loader.dispose()


@dataclass(frozen=True)
class Document:
    """A loaded YAML file: its data and where each value and key came from."""

    file: str
    data: Any
    marks: Mapping[PathT, Mark] = field(default_factory=dict)
    key_marks: Mapping[PathT, Mark] = field(default_factory=dict)

    def locate(self, path: PathT, *, key: bool = False) -> Mark:
        """The position of a path, or of its nearest ancestor that has one."""
        p = tuple(path)
        if key and p in self.key_marks:
            return self.key_marks[p]
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (1, 1))

    def finding(self, path: PathT, message: str, code: str, *, key: bool = False,
                severity: str = "error") -> Finding:
        line, col = self.locate(path, key=key)
        return Finding(self.file, line, col, dotted(path), message, code, severity)


def dotted(path: PathT) -> str:
    out = ""
    for part in path:
        text = str(part)
        if any(c < " " or c == "\x7f" for c in text):  # never a raw control character out
            text = repr(text)[1:-1]
        out += f"[{part}]" if isinstance(part, int) else (f".{text}" if out else text)
    return out


def _fail(file: str, line: int, col: int, message: str, code: str) -> FindingsError:
    return FindingsError([Finding(file, line, col, "", message, code)])


def read_text(path: str, display: str | None = None) -> str:
    """Read a config file as UTF-8, refusing anything that is not a small regular text file."""
    name = display or path
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _fail(name, 1, 1, "no such file", "L001") from None
    except OSError as e:
        raise _fail(name, 1, 1, f"cannot read: {e.strerror}", "L002") from None
    if os.path.isdir(path):
        raise _fail(name, 1, 1, "is a directory, expected a YAML file", "L003")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or a device would block or never end
        raise _fail(name, 1, 1, "is not a regular file, expected a YAML file", "L003")
    if st.st_size > MAX_BYTES:
        raise _fail(name, 1, 1, f"file is {st.st_size} bytes, over the {MAX_BYTES} byte limit",
                    "L004")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as e:
        raise _fail(name, 1, 1, f"cannot read: {e.strerror}", "L002") from None
    return decode(raw, name)


def decode(raw: bytes, name: str) -> str:
    if len(raw) > MAX_BYTES:
        raise _fail(name, 1, 1, f"file is over the {MAX_BYTES} byte limit", "L004")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = raw[: e.start]
        line = before.count(b"\n") + 1
        col = e.start - (before.rfind(b"\n") + 1) + 1
        raise _fail(name, line, col,
                    f"not valid UTF-8 (byte 0x{raw[e.start]:02x}); save the file as UTF-8",
                    "L005") from None


def load_file(path: str, display: str | None = None) -> Document:
    name = display or path
    return parse(read_text(path, name), name)


_TOO_DEEP = (f"nested more than {MAX_DEPTH} levels deep (a config or an inventory needs "
             "fewer than 10)")


def _char_at(text: str, line: int, col: int) -> str:
    lines = text.splitlines()
    return lines[line - 1][col - 1:col] if 0 < line <= len(lines) else ""


def parse(text: str, name: str) -> Document:
    """Parse YAML text into a Document; every problem becomes a FindingsError with a location."""
    try:
        root = _compose(text)
    except _TooDeep as e:
        raise _fail(name, e.mark.line + 1, e.mark.column + 1, _TOO_DEEP, "L019") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if "maximum nesting depth" in (e.problem or ""):  # libyaml's own cap, met first
            raise _fail(name, line, col, _TOO_DEEP, "L019") from None
        what = " ".join(s for s in (e.context, e.problem) if s) or "invalid YAML"
        if "cannot start any token" in what and _char_at(text, line, col) == "\t":
            what += " (a tab: YAML indents with spaces)"
        raise _fail(name, line, col, f"YAML syntax error: {what}", "L010") from None
    except yaml.YAMLError as e:
        raise _fail(name, 1, 1, f"YAML error: {e}", "L010") from None
    if root is None:
        raise _fail(name, 1, 1, "file is empty, expected a mapping of settings", "L011")
    builder = _Builder(name)
    data = builder.build(root, ())
    if not isinstance(data, dict):
        line, col = root.start_mark.line + 1, root.start_mark.column + 1
        # Never the text itself: a .env or a key passed by mistake would be printed whole.
        kind = "a list" if isinstance(data, list) else f"a scalar ({type(data).__name__})"
        raise _fail(name, line, col, f"top level is {kind}, expected a mapping", "L012")
    return Document(name, data, builder.marks, builder.key_marks)


class _Builder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.marks: dict[PathT, Mark] = {}
        self.key_marks: dict[PathT, Mark] = {}
        self.count = 0
        self.chars = 0
        self.active: set[int] = set()

    def _err(self, node: Node, message: str, code: str) -> FindingsError:
        return _fail(self.name, node.start_mark.line + 1, node.start_mark.column + 1,
                     message, code)

    def build(self, node: Node, path: PathT) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self._err(node, f"document expands to more than {MAX_NODES} values "
                            "(alias bomb?); refusing to load it", "L013")
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, ScalarNode):
            self.chars += len(node.value)
            if self.chars > MAX_CHARS:
                raise self._err(node, f"document expands to more than {MAX_CHARS} characters "
                                "of values (a long value aliased many times?); refusing to "
                                "load it", "L013")
            return self._scalar(node)
        if id(node) in self.active:
            raise self._err(node, "recursive alias: a value contains itself", "L014")
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _T + "seq":
                    raise self._err(node, f"unsupported tag {node.tag}", "L015")
                return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
        raise self._err(node, "unsupported YAML node", "L015")  # pragma: no cover

    def _mapping(self, node: MappingNode, path: PathT) -> dict[str, Any]:
        if node.tag != _T + "map":
            raise self._err(node, f"unsupported tag {node.tag}", "L015")
        out: dict[str, Any] = {}
        seen: dict[str, Node] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, ScalarNode) or knode.tag == _T + "null":
                raise self._err(knode, "mapping keys must be plain strings", "L016")
            if knode.tag == _T + "merge":
                raise self._err(knode, "merge keys (<<) are not supported; "
                                "repeat the settings or use an alias for a whole value", "L017")
            key = str(knode.value)
            if key in seen:
                first = seen[key].start_mark
                shown = "<redacted>" if looks_secret(None, key) else repr(key)
                raise self._err(knode, f"duplicate key {shown} (first defined at line "
                                f"{first.line + 1}, column {first.column + 1})", "L018")
            seen[key] = knode
            self.key_marks[(*path, key)] = (knode.start_mark.line + 1,
                                            knode.start_mark.column + 1)
            out[key] = self.build(vnode, (*path, key))
        return out

    def _scalar(self, node: ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == _T + "str":
            return value
        if tag == _T + "null":
            return None
        if tag == _T + "bool":
            return value.lower() == "true"
        if tag == _T + "int":
            base = 8 if value.startswith("0o") else 16 if value.startswith("0x") else 10
            return int(value[2:] if base != 10 else value, base)
        if tag == _T + "float":
            return float(value.replace(".inf", "inf").replace(".Inf", "inf")
                         .replace(".INF", "inf").lower().replace(".nan", "nan"))
        raise self._err(node, f"unsupported tag {tag}; write the value as a plain string",
                        "L015")
