"""A small model server for the local runtime's tests: a `spec.serving.local.command` that starts in a moment.

    python3 tests/data/local-runtime/model_server.py --port {port} [--fail-every N] [--crash] [--slow-start SECONDS]

It speaks enough of the Open Inference Protocol (V2) for the runtime and the gates: `/health`, `/v2/health/ready`,
`/v2/models/<name>/ready`, `POST /v2/models/<name>/infer` (answers `outputs`; with `--fail-every N` every N-th
inference answers 500), and `/metrics` in the metric catalogue's names (`modelops_requests_total{code}`), so the
runtime's Prometheus can scrape it. `--crash` writes an error and exits before listening (a slot that fails to
start); `--slow-start` waits before it listens. Standard library only: it runs under any python3.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(port: int, fail_every: int) -> None:
    version = os.environ.get("MODELOPS_VERSION", "0.0.0")
    answered: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                with lock:
                    lines = [f'modelops_requests_total{{code="{code}"}} {n}' for code, n in sorted(answered.items())]
                return self._send(200, "\n".join(["# TYPE modelops_requests_total counter", *lines]) + "\n",
                                  "text/plain; version=0.0.4")
            if self.path in ("/health", "/v2/health/ready") or self.path.endswith("/ready"):
                return self._send(200, json.dumps({"ready": True, "version": version}))
            return self._send(404, json.dumps({"error": "not found"}))

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not self.path.endswith("/infer"):
                return self._send(404, json.dumps({"error": "not found"}))
            with lock:
                number = sum(answered.values()) + 1
                code = "500" if fail_every and number % fail_every == 0 else "200"
                answered[code] += 1
            if code == "500":
                return self._send(500, json.dumps({"error": "inference failed"}))
            return self._send(200, json.dumps({"model_version": version,
                                               "outputs": [{"name": "predict", "shape": [1, 1], "datatype": "INT64",
                                                            "data": [0]}]}))

        def _send(self, status: int, body: str, kind: str = "application/json") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return None

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fail-every", type=int, default=0)
    parser.add_argument("--crash", action="store_true")
    parser.add_argument("--slow-start", type=float, default=0.0)
    args = parser.parse_args()
    if args.crash:
        print("error: cannot load the model: the artifact is not a model", file=sys.stderr, flush=True)
        return 3
    time.sleep(args.slow_start)
    print(f"serving {os.environ.get('MODELOPS_MODEL')} {os.environ.get('MODELOPS_VERSION')} on {args.port}",
          flush=True)
    serve(args.port, args.fail_every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
