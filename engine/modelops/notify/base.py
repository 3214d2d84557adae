"""Notifiers: Slack, PagerDuty, a generic webhook (Alertmanager v4 payload) and e-mail, behind one Protocol.

A notifier turns a `Notification` (one group's alerts, for one channel) into what its protocol expects.
It builds the message once, through a `Reveal` function that decides what a secret reference becomes:
its value when sending, the reference itself (`${env:NAME}`) for `--dry-run`. So a dry run shows exactly
what would be sent, and a resolved secret exists only inside `send`, for the request being made.

`send` never raises: every outcome, including a missing variable or a dead server, is a `DeliveryResult`,
so one failing channel cannot stop the others. HTTP notifiers retry 429, 5xx, timeouts, malformed answers and
refused connections with exponential backoff and jitter, each request bounded as a whole by the timeout, and
follow no redirect (`modelops.base.http`); a channel with `auth` sends its credentials to its own origin only.
E-mail retries 4xx SMTP replies and dropped connections the same way.
"""

from __future__ import annotations

import hashlib
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from modelops.base.http import HttpError, Retry, request, shown
from modelops.config.scalars import ScalarError
from modelops.config.scalars.secretref import SecretRef, scrub
from modelops.config.spec.http import HttpAuth, credentials

Reveal = Callable[[SecretRef], str]
Outcome = Literal["sent", "partial", "failed"]
SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class AlertView:
    """One alert as notifications show it."""

    key: str
    status: Literal["firing", "resolved"]
    severity: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: str
    ends_at: str | None = None
    value: float | None = None

    @property
    def fingerprint(self) -> str:
        """A stable 16-hex-digit identity of the alert's labels (Alertmanager's fingerprint has this shape)."""
        canonical = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()) if k != "severity")
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Notification:
    """What one channel is told about one group: its alerts, firing or just resolved."""

    environment: str
    policy: str
    channel: str
    group_key: str
    group_labels: Mapping[str, str]
    alerts: tuple[AlertView, ...]
    event: str  # trigger | update | repeat | resolve | escalate, or a rollout event: why it is sent (informational)
    at: str
    #: the one-line title, where the notification is not about alerts (a rollout event says what happened)
    headline: str | None = None

    @property
    def firing(self) -> list[AlertView]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[AlertView]:
        return [a for a in self.alerts if a.status == "resolved"]

    @property
    def status(self) -> Literal["firing", "resolved"]:
        return "firing" if self.firing else "resolved"

    @property
    def severity(self) -> str:
        pool = self.firing or list(self.alerts)
        return max((a.severity for a in pool), key=lambda s: SEVERITY_ORDER.get(s, 0), default="warning")

    @property
    def alertmanager_group_key(self) -> str:
        """Alertmanager's form, `{}/{route matchers}:{group labels}`. The route is the environment's route for the
        policy (as `export alertmanager` writes it), so one policy used by two environments makes two groups."""
        labels = ", ".join(f'{k}="{v}"' for k, v in sorted(self.group_labels.items()))
        return f'{{}}/{{env="{self.environment}",policy="{self.policy}"}}:{{{labels}}}'

    @property
    def dedup_key(self) -> str:
        """SHA-256 of the Alertmanager group key, as Alertmanager derives PagerDuty's `dedup_key`: same group, same
        incident; and never one incident for two environments (a staging resolve must not close production's)."""
        return hashlib.sha256(self.alertmanager_group_key.encode()).hexdigest()

    @property
    def common_labels(self) -> dict[str, str]:
        return _common([a.labels for a in self.alerts])

    @property
    def common_annotations(self) -> dict[str, str]:
        return _common([a.annotations for a in self.alerts])

    def title(self) -> str:
        """`[FIRING:2] production: sentiment high-latency (critical)`, the one-line form every channel uses."""
        if self.headline is not None:
            return self.headline
        count = len(self.firing) if self.firing else len(self.alerts)
        what = " ".join(self.group_labels[k] for k in self.group_labels if self.group_labels[k]) or self.policy
        return f"[{self.status.upper()}:{count}] {self.environment}: {what} ({self.severity})"

    def lines(self) -> list[str]:
        """One line per alert: status, severity, model, rule, value, summary."""
        out = []
        for alert in self.alerts:
            summary = alert.annotations.get("summary", "")
            out.append(f"{alert.status.upper()} {alert.severity} {alert.labels.get('model', '')}/"
                       f"{alert.labels.get('rule', '')}: {summary}".rstrip(": "))
        return out


