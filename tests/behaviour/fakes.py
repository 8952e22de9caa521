"""Fake HTTP servers on 127.0.0.1 for the script behaviour tests: a provider or gateway whose
answer is set per path (a status, or a hang), and recorders of everything they were sent."""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body).items()}

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Behaviour:
    status: int = 200
    delay: float = 0.0  # seconds before answering; longer than the probe timeout = a hang
    body: bytes = b""  # default: what OpenClaw's gateway answers on that path


# The real gateway's answers (OPENCLAW-NOTES.md), for the fakes standing in for it.
BODIES = {"/healthz": b'{"ok":true,"status":"live"}',
          "/readyz": b'{"ready":true,"failing":[],"uptimeMs":60000}'}


@dataclass
class FakeServer:
    """Answers each path as told (default 200) and records every request."""

    routes: dict[str, Behaviour] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    port: int = 0

    def __enter__(self) -> FakeServer:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode(errors="replace")
                path = self.path.split("?", 1)[0]
                fake.requests.append(Request(self.command, path, dict(self.headers), body))
                b = fake.routes.get(path, Behaviour())
                if b.delay:
                    time.sleep(b.delay)
                payload = b.body or BODIES.get(path, b'{"ok": true}')
                try:
                    self.send_response(b.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (a hang it timed out on)

            do_GET = do_POST = _serve

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set(self, path: str, status: int = 200, delay: float = 0.0, body: bytes = b"") -> None:
        self.routes[path] = Behaviour(status, delay, body)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def clear(self) -> None:
        self.requests.clear()
