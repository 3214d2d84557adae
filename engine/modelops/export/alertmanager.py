"""`modelops export alertmanager`: `alertmanager.yml` for one environment, and route tests for `amtool`.

The route tree, for Alertmanager 0.25 (field set and classic `label="value"` matchers):

    root                      receiver modelops-unrouted (no notifier: alerts of models without a policy)
      policy P in env E       matchers modelops_env="E", modelops_escalation="P"; group_by = P's grouping
        escalation step i     alertname="ModelopsEscalation", modelops_escalation_step="i" -> its channels
        route j x severity    P's route j matchers plus severity; continue as route j says
          one leaf per channel, `continue: true` except the last: every channel of the route is notified

A child route no alert can reach is not emitted, and the head of the file says which and why: an earlier
child without `continue` whose matchers are a subset of its own (with the policy route's) takes every such
alert first, as the policy's own first-match rule says (a `match: {}` after `severity: critical` reaches
warnings only), or it matches another environment than the one exported.

Receivers are `<policy>/<channel>`. Secrets are never written: Slack URLs, PagerDuty routing keys and SMTP
passwords become `*_file` paths (`<secrets dir>/<VARIABLE>`, read by Alertmanager when it sends); an SMTP
user name and a webhook URL, which 0.25 can only take literally, become documented placeholders
(`modelops-secret:<VARIABLE>`, `https://modelops-secret.invalid/<VARIABLE>`) to replace at deploy time.
A webhook channel's `auth` becomes the receiver's `http_config` the same way: a bearer token (or an Authorization
header "<scheme> ${env:VAR}") `authorization.credentials_file`, basic auth `basic_auth` with its `password_file`,
and the TLS files `tls_config` paths under the secrets directory (a file of the repository keeps its path there).
Other headers cannot be expressed: `http_headers` came in Alertmanager 0.28, so the export refuses them with a
located error (MO146) rather than write a receiver that its server would turn away.
Critical alerts inhibit warnings of the same model and rule; quiet hours become `time_intervals` muted on
the leaves of the severities they silence (mute intervals are not inherited by child routes).

The route tests are computed from the EscalationPolicy itself (first matching route wins unless it says
`continue`), not from the generated tree, so `amtool config routes test` checks the tree against intent:
an alert of every model at both severities, and one alert per emitted child route, built from its matchers.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelops.base.diagnostics import pointer
from modelops.base.errors import EngineError
from modelops.config.scalars.secretref import REFERENCE, SecretRef, Template
from modelops.config.spec.http import HttpAuth
from modelops.config.spec.policies import (
    EmailChannel,
    EscalationPolicySpec,
    PagerDutyChannel,
    QuietHours,
    Route,
    SlackChannel,
    WebhookChannel,
)
from modelops.core.model import EnvironmentConfig
from modelops.export.files import ExportFile
from modelops.export.prometheus import (
    META_ALERT,
    SEVERITIES,
    bindings,
    escalation_policies,
    group_labels,
    routing_label,
    template_literal,
)
from modelops.export.yamlout import dump, header

CONFIG = "alertmanager.yml"
ROUTES_TEST = "alertmanager-routes-test.sh"
UNROUTED = "modelops-unrouted"
SECRETS_DIR = "/etc/alertmanager/secrets"
DEFAULT_PAGERDUTY = "https://events.pagerduty.com/v2/enqueue"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def matcher(label: str, value: str, op: str = "=") -> str:
    """A classic matcher, `label="value"`, with the value escaped as Alertmanager's parser expects."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{label}{op}"{escaped}"'


def receiver_name(policy: str, channel: str) -> str:
    return f"{policy}/{channel}"


def placeholder_user(ref: SecretRef) -> str:
    return f"modelops-secret:{ref.variable}"


def placeholder_url(ref: SecretRef) -> str:
    return f"https://modelops-secret.invalid/{ref.variable}"


