"""Jinja2, loaded once per run: StrictUndefined, no autoescape, trailing newlines kept."""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from openclaw import resources
from openclaw.errors import OpenclawError


def _shq(value: Any) -> str:
    """Quote for a bash `source`d file or a command line."""
    if isinstance(value, bool):
        value = "1" if value else "0"
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return shlex.quote(str(value))


def _shwords(values: Any) -> str:
    """Items of a bash array literal."""
    return " ".join(_shq(v) for v in values)


def _systemd_seconds(value: float) -> str:
    """A systemd time span from seconds: 300 -> 5min, 30 -> 30s, 5400 -> 90min."""
    s = round(value)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


def systemd_word(value: str, keep: str = "") -> str:
    """One argument of an Exec*= line: specifiers (but those in `keep`) and variables escaped,
    quoted when it holds anything but plain path characters."""
    s = str(value).replace("$", "$$")
    s = re.sub(f"%(?![{re.escape(keep)}])" if keep else "%", "%%", s)
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_value(value: str) -> str:
    """Text inside a double-quoted Environment="NAME=..." assignment."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")


def command_words(command: str) -> list[str]:
    """A configured command split as a shell would; ValueError when it cannot be."""
    words = shlex.split(command)
    if not words:
        raise ValueError("it has no words")
    if not words[0]:
        raise ValueError("its program is an empty word")
    return words


def systemd_command(command: str, keep: str = "") -> str:
    """A configured command as an ExecStart= value, every word through systemd_word; `keep`
    names the specifier letters the command may use on purpose ("i": the worker's instance)."""
    return " ".join(systemd_word(w, keep) for w in command_words(command))


def environment() -> jinja2.Environment:
    """One environment per templates directory, made once: templates load once per run."""
    return _environment_at(resources.data_dir("templates"))


@functools.cache
def _environment_at(templates: Path) -> ImmutableSandboxedEnvironment:
    # Sandboxed: `openclaw diff` renders the templates of a pull request, which must not run
    # code on the CI runner (no attribute walks to os, no unsafe callables).
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["shq"] = _shq
    env.filters["span"] = _systemd_seconds
    env.filters["shwords"] = _shwords
    env.filters["sdword"] = systemd_word
    env.filters["sdcommand"] = systemd_command
    env.filters["sdvalue"] = systemd_value
    env.globals["dict"] = dict
    return env


def render(template: str, for_host: str, **context: Any) -> str:
    try:
        return environment().get_template(template).render(**context)
    except jinja2.TemplateSyntaxError as e:
        raise OpenclawError(f"templates/{e.name or template}:{e.lineno}: {e.message} "
                            f"(rendering for host {for_host})") from None
    except jinja2.exceptions.SecurityError as e:
        raise OpenclawError(f"templates/{template}: refused by the template sandbox: "
                            f"{str(e)[:200]} (rendering for host {for_host})") from None
    except jinja2.UndefinedError as e:
        raise OpenclawError(f"templates/{template}:{_template_line(e, template)}: {e.message} "
                            f"(rendering for host {for_host})") from None


def _template_line(error: BaseException, template: str) -> int:
    """Jinja rewrites tracebacks so that template frames carry the template's line."""
    tb, line = error.__traceback__, 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(template):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
