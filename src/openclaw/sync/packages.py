"""What bootstrap installs before the artifacts: Debian packages, OpenClaw itself, and the
LLM gateway (LiteLLM, pinned, in its own virtualenv under the root)."""

from __future__ import annotations

import shlex
import tarfile
from pathlib import Path

from openclaw.compile import llm_gateway, runtime
from openclaw.compile.plan import RuntimeSpec, under
from openclaw.model import Config

LITELLM = "litellm[proxy]"


def debian_packages(cfg: Config) -> list[str]:
    """The configured packages and what the configured features need."""
    extra: list[str] = ["logrotate"]  # minimal installs lack it; file logs need it
    if cfg.logging.remote_url:
        extra.append("systemd-journal-remote")  # systemd-journal-upload
    if cfg.scaling.autoscaled:
        extra.append("postgresql-client")  # psql reads the queue depth
        if cfg.scaling.lock_url_env:
            extra.append("redis-tools")  # redis-cli takes the hosts' lock
    gw = cfg.llm_gateway
    if gw.enabled and gw.install_method != "none":
        extra.append("python3-venv")
    if llm_gateway.uses_redis(cfg):
        extra.append("redis-server")
    if cfg.deployment.replicate:
        extra += ["rsync", "openssh-client", "python3"]  # rrsync on the peer is Python
    return list(dict.fromkeys([*cfg.service.packages, *extra]))


def venv_dir(cfg: Config) -> str:
    """One virtualenv per version; `current` points at the one the unit runs, so an upgrade
    swaps a symlink and never touches the running proxy's files."""
    return f"{cfg.service.root}/llm-gateway/litellm-{cfg.llm_gateway.version}"


def probe_script(cfg: Config, root: str = "/") -> str:
    """One command: which packages are missing, whether openclaw and the gateway are in."""
    pkgs = " ".join(shlex.quote(p) for p in debian_packages(cfg))
    venv = shlex.quote(under(root, venv_dir(cfg)))
    current = shlex.quote(under(root, f"{cfg.service.root}/llm-gateway/current"))
    return f"""for p in {pkgs}; do
  dpkg-query -W -f='${{Status}}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    printf 'MISSING\\t%s\\n' "$p"
done
if [ -x {venv}/bin/litellm ] && [ "$(readlink {current})" = {venv} ]; then
  echo 'LITELLM	present'
fi
echo END
"""


def missing(cfg: Config, output: str) -> list[str]:
    """Steps bootstrap must take: 'package X', 'llm-gateway ...' (OpenClaw itself is a
    step of every apply: HostChanges.runtime)."""
    gw = cfg.llm_gateway
    lines = output.splitlines()
    steps = [f"package {x.split(chr(9), 1)[1]}" for x in lines if x.startswith("MISSING\t")]
    if gw.enabled and gw.install_method != "none" and "LITELLM\tpresent" not in lines:
        source = "uploaded wheels" if gw.install_method == "wheels" else "the package index"
        steps.append(f"llm-gateway (litellm {gw.version} from {source})")
    return steps


def install_script(cfg: Config, steps: list[str], root: str = "/") -> str:
    """Runs from the staging directory ($S) the controller made; wheels, when uploaded, are
    in $S/bundle.tar."""
    svc, gw = cfg.service, cfg.llm_gateway
    pkgs = [s.split(" ", 1)[1] for s in steps if s.startswith("package ")]
    lines = ["set -eu", "export DEBIAN_FRONTEND=noninteractive"]
    if pkgs:
        lines += ["apt-get update -qq",
                  "apt-get install -y -qq --no-install-recommends "
                  + " ".join(shlex.quote(p) for p in pkgs)]
    if any(s.startswith("llm-gateway ") for s in steps):
        venv = under(root, venv_dir(cfg))
        current = under(root, f"{svc.root}/llm-gateway/current")
        spec = shlex.quote(f"{LITELLM}=={gw.version}")
        source = ("--no-index --find-links \"$S/wheels\"" if gw.install_method == "wheels"
                  else "")
        lines += [
            f"V={shlex.quote(venv)}",
            # A half-made virtualenv from an earlier failure is started over.
            "rm -rf \"$V\" && mkdir -p \"$(dirname \"$V\")\"",
            *(["mkdir \"$S/wheels\" && tar -xf \"$S/bundle.tar\" -C \"$S/wheels\""]
              if gw.install_method == "wheels" else []),
            f"{shlex.quote(gw.python)} -m venv \"$V\"",
            f"\"$V/bin/pip\" install -q --disable-pip-version-check --no-input {source} "
            f"{spec} >\"$V.log\" 2>&1 || {{ tail -n 5 \"$V.log\" >&2; rm -rf \"$V\"; exit 1; }}",
            "rm -f \"$V.log\"",
            # Swap the symlink atomically: the unit runs `current`.
            f"ln -sfn \"$V\" {shlex.quote(current)}.new && "
            f"mv -T {shlex.quote(current)}.new {shlex.quote(current)}",
        ]
    lines.append("echo INSTALLED")
    return "\n".join(lines) + "\n"