def placeholder_text(template: Template) -> str:
    """Text with each reference replaced by its placeholder (a user name Alertmanager 0.25 takes only literally)."""
    return REFERENCE.sub(lambda match: placeholder_user(SecretRef(match.group(1))), template.text)


@dataclass(frozen=True)
class Secrets:
    """Where the `*_file` secrets live on the Alertmanager host; collects what the file refers to."""

    directory: str

    def file(self, ref: SecretRef) -> str:
        return f"{self.directory.rstrip('/')}/{ref.variable}"

    def path(self, value: str | SecretRef) -> str:
        """Where Alertmanager reads a file a setting names: a variable's under its name, a repository file under
        its repository path."""
        return self.file(value) if isinstance(value, SecretRef) else f"{self.directory.rstrip('/')}/{value}"

    def listed(self, value: str | SecretRef) -> str:
        """The line of the file's header that says what to mount there."""
        return self.path(value) if isinstance(value, SecretRef) else f"{self.path(value)} (the repository's {value})"


@dataclass(frozen=True)
class Refusal:
    """A channel setting Alertmanager 0.25 cannot be given without writing a secret or dropping it; `at` is the JSON
    pointer of the setting in its EscalationPolicy."""

    policy: str
    at: str
    message: str
    hint: str


class Inexpressible(EngineError):
    """The configuration cannot be exported as it is; every refusal, for the caller to locate."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        super().__init__("; ".join(r.message for r in refusals), hint=refusals[0].hint)
        self.refusals = tuple(refusals)


#: An Authorization header whose value Alertmanager can read from a file: a scheme, then one reference.
_AUTHORIZATION = re.compile(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+) \$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
HEADERS_HINT = ("a credential can be auth.bearer or auth.basic, which Alertmanager reads from files; for any other "
                "header, put a proxy that adds it in front of the receiver and point the channel's url at the proxy")


def http_config(policy: str, name: str, auth: HttpAuth, secrets: Secrets) -> tuple[dict[str, Any], list[Refusal]]:
    """A webhook channel's `auth` as Alertmanager 0.25's `http_config`, and what it cannot carry."""
    found: dict[str, Any] = {}
    refused: list[Refusal] = []
    if auth.bearer is not None:
        found["authorization"] = {"type": "Bearer", "credentials_file": secrets.file(auth.bearer)}
    if auth.basic is not None:
        username = auth.basic.username
        found["basic_auth"] = {"username": placeholder_text(username) if username.refs else username.text,
                               "password_file": secrets.file(auth.basic.password)}
    for field_name, value in auth.headers.items():
        authorization = field_name.lower() == "authorization"
        scheme = _AUTHORIZATION.fullmatch(value.text) if authorization else None
        if scheme is not None:
            found["authorization"] = {"type": scheme.group(1),
                                      "credentials_file": secrets.file(SecretRef(scheme.group(2)))}
            continue
        why = ('an Authorization header Alertmanager can read from a file is a scheme and one reference, "Bearer '
               '${env:TOKEN}"' if authorization else "Alertmanager 0.25 sends no other header; http_headers is 0.28's")
        refused.append(Refusal(policy, pointer("spec", "channels", name, "auth", "headers", field_name),
                               f"channel {name}: the header {field_name} cannot be exported to Alertmanager ({why})",
                               HEADERS_HINT))
    if auth.tls is not None:
        tls = {key: secrets.path(value) for key, value in (("ca_file", auth.tls.ca), ("cert_file", auth.tls.cert),
                                                           ("key_file", auth.tls.key)) if value is not None}
        if "cert_file" in tls and "key_file" not in tls:  # the certificate's file holds its key too
            tls["key_file"] = tls["cert_file"]
        found["tls_config"] = tls
    return found, refused


def _receiver(policy: str, name: str, channel: Any, secrets: Secrets) -> dict[str, Any]:
    receiver: dict[str, Any] = {"name": receiver_name(policy, name)}
    if isinstance(channel, SlackChannel):
        slack: dict[str, Any] = {"api_url_file": secrets.file(channel.webhook_url), "send_resolved": True}
        # Alertmanager expands these fields as Go templates: free text must come out as written
        if channel.channel:
            slack["channel"] = template_literal(channel.channel)
        if channel.username:
            slack["username"] = template_literal(channel.username)
        receiver["slack_configs"] = [slack]
    elif isinstance(channel, PagerDutyChannel):
        pager: dict[str, Any] = {"routing_key_file": secrets.file(channel.routing_key),
                                 "severity": "{{ .CommonLabels.severity }}", "send_resolved": True}
        if channel.url != DEFAULT_PAGERDUTY:
            pager["url"] = channel.url
        receiver["pagerduty_configs"] = [pager]
    elif isinstance(channel, EmailChannel):
        email: dict[str, Any] = {"to": template_literal(", ".join(channel.to)), "from": template_literal(channel.from_),
                                 "smarthost": f"{channel.smtp.host}:{channel.smtp.port}",
                                 "require_tls": channel.smtp.require_tls, "send_resolved": True}
        if channel.smtp.username is not None:
            email["auth_username"] = placeholder_user(channel.smtp.username)
        if channel.smtp.password is not None:
            email["auth_password_file"] = secrets.file(channel.smtp.password)
        receiver["email_configs"] = [email]
    elif isinstance(channel, WebhookChannel):
        url = placeholder_url(channel.url) if isinstance(channel.url, SecretRef) else channel.url
        webhook: dict[str, Any] = {"url": url, "max_alerts": channel.max_alerts, "send_resolved": True}
        if channel.auth is not None:
            webhook["http_config"] = http_config(policy, name, channel.auth, secrets)[0]
        receiver["webhook_configs"] = [webhook]
    return receiver


def _placeholders(spec: EscalationPolicySpec) -> list[str]:
    found = []
    for name, channel in spec.channels.items():
        if isinstance(channel, EmailChannel) and channel.smtp.username is not None:
            found.append(f"{placeholder_user(channel.smtp.username)} (channel {name}: SMTP user name)")
        if isinstance(channel, WebhookChannel) and isinstance(channel.url, SecretRef):
            found.append(f"{placeholder_url(channel.url)} (channel {name}: webhook URL)")
        basic = channel.auth.basic if isinstance(channel, WebhookChannel) and channel.auth is not None else None
        if basic is not None and basic.username.refs:
            found.append(f"{placeholder_text(basic.username)} (channel {name}: basic auth user name)")
    return found


def _secret_files(spec: EscalationPolicySpec, secrets: Secrets) -> list[str]:
    found = []
    for channel in spec.channels.values():
        refs = {SlackChannel: lambda c: [c.webhook_url], PagerDutyChannel: lambda c: [c.routing_key],
                EmailChannel: lambda c: [c.smtp.password] if c.smtp.password else []}.get(type(channel))
        found += [secrets.file(ref) for ref in (refs(channel) if refs else [])]
        if isinstance(channel, WebhookChannel) and channel.auth is not None:
            found += _auth_files(channel.auth, secrets)
    return found


def _auth_files(auth: HttpAuth, secrets: Secrets) -> list[str]:
    """The files a webhook's http_config names, as the header lists them."""
    refs = [auth.bearer] if auth.bearer is not None else []
    refs += [auth.basic.password] if auth.basic is not None else []
    refs += [SecretRef(m.group(2)) for h, v in auth.headers.items()
             if h.lower() == "authorization" and (m := _AUTHORIZATION.fullmatch(v.text))]
    found = [secrets.file(ref) for ref in refs]
    if auth.tls is not None:
        found += [secrets.listed(v) for v in (auth.tls.ca, auth.tls.cert, auth.tls.key) if v is not None]
    return found


