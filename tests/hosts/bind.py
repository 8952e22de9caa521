"""A real authoritative DNS server for the tests: BIND on a free loopback port, its zone
changed through RFC 2136 with a TSIG key (octodns-bind), read back with dig."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

SECRET = base64.b64encode(b"canary-tsig-Vb7Kq2-0123456789abcdef").decode()
ZONE = """$TTL 300
@    IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 300
@    IN NS  ns.example.test.
ns   IN A   127.0.0.1
www  IN A   192.0.2.80
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def provider(port: int, secret_env: str = "OPENCLAW_TEST_TSIG", indent: str = "    ") -> str:
    """deployment.dns.provider for this server (YAML, at `indent`)."""
    return "".join(f"{indent}{line}\n" for line in (
        "class: octodns_bind.Rfc2136Provider", "host: 127.0.0.1", f"port: {port}",
        "key_name: openclaw", f"key_secret: env/{secret_env}", "key_algorithm: hmac-sha256",
        "# BIND has no dynamic records: every host in service is answered",
        "strict_supports: false"))


def dig(port: int, name: str, kind: str = "A") -> list[str]:
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+short", "+norecurse",
                          "+time=2", "+tries=3", name, kind], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return sorted(out.split())


@contextlib.contextmanager
def named(d: Path) -> Iterator[int]:
    """BIND serving example.test from `d` on a free loopback port; stopped by PID."""
    binary = shutil.which("named") or "/usr/sbin/named"
    if not os.path.exists(binary):
        raise RuntimeError("no named: the DNS tests need bind9 (make test installs it)")
    port = free_port()
    d.mkdir(parents=True, exist_ok=True)
    (d / "example.test.zone").write_text(ZONE)
    (d / "named.conf").write_text(f"""options {{
  directory "{d}";
  pid-file "{d}/named.pid";
  session-keyfile "{d}/session.key";
  managed-keys-directory "{d}";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  recursion no;
  dnssec-validation no;
  allow-query {{ 127.0.0.1; }};
}};
controls {{ }};
key "openclaw" {{ algorithm hmac-sha256; secret "{SECRET}"; }};
zone "example.test" {{
  type primary;
  file "{d}/example.test.zone";
  allow-update {{ key "openclaw"; }};
  allow-transfer {{ key "openclaw"; }};
}};
""")
    log = (d / "named.log").open("w")
    proc = subprocess.Popen([binary, "-g", "-c", str(d / "named.conf")], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            r = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+short", "+time=1",
                                "+tries=1", "example.test", "SOA"], capture_output=True,
                               text=True, timeout=10)
            if r.stdout.strip():
                break
            assert proc.poll() is None and time.monotonic() < deadline, \
                (d / "named.log").read_text()[-2000:]
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
