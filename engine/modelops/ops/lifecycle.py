"""Alert evaluation and lifecycle, routing, grouping, quiet hours and escalation: pure functions over state.

One monitor run is one evaluation tick of a long-running alert manager whose memory lives in the state
file (`modelops.state.alerts`). The rules follow Prometheus and Alertmanager where they have an answer:

- A rule's condition must hold for `for` before the alert fires (pending until then). It is judged on the
  samples of a window ending now (the trailing run of samples that cross a threshold) and, across runs, on
  when the previous run saw it start: a snapshot source builds up `for` over successive runs.
- `keepFiringFor` keeps a firing alert firing that long after its condition last held.
- No data (the last sample missing) is neither a breach nor a recovery: the alert keeps its state.
- Alerts of an EscalationPolicy with equal values of `grouping.by` form one group, one notification
  stream, one PagerDuty incident. A channel is told when its group first fires (once the oldest alert has
  fired for `wait`), when the group changes (at most every `interval`), again when nothing changed for
  `repeat`, and when it resolves. Nothing else: an unchanged run sends nothing.
- Quiet hours hold back every notification whose alerts all have a muted severity, until they end.
- An escalation rule adds its channels to the groups of alerts once `count` of them started firing `within`
  its window: by default `count` alerts of the same rule on the same model, with a trigger per alert type
  (the operations guide's table unless the policy says otherwise), or, with `per: policy`, any `count` alerts
  of the policy. Each escalation consumes the arrivals that triggered it; the alerts it took further carry
  `escalated` and the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from modelops.base.clock import iso, parse_iso, readable
from modelops.config.scalars.duration import Duration
from modelops.config.spec.policies import (
    GUIDE_ESCALATION,
    AlertRule,
    EscalateWhen,
    EscalationPolicySpec,
    EscalationRule,
    QuietHours,
    Thresholds,
)
from modelops.notify.base import AlertView, Notification
from modelops.sources.base import Point
from modelops.state.alerts import AlertRecord, Arrival, ChannelRecord, GroupRecord, Severity

RuleStatus = Literal["ok", "pending", "warning", "critical", "nodata", "error"]
SEVERITIES: tuple[Severity, Severity] = ("warning", "critical")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EPSILON = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Limit:
    """One threshold of a rule: fire `severity` when the value is `op` `value`. As in the operations guide, a
    warning fires strictly beyond its threshold (`>`, `<`) and a critical alert when the value reaches its
    threshold (`>=`, `<=`): an error rate of exactly 0.1 against `critical: 0.1` is critical."""

    severity: Severity
    op: Literal[">", "<", ">=", "<="]
    value: float
    shown: str

    def crossed(self, value: float) -> bool:
        if self.op == ">":
            return value > self.value
        if self.op == ">=":
            return value >= self.value
        return value < self.value if self.op == "<" else value <= self.value

    @property
    def above(self) -> bool:
        return self.op.startswith(">")


def comparison(direction: Literal["above", "below"], severity: str) -> Literal[">", "<", ">=", "<="]:
    """The comparison a threshold makes: strict for a warning, inclusive for a critical alert."""
    if direction == "above":
        return ">=" if severity == "critical" else ">"
    return "<=" if severity == "critical" else "<"


def limits(rule: AlertRule) -> list[Limit]:
    found = []
    directions: tuple[tuple[Literal["above", "below"], Thresholds | None], ...] = (
        ("above", rule.above), ("below", rule.below))
    for direction, block in directions:
        if block is None:
            continue
        for severity in SEVERITIES:
            bound = getattr(block, severity)
            if bound is not None:
                op = comparison(direction, severity)
                number = bound.seconds if isinstance(bound, Duration) else float(bound)
                found.append(Limit(severity, op, number, f"{op} {bound:g}" if isinstance(bound, float) else
                                   f"{op} {bound}"))
    return found


def describe_limits(rule: AlertRule) -> str:
    return ", ".join(f"{lim.shown} {lim.severity}" for lim in limits(rule))


def trailing_run(points: Sequence[Point], holds: Limit | list[Limit]) -> tuple[datetime | None, datetime | None]:
    """The run of samples, ending with the last one, that cross a limit: (its first sample's time, the time of
    the sample just before it, which broke the condition; None when the run covers every sample)."""
    checks = holds if isinstance(holds, list) else [holds]
    start = None
    for moment, value in reversed(points):
        if value is None or not any(c.crossed(value) for c in checks):
            return start, moment
        start = moment
    return start, None


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one rule on one model in this run."""

    status: RuleStatus
    value: float | None
    record: AlertRecord | None  # the alert as it is now (None: nothing to remember)
    arrived: bool = False  # it started firing in this run
    since: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class RuleInput:
    """Everything needed to judge one rule on one model."""

    model: str
    policy: str
    escalation: str | None
    rule: AlertRule
    labels: Mapping[str, str]
    unit: str
    points: Sequence[Point]
    error: str | None = None