# npm itself, for hosts that install OpenClaw from the registry (install: npm).
NPM_VERSION = "11.6.2"
RUNTIME_UPLOAD = "openclaw-runtime.tar.gz"


def runtime_install(rt: RuntimeSpec, root: str = "/") -> str:
    """Shell that puts the pinned Node and OpenClaw into their version directory and points
    `current` at it; runs inside the apply script (step, $S). A directory whose .complete
    is there is never touched again; a half-made one is started over."""
    d = under(root, rt.directory)
    top = d.rsplit("/", 1)[0]
    node, entry = f"$D.new/{runtime.NODE}", f"$D.new/{runtime.ENTRY}"
    lines = [f"D={shlex.quote(d)}", "if [ ! -f \"$D/.complete\" ]; then",
             "  rm -rf \"$D.new\" && mkdir -p \"$D.new\""]
    if rt.install == "bundle":
        lines.append(f"  tar -xzf \"$S/{RUNTIME_UPLOAD}\" -C \"$D.new\" --strip-components=1 "
                     "--no-same-owner")
    else:  # npm: Node and npm from the registry as tarballs, then OpenClaw with that npm
        reg = shlex.quote(rt.registry)
        lines += [
            "  case $(uname -m) in x86_64) a=x64 ;; aarch64) a=arm64 ;; "
            "*) echo \"no Node build for $(uname -m)\" >&2; exit 1 ;; esac",
            "  W=\"$S/npm-work\" && mkdir -p \"$W\" \"$D.new/node/bin\"",
            f"  curl -fsSL {reg}/node-linux-$a/-/node-linux-$a-{rt.node}.tgz | "
            "tar -xz -C \"$W\" package/bin/node",
            "  mv \"$W/package/bin/node\" \"$D.new/node/bin/node\"",
            f"  curl -fsSL {reg}/npm/-/npm-{NPM_VERSION}.tgz | tar -xz -C \"$W\"",
            f"  PATH=\"$D.new/node/bin:$PATH\" \"{node}\" \"$W/package/bin/npm-cli.js\" "
            f"install --prefix \"$D.new/app\" --registry {reg} --no-audit --no-fund "
            f"--ignore-scripts --omit=dev --loglevel=error "
            f"{shlex.quote('openclaw@' + rt.version)} >&2",
            "  printf '%s\\n' " + shlex.quote(rt.version) + " >\"$D.new/.complete\"",
        ]
    lines += [
        f"  v=$(\"{node}\" \"{entry}\" --version 2>&1 | head -n1)",
        f"  case $v in {shlex.quote('OpenClaw ' + rt.version + ' ')}*) ;; *)",
        f"    rm -rf \"$D.new\"; echo \"the installed OpenClaw says '$v', not {rt.version}\" >&2",
        "    exit 1 ;; esac",
        "  chmod 0755 \"$D.new\" && rm -rf \"$D\" && mv \"$D.new\" \"$D\"",
        f"  step installed openclaw {rt.version} on node {rt.node}",
        "fi",
        f"ln -sfn \"$D\" {shlex.quote(top + '/current.new')} && "
        f"mv -T {shlex.quote(top + '/current.new')} {shlex.quote(top + '/current')}",
    ]
    return "\n".join(lines)


def wheels_bundle(directory: Path, target: Path) -> str:
    """The wheels the controller uploads for hosts without the package index, as a tar file
    at `target` (written and uploaded in pieces, never held whole in memory; wheels are
    compressed already)."""
    with tarfile.open(target, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for wheel in sorted(directory.glob("*.whl")):
            tar.add(wheel, arcname=wheel.name)
    return str(target)

