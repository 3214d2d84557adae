"""A stand-in for model servers, so HTTP tests and health checks run for real on a laptop.

It answers `/<env>/<model>/<slot>/<any path>` from the local driver's serving table
(`.modelops/live/<env>.json` and its operation log): 503 when the slot holds nothing, 500 for a version
whose pre-release tag contains "broken", otherwise 200 with a small JSON body. Run it with:

    python examples/stub_server.py --repo . --port 8790
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from modelops.drivers.local import read_live


def make_handler(repo: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) < 3:
                return self._send(404, {"error": "expected /<env>/<model>/<slot>/..."})
            env, model, slot = parts[:3]
            table = _table(repo, env).get("models", {}).get(model, {})
            if slot == "active":
                slot = max(table.get("traffic", {"-": 0}).items(), key=lambda kv: kv[1])[0]
            held = table.get("slots", {}).get(slot)
            if held is None:
                return self._send(503, {"error": f"slot {slot} of {model} is not deployed"})
            if "broken" in held["version"]:
                return self._send(500, {"error": "inference failed", "version": held["version"]})
            return self._send(200, {"model": model, "version": held["version"], "slot": slot, "status": "Healthy"})

        def _send(self, code: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_HEAD = _answer

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


def _table(repo: Path, env: str) -> dict[str, Any]:
    return read_live(repo, env)  # the snapshot plus the operations logged since


def serve(repo: Path, port: int) -> ThreadingHTTPServer:
    return ThreadingHTTPServer(("127.0.0.1", port), make_handler(repo))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=Path())
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args()
    server = serve(args.repo.resolve(), args.port)
    print(f"stub model server on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
