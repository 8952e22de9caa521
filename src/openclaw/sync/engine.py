"""The one module that talks to pyinfra.api: inventory, connections, the state probe as a
fact, and the apply as an operation. Everything it returns is plain data."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import os
import re
import shutil
import socket
import stat
import time
import weakref
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any, TypeVar

from gevent import monkey

if not monkey.is_module_patched("socket"):  # library use; the CLI patches at its entry point
    monkey.patch_all()

import gevent
import paramiko
from pyinfra.api.command import FunctionCommand, StringCommand
from pyinfra.api.config import Config
from pyinfra.api.connect import connect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.facts import FactBase
from pyinfra.api.inventory import Inventory
from pyinfra.api.operation import operation
from pyinfra.api.state import (
    BaseStateCallback,
    State,
    StateStage,
)
from pyinfra.connectors.local import LocalConnector
from pyinfra.context import ctx_state

from openclaw.inventory import Host
from openclaw.sync.secrets import install_log_filter
from openclaw.sync.session import Outcome, Upload, Work

T = TypeVar("T")
log = logging.getLogger("openclaw.engine")

# paramiko wakes each connection's reader every 0.1 s only to see whether it was closed:
# under gevent, a greenlet per host woken for nothing, hosts x seconds x 10 times. At 1,000
# hosts for a minute that is most of the controller's CPU. close() does not wait for the
# wake-up (it closes the packetizer first); a handshake's timeout is seen up to 2 s later.
paramiko.Transport._active_check_timeout = 2.0  # type: ignore[attr-defined]


class RemoteScript(FactBase[str]):
    """An openclaw-built script run as a fact; its whole output, as text."""

    def command(self, script: str) -> str:
        return script

    def process(self, output: list[str]) -> str:
        return "\n".join(output) + "\n"


@operation(is_idempotent=False)
def sync_host(staging: str, uploads: tuple[Upload, ...], script: str
              ) -> Generator[Any, None, None]:
    """Stage the files (as the SSH user, into a 0700 directory, in one SFTP session), then
    install them and run the unit steps (with sudo when the host uses it)."""
    yield FunctionCommand(lambda state, host: stage(host.connector, staging, uploads), (), {})
    yield StringCommand(script)


# Where an interrupted upload of a large local file (the OpenClaw bundle) waits to be
# resumed, per SSH user: /tmp/openclaw-uploads-<uid>/<sha256>.part.
UPLOADS = "/tmp/openclaw-uploads-"
_CHUNK = 32768  # SFTP's largest packet


def stage(connector: Any, staging: str, uploads: tuple[Upload, ...]) -> dict[str, int]:
    """Make the staging directory and put every upload in it, over one SFTP session. Bytes
    are sent whole; a local file is streamed from disk, never read whole into memory, and
    resumed where an earlier transfer of the same content stopped. Returns, per resumed
    upload, the bytes it did not send again."""
    if isinstance(connector, LocalConnector):
        os.mkdir(staging, 0o700)
        for source, name in uploads:
            if isinstance(source, bytes):
                Path(staging, name).write_bytes(source)
            else:
                shutil.copyfile(source, Path(staging, name))
        return {}
    sftp = connector.get_file_transfer_connection()
    sftp.mkdir(staging, 0o700)
    resumed: dict[str, int] = {}
    for source, name in uploads:
        target = f"{staging}/{name}"
        if isinstance(source, bytes):
            sftp.putfo(io.BytesIO(source), target)
        else:
            skipped = _resumable(sftp, source, target, sftp.lstat(staging).st_uid)
            if skipped:
                resumed[name] = skipped
    return resumed


def _resumable(sftp: Any, source: str, target: str, uid: int) -> int:
    """Send `source` to `target` through a partial file kept by content hash in the SSH
    user's own 0700 directory (anyone's else, or a link, and the file goes straight to the
    target, not resumable); returns how many bytes an earlier attempt had already sent."""
    size = os.path.getsize(source)
    folder = f"{UPLOADS}{uid}"
    with contextlib.suppress(OSError):
        sftp.mkdir(folder, 0o700)
    st = sftp.lstat(folder)
    if not (stat.S_ISDIR(st.st_mode or 0) and st.st_uid == uid
            and (st.st_mode or 0) & 0o077 == 0):
        with open(source, "rb") as whole:
            sftp.putfo(whole, target)
        return 0
    part = f"{folder}/{_file_digest(source)}.part"
    _prune(sftp, folder, keep=part)
    try:
        have = sftp.stat(part).st_size or 0
    except OSError:
        have = 0
    if have > size:
        sftp.remove(part)
        have = 0
    with open(source, "rb") as local, sftp.open(part, "ab" if have else "wb") as remote:
        remote.set_pipelined(True)
        local.seek(have)
        while chunk := local.read(_CHUNK):
            remote.write(chunk)
    if sftp.stat(part).st_size != size:
        raise OSError(f"the upload of {os.path.basename(source)} is incomplete")
    sftp.posix_rename(part, target)
    return have


# A partial upload nobody resumed for this long is another version's: it only fills /tmp.
STALE_PARTIAL = 7 * 24 * 3600


def _prune(sftp: Any, folder: str, keep: str) -> None:
    """Remove the folder's partial uploads older than STALE_PARTIAL (`keep` aside)."""
    now = time.time()
    for entry in sftp.listdir_attr(folder):
        path = f"{folder}/{entry.filename}"
        if (entry.filename.endswith(".part") and path != keep
                and now - (entry.st_mtime or now) > STALE_PARTIAL):
            with contextlib.suppress(OSError):
                sftp.remove(path)