def alert_key(model: str, policy: str, rule: str) -> str:
    return f"{model}/{policy}/{rule}"


def alert_labels(environment: str, model: str, model_labels: Mapping[str, str], rule: AlertRule) -> dict[str, str]:
    """Model labels, then the rule's, then the identity labels (which win)."""
    return {**model_labels, **rule.labels, "alertname": rule.name, "model": model, "env": environment,
            "rule": rule.name}


def evaluate(item: RuleInput, prior: AlertRecord | None, now: datetime) -> Evaluation:
    """Judge a rule and move its alert along the lifecycle: pending -> firing -> resolved."""
    value = item.points[-1][1] if item.points else None
    if item.error is not None:
        return Evaluation("error", None, prior, detail=item.error)
    if value is None:
        note = f"no data (alert stays {prior.status})" if prior is not None and prior.status != "resolved" else ""
        return Evaluation("nodata", None, prior, detail=note)
    active = _active(item, prior, now)
    hold = item.rule.for_.seconds
    fired = next((s for s in reversed(SEVERITIES) if s in active and now - active[s] + EPSILON >= timedelta(
        seconds=hold)), None)
    stamps: dict[Severity, str] = {s: iso(t) for s, t in active.items()}
    if fired is not None:
        was_firing = prior is not None and prior.status == "firing"
        since = prior.firing_since if was_firing and prior is not None else iso(min(now, active[fired] + timedelta(
            seconds=hold)))
        # Value and annotations describe the alert as it was when it started firing (or changed severity), so
        # that a steady alert leaves the state file alone.
        same = prior if was_firing and prior is not None and prior.severity == fired else None
        record = AlertRecord(model=item.model, rule=item.rule.name, policy=item.policy, escalation=item.escalation,
                             labels={**item.labels, "severity": fired},
                             annotations=same.annotations if same else _annotations(item, fired, value),
                             status="firing", severity=fired, value=same.value if same else value,
                             active_since=stamps, firing_since=since,
                             last_notified=prior.last_notified if was_firing and prior is not None else None)
        if was_firing and prior is not None and prior.escalated and same is None:
            # a new severity rewrites the annotations; the alert is still the one that was escalated
            record = escalated(record, prior.escalation_reason or "")
        elif same is not None and same.escalated:
            record = record.model_copy(update={"escalated": True, "escalation_reason": same.escalation_reason})
        note = "" if was_firing or since is None else _bounded(item.points, active[fired], since)
        return Evaluation(fired, value, record, arrived=not was_firing, since=since, detail=note)
    if prior is not None and prior.status == "firing":
        keep = item.rule.keep_firing_for
        cleared = parse_iso(prior.cleared_at) if prior.cleared_at else now
        if keep is not None and now - cleared < timedelta(seconds=keep.seconds):
            held = prior.model_copy(update={"active_since": stamps, "cleared_at": iso(cleared)})
            return Evaluation(prior.severity or "warning", value, held, since=prior.firing_since,
                              detail=f"condition cleared at {iso(cleared)}; keepFiringFor {keep}")
        resolved = prior.model_copy(update={"status": "resolved", "resolved_at": iso(now), "active_since": {}})
        return Evaluation("ok", value, resolved, detail="resolved")
    if active:
        first = min(active.values())
        if prior is not None and prior.status == "resolved":
            # The resolve may not be delivered yet: keep it, and remember when the condition came back.
            waiting = prior.model_copy(update={"active_since": stamps})
            return Evaluation("pending", value, waiting, since=iso(first),
                              detail=f"pending, fires after {readable(item.rule.for_.ms, exact=True)}")
        pending = AlertRecord(model=item.model, rule=item.rule.name, policy=item.policy, escalation=item.escalation,
                              labels=dict(item.labels), status="pending", active_since=stamps)
        return Evaluation("pending", value, pending, since=iso(first),
                          detail=f"pending, fires after {readable(item.rule.for_.ms, exact=True)}")
    if prior is not None and prior.status == "resolved":
        return Evaluation("ok", value, prior)
    return Evaluation("ok", value, None)


