"""A fake HTTP API on loopback that records every request as a JSON line and answers 200
(or the status in --status). Stands in for Telegram, a webhook or PagerDuty inside a test
host's own network namespace."""

import argparse
import http.server
import json
import urllib.parse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--status", type=int, default=200)
    args = parser.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode(errors="replace")
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
            with open(args.record, "a") as fh:
                fh.write(json.dumps({"path": self.path, "form": form, "body": body}) + "\n")
            self.send_response(args.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *a: object) -> None:
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
