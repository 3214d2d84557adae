"""The `webhook` target: each operation is POSTed as JSON to the platform's deployment API.

Request: `POST <url>` with the operation as JSON and an `Idempotency-Key` header (also in the body). The
platform answers `200 {"status": "succeeded"}`, `200 {"status": "failed", "detail": ...}`, or
`202 {"status": "pending", "status_url": ...}` (or a Location header), in which case the status URL is
polled until the operation settles or `stepTimeout` passes. Connection failures, timeouts, 429 and 5xx
are retried with exponential backoff and jitter. The URL is a secret reference, resolved when the first
request is sent and never printed. Once an operation found nobody listening after all its retries, the rest of
the apply's operations fail at once, unsent, rather than each waiting out its own retries (the next apply
sends them).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from modelops.base.http import HttpError, Response, Retry, request
from modelops.config.scalars import ScalarError
from modelops.config.scalars.secretref import scrub
from modelops.config.spec.environment import WebhookTarget
from modelops.core.live import LiveModel, LiveSlot, Observation
from modelops.core.model import EnvironmentConfig
from modelops.drivers.base import Operation, Outcome
from modelops.state.format import SLOTS


class WebhookDriver:
    """Steps as HTTP calls to a platform API."""

    name = "webhook"

    def __init__(self, environment: str, settings: WebhookTarget, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.environment = environment
        self.settings = settings
        self.sleep = sleep
        self.clock = clock
        self.label = f"webhook {settings.url}"
        self._down: str | None = None  # why an earlier operation of this apply could not reach the platform

    @classmethod
    def create(cls, root: Path, env: EnvironmentConfig) -> WebhookDriver:
        assert env.spec.target.webhook is not None  # validation requires it for this driver
        return cls(env.name, env.spec.target.webhook)

    def _url(self) -> str:
        return self.settings.url.resolve()

    def _retry(self) -> Retry:
        return Retry(retries=self.settings.max_retries, sleep=self.sleep)

    def execute(self, operation: Operation) -> Outcome:
        if self._down is not None:
            return Outcome(False, f"not sent: {self._down} on an earlier step of this apply; the next apply sends it")
        secrets: list[str] = []
        try:
            url = self._url()
            secrets.append(url)
            response = request("POST", url, label=self.label, payload=operation.to_dict(),
                               headers={"Idempotency-Key": operation.key}, timeout=self.settings.timeout.seconds,
                               retry=self._retry())
            outcome = self._settle(url, response)
        except HttpError as exc:
            outcome = Outcome(False, str(exc))
            if exc.refused:
                self._down = str(exc)
        except ScalarError as exc:
            outcome = Outcome(False, str(exc))
        # the platform's answers reach the output, the journal and state.json: a platform echoing the URL (its
        # token) back in a refusal must not carry it there
        return Outcome(outcome.ok, scrub(outcome.detail, secrets), _scrubbed(outcome.data, secrets))

    def _settle(self, url: str, response: Response) -> Outcome:
        deadline = self.clock() + self.settings.step_timeout.seconds
        while True:
            body = _json(response)
            failed = response.status >= 400
            status = "failed" if failed else body.get("status")
            detail = str(body.get("detail") or (response.text(200) if failed else ""))
            if status == "succeeded" or (response.status in (200, 201, 204) and status is None):
                return Outcome(True, detail or "accepted", body)
            if status == "failed":
                return Outcome(False, f"{self.label} answered HTTP {response.status}: {detail or 'failed'}", body)
            status_url = body.get("status_url") or response.headers.get("Location")
            if not status_url:
                return Outcome(False, f"{self.label}: pending answer without a status_url to poll", body)
            if self.clock() >= deadline:
                return Outcome(False, f"{self.label}: still pending after {self.settings.step_timeout}", body)
            poll = urllib.parse.urljoin(url, status_url)
            if _origin(poll) != _origin(url):
                return Outcome(False, f"{self.label}: refused to poll a status URL on another origin "
                                      f"({_origin(poll)}): it must be on the platform's own", body)
            self.sleep(self.settings.poll_interval.seconds)
            response = request("GET", poll, label=self.label, timeout=self.settings.timeout.seconds,
                               retry=self._retry())

    def observe(self) -> Observation:
        """`GET <url>/models?environment=ENV`: every model the platform serves for the environment
        (docs/webhook-protocol.md)."""
        source = f"{self.label} (GET models)"
        secrets: list[str] = []
        try:
            url = self._url()
            secrets.append(url)
            listing = urllib.parse.urljoin(url.rstrip("/") + "/", "models")
            response = request("GET", f"{listing}?environment={urllib.parse.quote(self.environment)}",
                               label=self.label, timeout=self.settings.timeout.seconds, retry=self._retry())
        except (HttpError, ScalarError) as exc:
            return Observation(source, {}, scrub(str(exc), secrets))
        if response.status != 200:
            return Observation(source, {}, f"{self.label} answered HTTP {response.status} to GET models")
        return _observation(source, _json(response))

    def close(self) -> None:
        return None


def _observation(source: str, body: Mapping[str, Any]) -> Observation:
    """The platform's answer as an observation; a model or slot it describes in another shape is an error, not a
    guess (docs/webhook-protocol.md gives the shape)."""
    try:
        models = {str(name): _live_model(entry) for name, entry in dict(body["models"]).items()}
    except (KeyError, TypeError, ValueError) as exc:
        return Observation(source, {}, f"the platform's GET models answer is not as docs/webhook-protocol.md "
                                       f"describes it ({type(exc).__name__}: {exc})")
    return Observation(source, models)


def _live_model(entry: Mapping[str, Any]) -> LiveModel:
    slots = {str(slot): LiveSlot(str(held["version"]), str(held["revision"]),
                                 held.get("ready") if isinstance(held.get("ready"), bool) else None)
             for slot, held in dict(entry.get("slots") or {}).items() if slot in SLOTS}
    traffic = {str(slot): int(weight) for slot, weight in dict(entry.get("traffic") or {}).items() if slot in SLOTS}
    return LiveModel(slots, traffic)


def _origin(url: str) -> str:
    """scheme://host:port, the port spelled out (a status URL may not leave the platform's origin)."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{parts.hostname}:{port}"


def _scrubbed(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, Mapping):
        return {k: _scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, secrets) for v in value]
    return value


def _json(response: Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
