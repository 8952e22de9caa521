"""A fake OpenAI-compatible provider on 127.0.0.1: answers chat completions with a set status
(or a real completion naming itself, with token usage; streamed as server-sent events when
the request asks for a stream, as OpenClaw's requests do) and records each request."""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass, field
from typing import Any

ERRORS = {400: "invalid_request_error", 401: "invalid_api_key", 429: "rate_limit_exceeded",
          500: "server_error", 503: "server_error"}


@dataclass
class FakeProvider:
    name: str
    status: int = 200
    usage: tuple[int, int] = (10, 5)  # prompt, completion tokens per answer
    calls: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    log: str = ""  # a file that gets one JSON line per request (model, stream, status)

    def __enter__(self) -> FakeProvider:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.calls.append({"path": self.path, "auth": self.headers.get(
                    "Authorization", ""), "body": body})
                if fake.log:
                    with open(fake.log, "a") as fh:
                        fh.write(json.dumps({"path": self.path, "model": body.get("model"),
                                             "stream": bool(body.get("stream")),
                                             "tools": bool(body.get("tools")),
                                             "status": fake.status}) + "\n")
                if fake.status == 200 and body.get("stream"):
                    self._stream(body)
                    return
                if fake.status == 200:
                    prompt, completion = fake.usage
                    payload = {
                        "id": f"chatcmpl-{fake.name}-{len(fake.calls)}",
                        "object": "chat.completion", "created": 1767225600,
                        "model": body.get("model", ""),
                        "choices": [{"index": 0, "finish_reason": "stop", "message": {
                            "role": "assistant", "content": f"answer from {fake.name}"}}],
                        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                  "total_tokens": prompt + completion}}
                else:
                    payload = {"error": {"message": f"{fake.name} says {fake.status}",
                                         "type": ERRORS.get(fake.status, "error"),
                                         "code": ERRORS.get(fake.status, "error")}}
                data = json.dumps(payload).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any]) -> None:
                prompt, completion = fake.usage
                base = {"id": f"chatcmpl-{fake.name}-{len(fake.calls)}",
                        "object": "chat.completion.chunk", "created": 1767225600,
                        "model": body.get("model", "")}
                chunks = [
                    {**base, "choices": [{"index": 0, "finish_reason": None, "delta": {
                        "role": "assistant", "content": f"answer from {fake.name}"}}]},
                    {**base, "choices": [{"index": 0, "finish_reason": "stop", "delta": {}}],
                     "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                               "total_tokens": prompt + completion}}]
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for chunk in chunks:
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def completions(self) -> int:
        return sum(1 for c in self.calls if c["path"].endswith("/chat/completions"))


def main() -> None:
    """Run one on 127.0.0.1:PORT until killed (inside a test host):
    provider.py NAME PORT [STATUS [LOG]]; STATUS may be changed later by writing a number
    into LOG.status."""
    import sys
    import time
    args = sys.argv[1:]
    fake = FakeProvider(args[0], port=int(args[1]),
                        status=int(args[2]) if len(args) > 2 else 200,
                        log=args[3] if len(args) > 3 else "")
    control = f"{fake.log}.status" if fake.log else ""
    with fake:
        while True:
            time.sleep(0.2)
            try:
                with open(control) as fh:
                    fake.status = int(fh.read().strip() or fake.status)
            except (OSError, ValueError):
                pass


if __name__ == "__main__":
    main()