def _active(item: RuleInput, prior: AlertRecord | None, now: datetime) -> dict[Severity, datetime]:
    """Since when each severity's condition has held, from the samples and from the previous run."""
    found: dict[Severity, datetime] = {}
    all_limits = limits(item.rule)
    for severity in SEVERITIES:
        own = [lim for lim in all_limits if lim.severity == severity]
        if not own:
            continue
        start, broken = trailing_run(item.points, own)
        if start is None:
            continue
        # The previous run's start still counts unless a sample after it shows the condition broken.
        if prior is not None and severity in prior.active_since:
            before = parse_iso(prior.active_since[severity])
            if broken is None or broken < before:
                start = min(start, before)
        found[severity] = min(start, now)
    return found


def _bounded(points: Sequence[Point], start: datetime, since: str) -> str:
    """A note when the condition held in every sample looked at: it started then at the latest, maybe before
    (the monitor looks back a bounded time, and a source holds only so much)."""
    if len(points) < 2 or start != points[0][0]:
        return ""
    held = readable((points[-1][0] - points[0][0]).total_seconds() * 1000)
    return f"at least since {since}: the condition held in every sample of the last {held}"


def _annotations(item: RuleInput, severity: Severity, value: float) -> dict[str, str]:
    limit = next(lim for lim in limits(item.rule) if lim.severity == severity)
    what = item.rule.metric or "query"
    shown = format_value(value, item.unit)
    direction = ("at or above" if limit.op == ">=" else "above") if limit.above else (
        "at or below" if limit.op == "<=" else "below")
    notes = {"summary": item.rule.summary or f"{item.model} {what} is {shown}, {direction} the {severity} threshold "
                                              f"{format_value(limit.value, item.unit)}",
             "value": f"{value:g}"}
    if item.rule.description:
        notes["description"] = item.rule.description
    if item.rule.runbook:
        notes["runbook_url"] = item.rule.runbook
    return notes


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    if unit == "seconds":
        return readable(value * 1000, exact=True)  # a reading beside its threshold: to the millisecond
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "ratio":
        return f"{value:.3g}"
    if unit == "USD":
        return f"${value:.4g}"
    if unit == "requests/s":
        return f"{value:.4g}/s"
    return f"{value:.4g} {unit}" if unit else f"{value:.4g}"


# -- routing, grouping, quiet hours ---------------------------------------------------------------


def route(policy: EscalationPolicySpec, labels: Mapping[str, str]) -> list[str]:
    """Channels of the matching routes: the first match wins unless it says `continue`."""
    channels: list[str] = []
    for rule in policy.routes:
        if all(labels.get(k) == v for k, v in rule.match.items()):
            channels += [c for c in rule.channels if c not in channels]
            if not rule.continue_:
                break
    return channels


