"""A stand-in for `openclaw gateway` inside the test containers: /healthz and /readyz on
127.0.0.1:<--port>; any other path 404. Exit 78 on a bad command line, like the real one."""

import argparse
import http.server
import signal
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = 200 if self.path in ("/healthz", "/readyz", "/health", "/ready") else 404
        body = b'{"ok": true}\n' if code == 200 else b"{}\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stop-delay", type=float, default=0.0,
                        help="seconds to take over stopping, like draining connections")
    try:
        args = parser.parse_args()
    except SystemExit:
        sys.exit(78)

    def stop(*_: object) -> None:
        time.sleep(args.stop_delay)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
