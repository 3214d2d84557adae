"""The `webhook` target: each operation is POSTed as JSON to the platform's deployment API.

Request: `POST <url>` with the operation as JSON and an `Idempotency-Key` header (also in the body). The
platform answers `200 {"status": "succeeded"}`, `200 {"status": "failed", "detail": ...}`, or
`202 {"status": "pending", "status_url": ...}` (or a Location header), in which case the status URL is
polled until the operation settles. Connection failures, timeouts, malformed answers, 429 and 5xx are retried
with exponential backoff and jitter; `timeout` bounds each request with its whole answer, `stepTimeout` the
operation in all (its attempts, their waits and the polls).

The platform's origin (scheme, host and port of `url`) is the only one modelops talks to unless the environment
lists others in `allowedOrigins`: a status URL or a redirect elsewhere is refused and the step fails, and `auth`
is sent to the platform's own origin only. The URL may be a secret reference, resolved when the first request is
sent and never printed. Once an operation found nobody listening after all its retries, the rest of the apply's
operations fail at once, unsent, rather than each waiting out its own retries (the next apply sends them).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from modelops.base.clock import readable
from modelops.base.http import (
    NO_CREDENTIALS,
    Credentials,
    HttpError,
    Response,
    Retry,
    origin,
    request,
    shown,
    unfollowed,
)
from modelops.config.scalars import ScalarError
from modelops.config.scalars.secretref import SecretRef, scrub
from modelops.config.spec.environment import WebhookTarget
from modelops.config.spec.http import credentials
from modelops.core.live import LiveModel, LiveSlot, Observation
from modelops.core.model import EnvironmentConfig
from modelops.drivers.base import Operation, Outcome
from modelops.state.format import SLOTS


class WebhookDriver:
    """Steps as HTTP calls to a platform API."""

    name = "webhook"

    def __init__(self, environment: str, settings: WebhookTarget, *, root: Path | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.environment = environment
        self.settings = settings
        self.root = root
        self.sleep = sleep
        self.clock = clock
        url = settings.url
        self.label = f"webhook {url if isinstance(url, SecretRef) else shown(url)}"
        self._down: str | None = None  # why an earlier operation of this apply could not reach the platform

    @classmethod
    def create(cls, root: Path, env: EnvironmentConfig) -> WebhookDriver:
        assert env.spec.target.webhook is not None  # validation requires it for this driver
        return cls(env.name, env.spec.target.webhook, root=root)

    def _connect(self, secrets: list[str]) -> tuple[str, Credentials]:
        """The platform's URL and credentials, resolved now; their values join `secrets`, to be scrubbed."""
        url = self.settings.url
        resolved = url.resolve() if isinstance(url, SecretRef) else url
        secrets.append(resolved)
        found = credentials(self.settings.auth, self.root)
        secrets.extend(found.secrets)
        return resolved, found

    def _origins(self, url: str) -> frozenset[str]:
        """Where the platform may send modelops: its own origin and the allowed ones."""
        return frozenset({origin(url), *(origin(extra) for extra in self.settings.allowed_origins)})

    def _call(self, method: str, url: str, home: str, found: Credentials, deadline: float | None,
              **body: Any) -> Response:
        return request(method, url, label=self.label, timeout=self.settings.timeout.seconds,
                       retry=Retry(retries=self.settings.max_retries, sleep=self.sleep),
                       credentials=found if origin(url) == origin(home) else NO_CREDENTIALS,
                       follow=self._origins(home), want_json=True,
                       budget=None if deadline is None else max(0.0, deadline - self.clock()), **body)

    def execute(self, operation: Operation) -> Outcome:
        if self._down is not None:
            return Outcome(False, f"not sent: {self._down} on an earlier step of this apply; the next apply sends it")
        deadline = self.clock() + self.settings.step_timeout.seconds
        secrets: list[str] = []
        try:
            url, found = self._connect(secrets)
            response = self._call("POST", url, url, found, deadline, payload=operation.to_dict(),
                                  headers={"Idempotency-Key": operation.key})
            outcome = self._settle(url, found, response, deadline)
        except HttpError as exc:
            limit = readable(self.settings.step_timeout.ms, exact=True)
            outcome = Outcome(False, str(exc) + (f" (stepTimeout {limit} reached)" if exc.out_of_time else ""))
            if exc.refused:
                self._down = str(exc)
        except ScalarError as exc:
            outcome = Outcome(False, str(exc))
        # the platform's answers reach the output, the journal and state.json: a platform echoing the URL (its
        # token) or a credential back in a refusal must not carry it there
        return Outcome(outcome.ok, scrub(outcome.detail, secrets), _scrubbed(outcome.data, secrets))

    def _settle(self, url: str, found: Credentials, response: Response, deadline: float) -> Outcome:
        while True:
            body = _json(response)
            if 300 <= response.status < 400:
                why = unfollowed(response, url) or "a redirect without a Location"
                return Outcome(False, f"{self.label} answered HTTP {response.status}, {why}: list the origin in "
                                      "spec.target.webhook.allowedOrigins if the platform lives there", body)
            failed = response.status >= 400
            status = "failed" if failed else body.get("status")
            detail = str(body.get("detail") or (response.text(200) if failed else ""))
            if status == "succeeded" or (response.status in (200, 201, 204) and status is None):
                return Outcome(True, detail or "accepted", body)
            if status == "failed":
                return Outcome(False, f"{self.label} answered HTTP {response.status}: {detail or 'failed'}", body)
            status_url = body.get("status_url") or response.headers.get("Location")
            if not status_url or not isinstance(status_url, str):
                return Outcome(False, f"{self.label}: pending answer without a status_url to poll", body)
            if self.clock() >= deadline:
                return Outcome(False, f"{self.label}: still pending after "
                                      f"{readable(self.settings.step_timeout.ms, exact=True)}", body)
            poll = urllib.parse.urljoin(url, status_url)
            if origin(poll) not in self._origins(url) or "@" in urllib.parse.urlsplit(poll).netloc:
                return Outcome(False, f"{self.label}: refused to poll a status URL on another origin "
                                      f"({origin(poll)}): it must be on the platform's own, or listed in "
                                      "spec.target.webhook.allowedOrigins", body)
            self.sleep(self.settings.poll_interval.seconds)
            response = self._call("GET", poll, url, found, deadline)

    def observe(self) -> Observation:
        """`GET <url>/models?environment=ENV`: every model the platform serves for the environment
        (docs/webhook-protocol.md)."""
        source = f"{self.label} (GET models)"
        secrets: list[str] = []
        try:
            url, found = self._connect(secrets)
            listing = urllib.parse.urljoin(url.rstrip("/") + "/", "models")
            response = self._call("GET", f"{listing}?environment={urllib.parse.quote(self.environment)}", url,
                                  found, None)
        except (HttpError, ScalarError) as exc:
            return Observation(source, {}, scrub(str(exc), secrets))
        if response.status != 200:
            why = unfollowed(response, url)
            return Observation(source, {}, f"{self.label} answered HTTP {response.status} to GET models"
                                           + (f", {why}" if why else ""))
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