def _common(maps: list[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in sorted(first.items()) if all(m.get(k) == v for m in maps[1:])}


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of sending one notification to one channel. A message some recipients refused is delivered
    (`ok`: sending it again would repeat it to the others) but partial: `refused` names who did not get it."""

    ok: bool
    attempts: int
    detail: str
    refused: tuple[str, ...] = ()

    @property
    def outcome(self) -> Outcome:
        if not self.ok:
            return "failed"
        return "partial" if self.refused else "sent"

    def describe(self) -> str:
        return with_attempts(self.detail, self.attempts)


def with_attempts(detail: str, attempts: int) -> str:
    """`detail (N attempts)`: the detail never counts attempts itself, so renderers say it once."""
    return f"{detail} ({attempts} attempt{'s' if attempts != 1 else ''})" if attempts else detail


@dataclass(frozen=True)
class Preview:
    """What would be sent, with secrets shown as their references."""

    target: str
    body: Any


@dataclass
class SendOptions:
    """Timeouts, retries, the environment secrets are read from (tests inject all three), and the repository
    that a channel's `auth` file paths are relative to."""

    timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 0.5
    backoff_cap_s: float = 10.0
    environ: Mapping[str, str] | None = None
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    ssl_context: ssl.SSLContext | None = None
    root: Path | None = None

    def retry(self, counter: list[int]) -> Retry:
        """A retry policy that counts the waits (attempts = waits + 1)."""

        def counting_sleep(seconds: float) -> None:
            counter[0] += 1
            self.sleep(seconds)

        return Retry(self.retries, self.backoff_s, self.backoff_cap_s, counting_sleep, self.jitter)


class Notifier(Protocol):
    """Speaks one channel type's protocol. `send` never raises."""

    type: str

    def preview(self, channel: Any, note: Notification) -> Preview: ...

    def send(self, channel: Any, note: Notification, options: SendOptions) -> DeliveryResult: ...


@dataclass
class Revealer:
    """Resolves secret references for one send and remembers the values, to scrub them from messages."""

    environ: Mapping[str, str] | None
    seen: list[str] = field(default_factory=list)

    def __call__(self, ref: SecretRef) -> str:
        value = ref.resolve(self.environ)
        self.seen.append(value)
        return value

    def scrub(self, text: str) -> str:
        return scrub(text, self.seen)


def mask(ref: SecretRef) -> str:
    return str(ref)


def failed_reveal(exc: ScalarError) -> DeliveryResult:
    return DeliveryResult(False, 0, f"not sent: {exc}")


def post_json(label: str, url_ref: str | SecretRef, build: Callable[[Reveal], Any], options: SendOptions,
              accept: Callable[[int], bool] = lambda status: 200 <= status < 300,
              auth: HttpAuth | None = None) -> DeliveryResult:
    """POST the JSON `build(reveal)` makes to the (possibly secret) URL, with `auth`'s credentials; retries come
    from `modelops.base.http`."""
    revealer = Revealer(options.environ)
    try:
        url = revealer(url_ref) if isinstance(url_ref, SecretRef) else url_ref
        body = build(revealer)
        found = credentials(auth, options.root, options.environ)
    except ScalarError as exc:
        return failed_reveal(exc)
    revealer.seen.extend(found.secrets)
    waits = [0]
    try:
        answer = request("POST", url, label=label, payload=body, timeout=options.timeout_s,
                         retry=options.retry(waits), credentials=found)
    except HttpError as exc:
        return DeliveryResult(False, exc.attempts, revealer.scrub(exc.reason))
    detail = f"HTTP {answer.status}" + (f": {answer.text(200)}" if answer.body else "")
    return DeliveryResult(accept(answer.status), waits[0] + 1, revealer.scrub(detail))


@dataclass
class JsonPostNotifier:
    """A channel that is one JSON POST to a (possibly secret) URL, with the channel's `auth` if it has one (Slack,
    generic webhooks)."""

    type: str
    url: Callable[[Any], str | SecretRef]
    payload: Callable[[Any, Notification], dict[str, Any]]
    auth: Callable[[Any], HttpAuth | None] = lambda channel: None

    def preview(self, channel: Any, note: Notification) -> Preview:
        url = self.url(channel)
        return Preview(mask(url) if isinstance(url, SecretRef) else shown(url), self.payload(channel, note))

    def send(self, channel: Any, note: Notification, options: SendOptions) -> DeliveryResult:
        def build(_: Reveal) -> dict[str, Any]:
            return self.payload(channel, note)

        return post_json(f"{self.type} channel {note.channel}", self.url(channel), build, options,
                         auth=self.auth(channel))