@functools.cache
def _file_digest(path: str) -> str:
    """sha256 of a local file, once per run (the bundle: hundreds of MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


class _NoDelay(BaseStateCallback):
    """paramiko leaves Nagle on: each command would wait ~40 ms for nothing."""

    @staticmethod
    def host_connect(state: State, host: Any) -> None:
        try:
            sock = host.connector.client.get_transport().sock
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except Exception:  # local hosts have no socket; nothing to tune
            pass


_CONNECT_ERRORS: weakref.WeakKeyDictionary[State, dict[str, str]] = weakref.WeakKeyDictionary()


class _ConnectErrors(BaseStateCallback):
    """Why each host could not be reached, in pyinfra's words (refused, authentication...),
    kept per State (pyinfra's callbacks are static)."""

    @staticmethod
    def host_connect_error(state: State, host: Any, error: Any) -> None:
        text = str(error.args[0]) if getattr(error, "args", None) else str(error)
        reasons = _CONNECT_ERRORS.get(state)
        if reasons is not None:
            reasons[host.name] = re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()[0][:300]


def inventory_groups(hosts: Iterable[Host]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """One group per region, host data in pyinfra's keys."""
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for h in hosts:
        groups.setdefault(_group(h.region), []).append((h.name, _host_data(h)))
    return groups


def _host_data(h: Host) -> dict[str, Any]:
    data: dict[str, Any] = {"ssh_hostname": h.ssh_host, "ssh_port": h.ssh_port,
                            "_sudo": h.sudo,
                            "ssh_strict_host_key_checking": h.ssh_host_key_checking}
    if h.ssh_user:
        data["ssh_user"] = h.ssh_user
    if h.ssh_key:
        data["ssh_key"] = os.path.expanduser(h.ssh_key)
    if h.ssh_known_hosts:
        data["ssh_known_hosts_file"] = os.path.expanduser(h.ssh_known_hosts)
    return data


class Session:
    """Connections to a set of hosts, worked in parallel greenlets."""

    def __init__(self, hosts: Iterable[Host], *, connect_timeout: int = 10) -> None:
        self.hosts = list(hosts)
        install_log_filter("pyinfra", "paramiko")
        groups: dict[str, tuple[list[str], dict[str, Any]]] = {
            g: ([name for name, _ in members], {})
                  for g, members in inventory_groups(self.hosts).items()}
        inventory = Inventory(([(h.name, _host_data(h)) for h in self.hosts], {}), **groups)
        by_name = {h.name: h for h in self.hosts}
        for ph in inventory:
            if by_name[ph.name].local:
                ph.connector_cls = LocalConnector
        self.state = State(inventory, Config(CONNECT_TIMEOUT=connect_timeout,
                                             FAIL_PERCENT=100))
        self.state.add_callback_handler(_NoDelay())
        self._connect_errors: dict[str, str] = {}
        _CONNECT_ERRORS[self.state] = self._connect_errors
        self.state.add_callback_handler(_ConnectErrors())
        self.unreachable: dict[str, str] = {}
        self._pyinfra_hosts = {ph.name: ph for ph in inventory}

    def __enter__(self) -> Session:
        ctx_state.set(self.state)
        self.state.set_stage(StateStage.Connect)
        # "No hosts remaining!" when every host failed: each says why below.
        with contextlib.suppress(PyinfraError):
            connect_all(self.state)
        active = {ph.name for ph in self.state.activated_hosts} - \
            {ph.name for ph in self.state.failed_hosts}
        for h in self.hosts:
            if h.name not in active:
                why = self._connect_errors.get(h.name)
                self.unreachable[h.name] = f"cannot connect to {h.ssh_host}:{h.ssh_port}" + (
                    f": {why}" if why else "")
        self.state.set_stage(StateStage.Prepare)
        return self

    def __exit__(self, *exc: object) -> None:
        def close(ph: Any) -> None:
            try:
                ph.disconnect()
                client = getattr(ph.connector, "client", None)
                if client is not None:  # disconnect_all leaves paramiko clients open
                    client.close()
            except Exception:
                pass
        # In parallel: each close waits ~0.1 s for its transport thread to notice.
        gevent.joinall([self.state.pool.spawn(close, ph)
                        for ph in self._pyinfra_hosts.values()])

    @property
    def reachable(self) -> list[str]:
        return [h.name for h in self.hosts if h.name not in self.unreachable]

    def each(self, names: Iterable[str], fn: Callable[[Any], T]) -> dict[str, T | Exception]:
        """Run fn(pyinfra host) for each named host at once; exceptions are returned."""
        def guarded(ph: Any) -> T | Exception:
            try:
                return fn(ph)
            except Exception as e:  # reported per host by the caller
                return e
        names = [n for n in names if n not in self.unreachable]
        greenlets = {n: self.state.pool.spawn(guarded, self._pyinfra_hosts[n]) for n in names}
        gevent.joinall(list(greenlets.values()))
        return {n: g.value for n, g in greenlets.items()}

    def shell(self, scripts: dict[str, str], *, sudo: bool = True) -> dict[str, Outcome]:
        """One command per host, in parallel; its output as text."""
        def run(ph: Any) -> Outcome:
            use_sudo = sudo and bool(ph.data.get("_sudo"))
            ok, out = ph.run_shell_command(StringCommand(scripts[ph.name]), _sudo=use_sudo)
            return Outcome(ok, "\n".join(out.stdout_lines) + "\n",
                           "\n".join(out.stderr_lines))
        return {n: r if isinstance(r, Outcome) else Outcome(False, error=_why(r))
                for n, r in self.each(scripts, run).items()}

    def apply(self, work: dict[str, Work]) -> dict[str, Outcome]:
        """work: host -> (staging dir, uploads, install script). Per host, in parallel: one
        SFTP session for the staging directory and the uploads, then the script as one
        command."""
        def run(ph: Any) -> Outcome:
            staging, uploads, script = work[ph.name]
            try:
                stage(ph.connector, staging, uploads)
            except (OSError, EOFError, paramiko.SSHException) as e:
                return Outcome(False, error=f"upload to {staging} failed: {_why(e)}")
            ok, out = ph.run_shell_command(StringCommand(script),
                                           _sudo=bool(ph.data.get("_sudo")))
            return Outcome(ok, "\n".join(out.stdout_lines) + "\n",
                           "\n".join(out.stderr_lines))
        return {n: r if isinstance(r, Outcome) else Outcome(False, error=_why(r))
                for n, r in self.each(work, run).items()}


def _group(region: str) -> str:
    return "region_" + region.replace("-", "_").replace(".", "_")


def _why(error: BaseException) -> str:
    text = str(error) or error.__class__.__name__
    return text.splitlines()[0][:300]


def deploy_current_host(project: Any, values: dict[str, str]) -> None:
    """The body of deploys/openclaw.py under the pyinfra CLI: probe this host, compare with
    its HostPlan, and add the one operation that converges it (nothing when in sync)."""
    import secrets as pysecrets

    from pyinfra import host  # type: ignore[attr-defined]

    from openclaw.compile import compile_host
    from openclaw.sync import install, probe
    from openclaw.sync.changes import compute
    from openclaw.sync.runner import desired_contents
    from openclaw.sync.secrets import REDACT

    name = host.data.get("openclaw_host") or host.name
    model_host = next(h for h in project.inventory.hosts if h.name == name)
    plan = compile_host(project.config, model_host)
    salt = pysecrets.token_hex(16)
    REDACT.add(salt)
    state = probe.parse_state(plan, host.get_fact(
        RemoteScript, probe.state_script(plan, salt)))
    differ = [f.path for f in plan.files if not f.sensitive and not f.merge
              and f.path in state.paths
              and state.paths[f.path].exists and state.paths[f.path].sha256 != f.sha256]
    contents = probe.parse_content(plan, differ, host.get_fact(
        RemoteScript, probe.content_script(plan, differ))) if differ else {}
    desired = desired_contents(plan, values)
    changes = compute(plan, state, desired=desired, contents=contents, salt=salt,
                      address=model_host.ssh_host)
    if not changes.changed:
        return
    token = pysecrets.token_hex(12)
    paths = install.to_write(changes)
    staging = f"/tmp/openclaw-stage-{pysecrets.token_hex(8)}"
    script = install.install_script(plan, changes, staging, paths, token,
                                    own_lock=f"pyinfra CLI on {socket.gethostname()}")
    sync_host(staging=staging, uploads=((install.bundle(paths, {**desired, **changes.merged}),
                                         "bundle.tar"),) if paths else (),
              script=script, name="openclaw: install files and run unit steps")