def group_of(policy_name: str, policy: EscalationPolicySpec, labels: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The group key (the deduplication key) and the group labels of an alert."""
    values = {k: labels.get(k, "") for k in policy.grouping.by}
    key = f"{policy_name}:{{" + ", ".join(f'{k}="{v}"' for k, v in values.items()) + "}"
    return key, values


def muted(policy: EscalationPolicySpec, severity: str, now: datetime) -> bool:
    return any(severity in q.severities and in_quiet_hours(q, now) for q in policy.quiet_hours)


def in_quiet_hours(quiet: QuietHours, now: datetime) -> bool:
    """Whether `now` is inside the window. A window that wraps midnight belongs to the day it starts."""
    local = now.astimezone(ZoneInfo(quiet.timezone))
    minute = local.hour * 60 + local.minute
    start = _minutes(quiet.start or "00:00")
    end = _minutes(quiet.end) if quiet.end else 24 * 60
    day = local.date()
    if start < end:
        inside = start <= minute < end
    elif start == end or minute >= start:
        inside = True
    else:
        inside, day = minute < end, day - timedelta(days=1)
    return inside and (not quiet.weekdays or WEEKDAYS[day.weekday()] in quiet.weekdays)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


# -- escalation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    """An escalation rule that triggered: its channels join the groups of the alerts that arrived.

    `key` is what was counted: an alert key (the same rule on the same model, the guide's rule) or, counting
    per policy, None. `count` is how many arrivals it counted, `trigger` the threshold they reached."""

    policy: str
    index: int
    channels: tuple[str, ...]
    alerts: tuple[str, ...]
    count: int
    trigger: EscalateWhen
    key: str | None = None

    @property
    def stamp(self) -> str:
        """Where the state remembers when this escalation last fired (its arrivals are consumed)."""
        return f"{self.policy}#{self.index}" + (f"#{self.key}" if self.key is not None else "")

    def reason(self) -> str:
        """`3 alerts of m1/slo/latency within 5m (escalate at 3)`: what was counted and against what."""
        what = f" of {self.key}" if self.key is not None else ""
        within = readable(self.trigger.within.ms, exact=True)
        return f"{self.count} {plural(self.count, 'alert')}{what} within {within} (escalate at {self.trigger.count})"


def plural(count: int, noun: str) -> str:
    return noun if count == 1 else f"{noun}s"


def rule_of(alert: str) -> str:
    """The rule name of an alert key `model/policy/rule`."""
    return alert.rsplit("/", 1)[-1]


def escalations(policy_name: str, policy: EscalationPolicySpec, arrivals: Iterable[Arrival],
                last: Mapping[str, str], now: datetime) -> list[Escalation]:
    """The escalation rules of a policy that trigger now. Per alert (the default), the arrivals of each alert
    (one rule on one model) are counted against the trigger of its type; per policy, all of them together. An
    arrival counts once: an escalation consumes the arrivals up to it."""
    found = []
    pool = [a for a in arrivals if a.policy == policy_name]
    for index, rule in enumerate(policy.escalate):
        counted = [a for a in pool if rule.severity is None or a.severity == rule.severity]
        if rule.per == "policy":
            buckets: dict[str | None, list[Arrival]] = {None: counted}
        else:
            buckets = {}
            for arrival in counted:
                buckets.setdefault(arrival.alert, []).append(arrival)
        for key, bucket in sorted(buckets.items(), key=lambda item: item[0] or ""):
            trigger = rule.trigger(rule_of(key), bucket[0].metric) if key is not None else rule.trigger()
            floor = now - timedelta(seconds=trigger.within.seconds)
            stamp = f"{policy_name}#{index}" + (f"#{key}" if key is not None else "")
            previous = last.get(stamp)
            hits = [a for a in bucket if parse_iso(a.at) > floor and (
                previous is None or parse_iso(a.at) > parse_iso(previous))]
            if len(hits) >= trigger.count:
                found.append(Escalation(policy_name, index, tuple(rule.channels),
                                        tuple(dict.fromkeys(a.alert for a in hits)), len(hits), trigger, key))
    return found


def triggers(rule: EscalationRule) -> list[tuple[str, EscalateWhen]]:
    """The triggers of an escalation rule per alert type, in the order a person reads them: its `thresholds`,
    then (without `when`) the guide's table for the metrics they leave, then every other type."""
    if rule.per == "policy":
        return [("any alert", rule.trigger())]
    found = list(rule.thresholds.items())
    if rule.when is None:
        found += [(metric, when) for metric, when in GUIDE_ESCALATION.items() if metric not in rule.thresholds]
    return [*found, ("any other", rule.trigger())]


def describe_escalation(rule: EscalationRule) -> str:
    """`per rule and model: response_time 3 within 5m, …, any other 5 within 10m → pager, hook`."""
    which = f"{rule.severity} alerts" if rule.severity else "alerts"
    counted = f"{which} of the policy" if rule.per == "policy" else f"{which} of one rule on one model"
    table = ", ".join(f"{name} {when}" if name != "any alert" else str(when) for name, when in triggers(rule))
    return f"{counted}: {table} → {', '.join(rule.channels)}"


def escalated(record: AlertRecord, reason: str) -> AlertRecord:
    """An alert that an escalation rule took to more channels: it says so, and why, in its annotations too (the
    escalation channels' payloads carry them)."""
    annotations = {**record.annotations, "escalated": "true", "escalation_reason": reason}
    return record.model_copy(update={"escalated": True, "escalation_reason": reason, "annotations": annotations})


# -- notification planning ------------------------------------------------------------------------

Decision = Literal["send", "muted", "held"]


@dataclass(frozen=True)
class Outgoing:
    """A notification this run sends (or would send, or holds back, and why)."""

    group: str
    policy: str
    channel: str
    event: str
    decision: Decision
    reason: str
    note: Notification
    digest: str
    firing: tuple[str, ...]


@dataclass
class Planner:
    """Decides, per group and channel, what to send in this run."""

    environment: str
    policies: Mapping[str, EscalationPolicySpec]
    alerts: Mapping[str, AlertRecord]
    groups: Mapping[str, GroupRecord]
    now: datetime
    escalated: Mapping[str, set[str]] = field(default_factory=dict)  # group -> channels added in this run

    def plan(self) -> list[Outgoing]:
        out: list[Outgoing] = []
        for key, (policy_name, labels, members) in sorted(self.membership().items()):
            policy = self.policies[policy_name]
            record = self.groups.get(key)
            extra = set(record.escalated if record else []) | self.escalated.get(key, set())
            for channel in self._channels(policy, members, record, extra):
                outgoing = self._decide(key, policy_name, policy, labels, members, record, channel, extra)
                if outgoing is not None:
                    out.append(outgoing)
        return out

    def membership(self) -> dict[str, tuple[str, dict[str, str], list[tuple[str, AlertRecord]]]]:
        found: dict[str, tuple[str, dict[str, str], list[tuple[str, AlertRecord]]]] = {}
        for alert_key, alert in sorted(self.alerts.items()):
            name = alert.escalation
            if alert.status == "pending" or name is None or name not in self.policies:
                continue
            group, labels = group_of(name, self.policies[name], alert.labels)
            found.setdefault(group, (name, labels, []))[2].append((alert_key, alert))
        return found

    def _channels(self, policy: EscalationPolicySpec, members: list[tuple[str, AlertRecord]],
                  record: GroupRecord | None, extra: set[str]) -> list[str]:
        names: list[str] = []
        for _, alert in members:
            names += [c for c in route(policy, alert.labels) if c not in names]
        names += sorted(c for c in extra if c not in names)
        names += sorted(c for c in (record.channels if record else {}) if c not in names)
        return [n for n in names if n in policy.channels]

    def _decide(self, group: str, policy_name: str, policy: EscalationPolicySpec, labels: dict[str, str],
                members: list[tuple[str, AlertRecord]], record: GroupRecord | None, channel: str,
                extra: set[str]) -> Outgoing | None:
        previous = record.channels.get(channel) if record else None
        known = set(previous.firing) if previous else set()
        firing = [(k, a) for k, a in members if a.status == "firing" and (
            channel in route(policy, a.labels) or channel in extra)]
        firing_keys = {k for k, _ in firing}
        # Resolved for this channel: really resolved, or still firing but no longer routed here.
        gone = [(k, a) for k, a in members if k in known and k not in firing_keys]
        if not firing and not gone:
            return None
        views = tuple([self._view(k, a, "firing") for k, a in firing] + [self._view(k, a, "resolved") for k, a in gone])
        # What the channel knows as firing: a resolved alert, once told, drops out of the group and must not
        # look like a change to the next run (gone alerts are in the previous digest, so a resolve still shows).
        digest = _digest([v for v in views if v.status == "firing"])
        grouping = policy.grouping
        decision: Decision
        if previous is None:
            event = "escalate" if channel in self.escalated.get(group, set()) else "trigger"
            oldest = min(parse_iso(a.firing_since or iso(self.now)) for _, a in firing)
            due = oldest + timedelta(seconds=grouping.wait.seconds)
            decision, reason = ("send", "") if event == "escalate" or due <= self.now else (
                "held", f"group wait until {iso(due)}")
        elif digest != previous.digest:
            event = "update" if firing else "resolve"
            due = parse_iso(previous.sent) + timedelta(seconds=grouping.interval.seconds)
            decision, reason = ("send", "") if due <= self.now else ("held", f"group interval until {iso(due)}")
        else:
            due = parse_iso(previous.sent) + timedelta(seconds=grouping.repeat.seconds)
            if not firing or due > self.now:
                return None
            event, decision, reason = "repeat", "send", ""
        if all(muted(policy, v.severity, self.now) for v in views):
            decision, reason = "muted", "quiet hours"
        note = Notification(self.environment, policy_name, channel, group, labels, views, event, iso(self.now))
        return Outgoing(group, policy_name, channel, event, decision, reason, note, digest,
                        tuple(sorted(firing_keys)))

    def _view(self, key: str, alert: AlertRecord, status: Literal["firing", "resolved"]) -> AlertView:
        ends = (alert.resolved_at or iso(self.now)) if status == "resolved" else None
        return AlertView(key, status, alert.severity or "warning",
                         alert.labels, alert.annotations, alert.firing_since or iso(self.now), ends, alert.value)


def _digest(views: Sequence[AlertView]) -> str:
    canonical = "|".join(sorted(f"{v.key}:{v.status}:{v.severity}" for v in views))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def apply_delivery(record: GroupRecord, outgoing: Outgoing, at: str) -> GroupRecord:
    """What a group remembers after a successful delivery to one channel."""
    channels = dict(record.channels)
    if outgoing.firing:
        channels[outgoing.channel] = ChannelRecord(sent=at, digest=outgoing.digest, firing=list(outgoing.firing))
    else:
        channels.pop(outgoing.channel, None)
    return record.model_copy(update={"channels": channels})
