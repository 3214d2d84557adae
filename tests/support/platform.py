"""A deployment platform on loopback, for the webhook driver: it keeps a serving table like the local
driver's, deduplicates by idempotency key, and can be told to misbehave (5xx, 429, slow, pending)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.http import QuietHandler, listen


@dataclass
class Platform:
    """Server state and knobs; `requests` counts every POST, `executed` the distinct keys it acted on."""

    failures: list[int] = field(default_factory=list)  # status codes to answer before succeeding
    retry_after: str | None = None
    delay: float = 0.0
    pending_polls: int = 0  # answer 202 and need this many polls before succeeding
    reject: str | None = None  # answer {"status": "failed"} with this detail
    status_origin: str = ""  # where its pending answers' status_url points (another origin, to be refused)
    redirect_to: str | None = None  # answer every POST to /deploy with a 307 to this Location
    models: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, Any] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    executed: Counter[str] = field(default_factory=Counter)
    headers: list[dict[str, str]] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)  # every POST's body, as sent
    polls: int = 0
    observed: int = 0  # GET models answered
    lock: threading.Lock = field(default_factory=threading.Lock)

    def apply(self, body: dict[str, Any]) -> None:
        op, target, args = body["operation"], body["target"], body["args"]
        entry = self.models.setdefault(target, {"slots": {}, "traffic": {}}) if op not in ("policy", "rename") else {}
        if op == "deploy":
            entry["slots"][args["slot"]] = {"version": args["version"], "revision": args["revision"]}
        elif op == "traffic":
            entry["traffic"] = {s: w for s, w in args["weights"].items() if s in entry["slots"]}
        elif op == "retire":
            entry["slots"].pop(args["slot"], None)
            entry["traffic"].pop(args["slot"], None)
        elif op == "configure":
            entry["config"] = args["config"]
        elif op == "remove":
            self.models.pop(target, None)
        elif op == "rename":
            if args["from"] in self.models:
                self.models[target] = self.models.pop(args["from"])
        elif op == "policy":
            if args.get("digest") is None:
                self.policies.pop(target, None)
            else:
                self.policies[target] = args["digest"]


def serve(platform: Platform) -> tuple[ThreadingHTTPServer, str]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            if platform.redirect_to is not None and self.path == "/deploy":
                self.rfile.read(int(self.headers["Content-Length"]))
                return self.send_json(307, {}, {"Location": platform.redirect_to})
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers["Idempotency-Key"]
            with platform.lock:
                platform.requests[key] += 1
                platform.headers.append(dict(self.headers.items()))
                platform.bodies.append(body)
                failing = platform.failures.pop(0) if platform.failures else None
            if platform.delay:
                time.sleep(platform.delay)
            if failing is not None:
                extra = {"Retry-After": platform.retry_after} if failing == 429 and platform.retry_after else {}
                return self.send_json(failing, {"detail": "try again"}, extra)
            if platform.reject:
                return self.send_json(200, {"status": "failed", "detail": platform.reject})
            with platform.lock:
                if platform.executed[key] == 0:
                    platform.apply(body)
                platform.executed[key] += 1 if platform.executed[key] == 0 else 0
            if platform.pending_polls:
                return self.send_json(202, {"status": "pending",
                                            "status_url": f"{platform.status_origin}/status/{key}"})
            return self.send_json(200, {"status": "succeeded", "detail": f"{body['operation']} done"})

        def do_GET(self) -> None:
            if self.path.startswith("/status/"):
                platform.polls += 1
                done = platform.polls >= platform.pending_polls
                return self.send_json(200, {"status": "succeeded" if done else "pending", "status_url": self.path})
            if self.path.split("?", 1)[0].endswith("/models"):  # the refresh: everything the platform serves
                with platform.lock:
                    platform.observed += 1
                    listing = {name: {"slots": entry["slots"], "traffic": entry["traffic"]}
                               for name, entry in platform.models.items()}
                return self.send_json(200, {"environment": "staging", "models": listing})
            return self.send_json(404, {"error": "unknown path"})

    server = listen(Handler)
    return server, f"http://127.0.0.1:{server.server_port}/deploy"


def staging_on_webhook(repo: Path, variable: str, max_retries: int) -> None:
    """Point the example repository's staging environment at a webhook platform whose URL is in `variable`.

    The example's HTTP tests ask the stub model server, which reads the local driver's serving table: the models
    with several of them are removed, and embedder's one test becomes a command that passes."""
    for name in ("fraud-detector", "recommender", "sentiment"):
        (repo / f"environments/staging/models/{name}.yaml").unlink()
    embedder = repo / "environments/staging/models/embedder.yaml"
    embedder.write_text(embedder.read_text().replace(
        "http: {path: /v1/embeddings, method: POST, json: {input: hello}, expectStatus: 200}", 'command: ["true"]'))
    env_file = repo / "environments/staging/environment.yaml"
    env_file.write_text(env_file.read_text().replace(
        "    driver: local\n",
        f'    driver: webhook\n    webhook: {{url: "${{env:{variable}}}", maxRetries: {max_retries}}}\n'))
