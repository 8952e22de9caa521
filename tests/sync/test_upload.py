"""The staging upload over SFTP against a real sshd (a light host): one session for the
directory and every file, and a large local file resumed where an interrupted transfer of the
same content stopped, in the SSH user's own directory only."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openclaw.inventory import Host
from openclaw.sync import engine
from tests.hosts.light import LightHost, light_hosts
from tests.hosts.nspawn import make_key

SIZE = 3 * 1024 * 1024 + 123


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, LightHost]]:
    if os.geteuid() != 0:
        pytest.fail("the upload test needs root (mount namespaces); `make test` runs as root")
    workdir = tmp_path_factory.mktemp("upload")
    key = make_key(workdir)
    with light_hosts(1, workdir, key, first=80) as hosts:
        h = hosts[0]
        host = Host("up1", "r1", h.ip, 22, "root", str(key), str(workdir / "known_hosts"),
                    "accept-new", False, "/")
        with engine.Session([host]) as s:
            assert not s.unreachable, s.unreachable
            yield s, h


def _sftp(s: Any) -> Any:
    return s._pyinfra_hosts["up1"].connector.get_file_transfer_connection()


def _planted(s: Any, tmp_path: Path, content: bytes | Callable[[bytes], bytes]
             ) -> tuple[Any, Path, bytes, str, str]:
    """A bundle on this machine, and `content` as the partial upload of it on the host:
    (sftp, bundle, its bytes, the upload folder, the partial file)."""
    sftp = _sftp(s)
    data = os.urandom(SIZE)
    path = tmp_path / "openclaw-runtime.tar.gz"
    path.write_bytes(data)
    folder = f"{engine.UPLOADS}0"
    with contextlib.suppress(OSError):
        sftp.mkdir(folder, 0o700)
    part = f"{folder}/{hashlib.sha256(data).hexdigest()}.part"
    with sftp.open(part, "wb") as f:
        f.write(content(data) if callable(content) else content)
    return sftp, path, data, folder, part


def _read(sftp: Any, path: str) -> bytes:
    with sftp.open(path, "rb") as f:
        return bytes(f.read())


def test_an_interrupted_upload_resumes_where_it_stopped(
        session: tuple[Any, LightHost], tmp_path: Path) -> None:
    s, host = session
    # what a dropped connection left: the first 1 MiB
    sftp, path, data, folder, part = _planted(s, tmp_path, lambda d: d[:1 << 20])
    before = host.sessions()
    resumed = engine.stage(s._pyinfra_hosts["up1"].connector, "/tmp/openclaw-stage-t1",
                           ((b"small", "bundle.tar"), (str(path), "runtime.tar.gz")))
    assert resumed == {"runtime.tar.gz": 1 << 20}
    assert _read(sftp, "/tmp/openclaw-stage-t1/runtime.tar.gz") == data
    assert _read(sftp, "/tmp/openclaw-stage-t1/bundle.tar") == b"small"
    assert oct(sftp.stat("/tmp/openclaw-stage-t1").st_mode & 0o777) == "0o700"
    # the partial file became the staged one; nothing is left to resume
    assert sftp.listdir(folder) == []
    assert host.sessions() == before  # the session's SFTP channel, opened once, reused

    # A partial file longer than the content (not a prefix of it) starts over.
    with sftp.open(part, "wb") as f:
        f.write(os.urandom(SIZE + 10))
    assert engine.stage(s._pyinfra_hosts["up1"].connector, "/tmp/openclaw-stage-t2",
                        ((str(path), "runtime.tar.gz"),)) == {}
    assert _read(sftp, "/tmp/openclaw-stage-t2/runtime.tar.gz") == data


def test_an_upload_folder_others_can_write_is_not_used(
        session: tuple[Any, LightHost], tmp_path: Path) -> None:
    s, _ = session
    # planted by whoever could write there
    sftp, path, data, folder, with_part = _planted(s, tmp_path, b"X" * 1000)
    sftp.chmod(folder, 0o777)
    try:
        assert engine.stage(s._pyinfra_hosts["up1"].connector, "/tmp/openclaw-stage-t3",
                            ((str(path), "runtime.tar.gz"),)) == {}
        assert _read(sftp, "/tmp/openclaw-stage-t3/runtime.tar.gz") == data
        assert sftp.stat(with_part).st_size == 1000  # neither read nor moved
    finally:
        sftp.chmod(folder, 0o700)
        sftp.remove(with_part)


def test_partial_uploads_left_for_a_week_are_removed(
        session: tuple[Any, LightHost], tmp_path: Path) -> None:
    """Another version's bundle, interrupted and never resumed, does not fill /tmp for
    ever: the next upload removes partial files older than a week, and no other."""
    s, _ = session
    sftp, path, data, folder, _ = _planted(s, tmp_path, b"")
    old, recent = f"{folder}/{'a' * 64}.part", f"{folder}/{'b' * 64}.part"
    for name in (old, recent):
        with sftp.open(name, "wb") as f:
            f.write(b"an earlier version, cut short")
    week = engine.STALE_PARTIAL
    sftp.utime(old, (0, int(sftp.stat(old).st_mtime) - week - 60))
    engine.stage(s._pyinfra_hosts["up1"].connector, "/tmp/openclaw-stage-t4",
                 ((str(path), "runtime.tar.gz"),))
    assert _read(sftp, "/tmp/openclaw-stage-t4/runtime.tar.gz") == data
    assert sftp.listdir(folder) == [recent.rsplit("/", 1)[1]]
    sftp.remove(recent)


def test_an_idle_connection_is_not_woken_ten_times_a_second(
        session: tuple[Any, LightHost], tmp_path: Path) -> None:
    """paramiko polls each connection for its own close every 0.1 s by default: a greenlet
    per host woken for nothing, most of a 1,000-host plan's controller CPU. The engine's
    connections are polled every 2 s, and still closed at once."""
    s, _ = session
    def transport_of(session: Any) -> Any:
        return session._pyinfra_hosts["up1"].connector.client.get_transport()
    transport = transport_of(s)
    assert transport.sock.gettimeout() == 2.0
    h = s.hosts[0]
    with engine.Session([h]) as other:
        assert not other.unreachable
        again = transport_of(other)
        assert again.is_active()
    assert not again.is_active()
