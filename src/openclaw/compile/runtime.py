"""Where the pinned OpenClaw lives on a host and how units and scripts call it. Pure.

A bundle or npm install puts Node and OpenClaw into one directory per version pair under the
root (`runtime/openclaw-<version>-node-<node>`), never touched again once complete; the units
name that directory by absolute path, so a version change is a change of the unit files
(shown by plan, rolled out behind the gates, undone by a rollback to the previous
generation, whose directory is still there)."""

from __future__ import annotations

from openclaw.model import Config

ENTRY = "app/node_modules/openclaw/openclaw.mjs"  # the package's bin.openclaw
NODE = "node/bin/node"
COMPLETE = ".complete"  # written last by the install: the directory is whole


def name(cfg: Config) -> str:
    rt = cfg.service.runtime
    return f"openclaw-{rt.version}-node-{rt.node}"


def directory(cfg: Config, root: str | None = None) -> str:
    """The version directory on the host (`root`: the service root as the host sees it)."""
    return f"{root or cfg.service.root}/runtime/{name(cfg)}"


def cli(cfg: Config, root: str | None = None) -> tuple[str, ...]:
    """The OpenClaw CLI by absolute path: Node and the entry point, or the installed
    command (install: none)."""
    rt = cfg.service.runtime
    if rt.install == "none":
        return (rt.command,)
    d = directory(cfg, root)
    return (f"{d}/{NODE}", f"{d}/{ENTRY}")


def version_line(cfg: Config) -> str:
    """What `openclaw --version` starts with for the pinned version."""
    return f"OpenClaw {cfg.service.runtime.version} "