def quiet_name(policy: str, index: int) -> str:
    return f"{policy}-quiet-{index}"


def time_interval(quiet: QuietHours) -> list[dict[str, Any]]:
    """Alertmanager time intervals for quiet hours; a window past midnight is split at 24:00."""
    start, end = quiet.start or "00:00", quiet.end or "24:00"
    days: list[str] = list(quiet.weekdays)

    def part(weekdays: list[str], begin: str, finish: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if (begin, finish) != ("00:00", "24:00"):
            found["times"] = [{"start_time": begin, "end_time": finish}]
        if weekdays:
            found["weekdays"] = weekdays
        found["location"] = quiet.timezone
        return found

    if start < end:
        return [part(days, start, end)]
    # 20:00-08:00 on friday means friday 20:00-24:00 and saturday 00:00-08:00 (the window belongs to the
    # day it starts, as the monitor reads it).
    following = [WEEKDAYS[(WEEKDAYS.index(d) + 1) % 7] for d in days]
    return [part(days, start, "24:00"), part(following, "00:00", end)]


def _mutes(policy: str, spec: EscalationPolicySpec, severity: str) -> list[str]:
    return [quiet_name(policy, i) for i, q in enumerate(spec.quiet_hours, start=1) if severity in q.severities]


def _leaves(policy: str, channels: Sequence[str], mutes: list[str]) -> list[dict[str, Any]]:
    leaves = []
    for i, channel in enumerate(channels):
        leaf: dict[str, Any] = {"receiver": receiver_name(policy, channel)}
        if mutes:
            leaf["mute_time_intervals"] = mutes
        if i < len(channels) - 1:
            leaf["continue"] = True
        leaves.append(leaf)
    return leaves


def _route_severities(route: Route) -> list[str]:
    return [route.match["severity"]] if "severity" in route.match else list(SEVERITIES)


@dataclass(frozen=True)
class Child:
    """One child of a policy route: what it matches, whether it continues, where it sends."""

    why: str  # "route 2 (critical)", "escalation step 1"
    matchers: dict[str, str]  # label -> value, in the order they are written
    continue_: bool
    channels: tuple[str, ...]
    severity: str  # which quiet hours mute it


def _candidates(spec: EscalationPolicySpec) -> list[Child]:
    found = [Child(f"escalation step {step}", {"alertname": META_ALERT, "modelops_escalation_step": str(step)},
                   False, tuple(rule.channels), "critical")
             for step, rule in enumerate(spec.escalate, start=1)]
    for index, route in enumerate(spec.routes, start=1):
        for severity in _route_severities(route):
            matchers = {routing_label(k): v for k, v in sorted(route.match.items()) if k != "severity"}
            found.append(Child(f"route {index} ({severity})", {**matchers, "severity": severity}, route.continue_,
                               tuple(route.channels), severity))
    return found


def _unreachable(child: Child, earlier: Sequence[Child], base: Mapping[str, str]) -> str | None:
    """Why no alert of this policy route can reach `child`, or None when one can."""
    clash = next((k for k, v in child.matchers.items() if base.get(k, v) != v), None)
    if clash is not None:
        return f'it matches {matcher(clash, child.matchers[clash])}, and this file is for {matcher(clash, base[clash])}'
    known = {**base, **child.matchers}
    first = next((e for e in earlier if not e.continue_ and all(known.get(k) == v for k, v in e.matchers.items())),
                 None)
    if first is not None:
        shown = ", ".join(matcher(k, v) for k, v in first.matchers.items())
        return f"{first.why} ({shown}) comes first, matches every such alert and does not continue"
    return None


def children(env: str, policy: str, spec: EscalationPolicySpec) -> tuple[list[Child], list[str]]:
    """The child routes of a policy route that alerts can reach, and a note for each one left out."""
    base = {"modelops_env": env, "modelops_escalation": policy}
    emitted: list[Child] = []
    notes: list[str] = []
    for child in _candidates(spec):
        why = _unreachable(child, emitted, base)
        if why is None:
            emitted.append(child)
        else:
            notes.append(f"policy {policy}, {child.why}: not emitted, unreachable: {why}")
    return emitted, notes


def policy_route(env: str, policy: str, spec: EscalationPolicySpec) -> dict[str, Any]:
    routes: list[dict[str, Any]] = []
    for child in children(env, policy, spec)[0]:
        route: dict[str, Any] = {"matchers": [matcher(k, v) for k, v in child.matchers.items()]}
        if child.continue_:
            route["continue"] = True
        route["routes"] = _leaves(policy, child.channels, _mutes(policy, spec, child.severity))
        routes.append(route)
    grouping = spec.grouping
    return {"matchers": [matcher("modelops_env", env), matcher("modelops_escalation", policy)],
            "group_by": group_labels(spec), "group_wait": str(grouping.wait), "group_interval": str(grouping.interval),
            "repeat_interval": str(grouping.repeat), "routes": routes}


def config(env: EnvironmentConfig, secrets: Secrets) -> dict[str, Any]:
    policies = [(name, spec) for name, spec, users in escalation_policies(env) if users]
    receivers: list[dict[str, Any]] = [{"name": UNROUTED}]
    intervals: list[dict[str, Any]] = []
    routes = []
    for name, spec in policies:
        routes.append(policy_route(env.name, name, spec))
        receivers += [_receiver(name, channel_name, channel, secrets)
                      for channel_name, channel in sorted(spec.channels.items())]
        intervals += [{"name": quiet_name(name, i), "time_intervals": time_interval(q)}
                      for i, q in enumerate(spec.quiet_hours, start=1)]
    found: dict[str, Any] = {
        "route": {"receiver": UNROUTED, "group_by": ["alertname", "modelops_env", "modelops_model"],
                  "routes": routes},
        "receivers": receivers,
        "inhibit_rules": [{
            "source_matchers": [matcher("severity", "critical"), matcher("alertname", META_ALERT, "!="),
                                matcher("modelops_env", env.name)],
            "target_matchers": [matcher("severity", "warning"), matcher("modelops_env", env.name)],
            "equal": ["modelops_env", "modelops_model", "modelops_rule"],
        }],
    }
    if intervals:
        found["time_intervals"] = intervals
    return found


# -- route tests --------------------------------------------------------------------------------------


def expected_receivers(policy: str, spec: EscalationPolicySpec, labels: Mapping[str, str]) -> list[str]:
    """What the policy says these labels should reach, read from the policy (the test oracle)."""
    if labels.get("alertname") == META_ALERT:
        step = int(labels["modelops_escalation_step"])
        return [receiver_name(policy, c) for c in spec.escalate[step - 1].channels]
    found: list[str] = []
    for route in spec.routes:
        if all(labels.get(routing_label(k)) == v for k, v in route.match.items()):
            found += [receiver_name(policy, c) for c in route.channels]
            if not route.continue_:
                break
    return found or [UNROUTED]


@dataclass(frozen=True)
class RouteTest:
    labels: dict[str, str]
    receivers: list[str]
    why: str


def route_tests(env: EnvironmentConfig) -> list[RouteTest]:
    tests: list[RouteTest] = []
    for name, spec, users in escalation_policies(env):
        if not users:
            continue
        base = {"modelops_env": env.name, "modelops_escalation": name}
        for user in users:
            model = env.models[user]
            bound = bindings(env, model)
            alertname = bound[0].alertname if bound else "ModelopsAlert"
            rule = bound[0].rule.name if bound else "rule"
            for severity in SEVERITIES:
                labels = (bound[0].labels(severity) if bound else {**base, "modelops_model": user,
                                                                   "modelops_rule": rule, "severity": severity})
                labels = {"alertname": alertname, **labels}
                tests.append(RouteTest(labels, expected_receivers(name, spec, labels),
                                       f"{user} {severity} alert, policy {name}"))
        # one alert per emitted child route, carrying only its matchers: it reaches that route and no later one
        for child in children(env.name, name, spec)[0]:
            labels = {"alertname": "ModelopsAlert", **base, **child.matchers}
            tests.append(RouteTest(labels, expected_receivers(name, spec, labels), f"{child.why} of policy {name}"))
    tests.append(RouteTest({"alertname": "SomethingElse", "severity": "critical"}, [UNROUTED],
                           "an alert of no modelops policy"))
    return tests


def _label_arg(label: str, value: str) -> str:
    # amtool reads each argument as a matcher: a bare value holding a quote (or a comma) is refused or split,
    # so anything but a plain word is written quoted and escaped, like the route matchers
    return f"{label}={value}" if re.fullmatch(r"[\w.:/@+-]+", value) else matcher(label, value)


def routes_script(environment: str, tests: Sequence[RouteTest]) -> str:
    lines = [
        "#!/bin/sh",
        header("alertmanager", environment).rstrip("\n"),
        "# Route tests: each line asks amtool which receivers an alert reaches and fails when they differ",
        "# from what the EscalationPolicy says. Needs amtool (Alertmanager 0.25) on PATH; run from anywhere.",
        'cd "$(dirname "$0")" || exit 1',
        "passed=0",
        "failed=0",
        "check() {",
        '  why="$1"; expected="$2"; shift 2',
        f'  if out=$(amtool config routes test --config.file={CONFIG} --verify.receivers="$expected" "$@" 2>&1); then',
        "    passed=$((passed + 1))",
        "  else",
        '    failed=$((failed + 1)); echo "FAIL: $why: expected $expected; amtool said: $out"',
        "  fi",
        "}",
    ]
    for test in tests:
        args = " ".join(shlex.quote(_label_arg(k, v)) for k, v in sorted(test.labels.items()))
        lines.append(f"check {shlex.quote(test.why)} {shlex.quote(','.join(test.receivers))} {args}")
    lines += ['echo "routes: $passed passed, $failed failed"', '[ "$failed" -eq 0 ]', ""]
    return "\n".join(lines)


def refusals(env: EnvironmentConfig, secrets: Secrets) -> list[Refusal]:
    """What the environment's escalation policies ask that the exported configuration cannot hold."""
    return [refusal for name, spec, users in escalation_policies(env) if users
            for channel_name, channel in sorted(spec.channels.items())
            if isinstance(channel, WebhookChannel) and channel.auth is not None
            for refusal in http_config(name, channel_name, channel.auth, secrets)[1]]


def export(env: EnvironmentConfig, secrets_dir: str = SECRETS_DIR) -> list[ExportFile]:
    """`alertmanager.yml` and its route tests; raises `Inexpressible` when a channel's settings cannot be written."""
    secrets = Secrets(secrets_dir)
    refused = refusals(env, secrets)
    if refused:
        raise Inexpressible(refused)
    document = config(env, secrets)
    policies = [spec for _, spec, users in escalation_policies(env) if users]
    dropped = [n for name, spec, users in escalation_policies(env) if users for n in children(env.name, name, spec)[1]]
    notes = [header("alertmanager", env.name).rstrip("\n"),
             f"# Check with: amtool check-config {CONFIG}; route tests: sh {ROUTES_TEST}",
             *[f"# note: {n}" for n in dropped],
             "# Secrets are never written here. Files Alertmanager reads when it sends (mount them):"]
    notes += [f"#   {path}" for path in sorted({p for spec in policies for p in _secret_files(spec, secrets)})]
    placeholders = sorted({p for spec in policies for p in _placeholders(spec)})
    if placeholders:
        notes.append("# Placeholders to replace at deploy time (Alertmanager 0.25 has no *_file field for them):")
        notes += [f"#   {p}" for p in placeholders]
    tests = route_tests(env)
    n_routes = sum(len(child["routes"]) for route in document["route"]["routes"] for child in route["routes"])
    return [
        ExportFile(CONFIG, "\n".join(notes) + "\n" + dump(document),
                   f"{len(document['route']['routes'])} policy routes, {n_routes} leaf routes, "
                   f"{len(document['receivers'])} receivers"
                   + (f", {len(dropped)} unreachable route{'s' if len(dropped) > 1 else ''} left out" if dropped
                      else "")),
        ExportFile(ROUTES_TEST, routes_script(env.name, tests), f"{len(tests)} amtool route tests", executable=True),
    ]
