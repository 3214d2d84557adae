"""One evaluation tick of every alert rule of every model of an environment (`modelops monitor`).

`measure` fetches the samples (no lock is held while Prometheus answers); `tick` moves every alert along its
lifecycle (`modelops.ops.lifecycle`) from the recorded alert state, decides which group notifications are due,
sends them concurrently (one failing channel never delays or stops the others) and returns the report and the
new alert state, which `modelops.services.monitor` records. With no send options (a dry run) nothing is sent,
and the report carries what would be sent, secrets masked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from modelops.base.clock import iso, parse_iso
from modelops.base.errors import EngineError, UsageError
from modelops.config.catalog import Metric, environment_metrics
from modelops.config.spec.policies import AlertRule, EscalationPolicySpec
from modelops.core.model import EnvironmentConfig
from modelops.notify.base import DeliveryResult, Preview, SendOptions
from modelops.notify.registry import notifier_for, send
from modelops.ops import lifecycle
from modelops.sources.base import MetricError, MetricQuery, MetricSource, Point, metric_query, rule_query
from modelops.sources.file import FileSource
from modelops.sources.prometheus import PrometheusSource
from modelops.sources.registry import open_source
from modelops.state.alerts import (
    DELIVERY_LIMIT,
    HISTORY_LIMIT,
    AlertRecord,
    Arrival,
    ClosedAlert,
    Delivery,
    GroupRecord,
    MonitorState,
    Reading,
)
from modelops.state.format import EnvironmentState

log = logging.getLogger("modelops.monitor")
Clock = Callable[[], datetime]
SEVERITY_RANK = {"error": 4, "critical": 3, "warning": 2, "healthy": 1, "no data": 0}


@dataclass(frozen=True)
class MonitorRequest:
    """What to monitor and where the numbers come from (default: the environment's `spec.metrics`)."""

    environment: str
    metrics_file: Path | None = None
    prometheus_url: str | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class RuleRow:
    """One rule of one model in the report."""

    policy: str
    rule: str
    metric: str
    status: lifecycle.RuleStatus
    value: float | None
    shown: str
    thresholds: str
    since: str | None
    detail: str


@dataclass(frozen=True)
class MetricRow:
    """One metric of one model's catalogue as this run read it, against the last run's reading."""

    group: str  # performance | infrastructure | business
    metric: str
    unit: str
    value: float | None
    shown: str
    at: str
    previous: float | None
    previous_at: str | None
    trend: str  # "first reading", "steady", "up 12% (worse)", "down 3% (better)", "-" (no data)
    error: str | None = None


@dataclass(frozen=True)
class ModelHealth:
    name: str
    status: str  # healthy | warning | critical | no data | error
    rules: list[RuleRow]
    metrics: list[MetricRow] = field(default_factory=list)


@dataclass(frozen=True)
class NotificationRow:
    """A notification: sent, partial (some recipients refused it), failed, would send (dry run), muted or held,
    and to whom."""

    group: str
    policy: str
    channel: str
    type: str
    event: str
    outcome: str
    title: str
    detail: str = ""
    attempts: int = 0
    preview: Preview | None = None


@dataclass(frozen=True)
class MonitorReport:
    environment: str
    at: str
    source: str
    dry_run: bool
    models: list[ModelHealth]
    notifications: list[NotificationRow]
    escalations: list[str] = field(default_factory=list)
    state_written: bool = False

    @property
    def failed(self) -> bool:
        """A delivery failed or missed recipients, or a rule could not be evaluated: the run did not do its whole
        job."""
        return any(n.outcome in ("failed", "partial") for n in self.notifications) or any(
            r.status == "error" for m in self.models for r in m.rules)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for model in self.models:
            found[model.status] = found.get(model.status, 0) + 1
        return found


@dataclass(frozen=True)
class _Measured:
    item: lifecycle.RuleInput
    key: str


@dataclass(frozen=True)
class _Read:
    """One metric of a model read now: its value, or why it could not be read."""

    model: str
    metric: Metric
    value: float | None
    error: str | None = None


@dataclass(frozen=True)
class Measurement:
    """What a run measured before taking the lock: the samples of every rule, and a value of every metric of
    every model (the catalogue and the environment's business metrics)."""

    rules: list[_Measured]
    readings: list[_Read] = field(default_factory=list)


def choose_source(root: Path, env: EnvironmentConfig, request: MonitorRequest) -> MetricSource:
    if request.metrics_file is not None and request.prometheus_url is not None:
        raise UsageError("give --metrics or --prometheus, not both")
    if request.metrics_file is not None:
        return FileSource.load(request.metrics_file, str(request.metrics_file))
    spec = env.spec.metrics
    if request.prometheus_url is not None:
        if not request.prometheus_url.startswith(("http://", "https://")):
            raise UsageError(f"--prometheus must be an http(s) URL, got {request.prometheus_url!r}")
        queries = {str(k): v for k, v in spec.queries.items()} if spec is not None else {}
        timeout = spec.timeout.seconds if spec is not None else 10.0
        return PrometheusSource(request.prometheus_url, env.name, timeout, queries)
    if spec is None:
        raise EngineError(f"environment {env.name} has no metric source",
                          hint=f"add spec.metrics to {env.file}, or pass --metrics FILE or --prometheus URL")
    return open_source(root, env.name, spec)


LOOKBACK_FLOOR = 3600.0  # how far back a condition seen for the first time is dated, at least
MAX_POINTS = 3600  # per deep look back: Prometheus refuses more than 11,000 points per series


def lookback(rule_for: float) -> float:
    """Seconds of samples to fetch: enough to see a condition that has held beyond `for` (and group wait)."""
    return rule_for + max(rule_for, 300.0)


def deep_lookback(rule_for: float, escalation_window: float) -> float:
    """How far back to look for the start of a condition that covers the whole first window: an hour, or the
    escalation window, or the first window, whichever is longest. Beyond it the start is reported as a bound."""
    return max(LOOKBACK_FLOOR, escalation_window, lookback(rule_for))


def measure(env: EnvironmentConfig, source: MetricSource, state: EnvironmentState, moment: datetime) -> Measurement:
    """The samples of every rule of every model, and a reading of every metric of every model; an unreachable
    source aborts, an invalid query is noted."""
    catalogue = environment_metrics(env.spec.business_metrics)
    out = []
    reads = []
    for model in env.models.values():
        serving = state.models.get(model.name)
        version = serving.version if serving is not None and serving.version else model.version
        escalation = model.spec.escalation if f"EscalationPolicy/{model.spec.escalation}" in env.policies else None
        window = _escalation_window(env, escalation)
        reads += [_read(source, metric_query(env.name, model.name, version, metric), model.name, metric, moment)
                  for metric in catalogue.values()]
        for policy_name, rule in env.alert_rules(model):
            query = rule_query(env.name, model.name, version, rule, catalogue)
            key = lifecycle.alert_key(model.name, policy_name, rule.name)
            error, points = None, []
            try:
                points = _samples(source, query, rule, moment, window, state.monitor.alerts.get(key))
            except MetricError as exc:
                if exc.unreachable:
                    raise
                error = exc.message.splitlines()[0]
            labels = lifecycle.alert_labels(env.name, model.name, model.labels, rule)
            unit = catalogue[rule.metric].unit if rule.metric in catalogue else ""
            item = lifecycle.RuleInput(model.name, policy_name, escalation, rule, labels, unit, points, error)
            out.append(_Measured(item, key))
    return Measurement(out, reads)


def _read(source: MetricSource, query: MetricQuery, model: str, metric: Metric, moment: datetime) -> _Read:
    try:
        return _Read(model, metric, source.instant(query, moment))
    except MetricError as exc:
        if exc.unreachable:
            raise
        return _Read(model, metric, None, exc.message.splitlines()[0])


def _escalation_window(env: EnvironmentConfig, escalation: str | None) -> float:
    """The longest `within` of the model's escalation rules (0 without any)."""
    policy = env.policies.get(f"EscalationPolicy/{escalation}") if escalation else None
    return max((r.longest.seconds for r in policy.spec.escalate), default=0.0) if policy is not None else 0.0


def _samples(source: MetricSource, query: MetricQuery, rule: AlertRule, moment: datetime, escalation_window: float,
             prior: AlertRecord | None) -> list[Point]:
    """The rule's window; when the condition covers all of it and no earlier run dated it, a deeper look back
    finds when it started (otherwise "firing since" would be the window's start, understated)."""
    span = lookback(rule.for_.seconds)
    # Fine enough to judge `for` (a tenth of it), coarse enough to stay cheap: 1s to 1m.
    step = min(60.0, max(1.0, rule.for_.seconds / 10))
    start = moment - timedelta(seconds=span)
    points = source.series(query, start, moment, step)
    deep = deep_lookback(rule.for_.seconds, escalation_window)
    if deep > span and _throughout(points, rule) and not _dated(prior, start):
        points = source.series(query, moment - timedelta(seconds=deep), moment, max(step, deep / MAX_POINTS))
    return points


def _throughout(points: list[Point], rule: AlertRule) -> bool:
    """Whether every sample crosses a threshold of the rule."""
    first, broken = lifecycle.trailing_run(points, lifecycle.limits(rule))
    return first is not None and broken is None


def _dated(prior: AlertRecord | None, start: datetime) -> bool:
    """Whether a previous run saw the condition start at or before `start` (the state already dates it)."""
    return prior is not None and any(parse_iso(t) <= start for t in prior.active_since.values())


def tick(env: EnvironmentConfig, state: EnvironmentState, measurement: Measurement, moment: datetime,
         source: MetricSource, options: SendOptions | None) -> tuple[MonitorReport, MonitorState]:
    """One evaluation: lifecycle, escalation, notification decisions and (unless options is None) delivery."""
    prior = state.monitor
    measured = measurement.rules
    at = iso(moment)
    policies: dict[str, EscalationPolicySpec] = {
        p.name: p.spec for p in env.policies.values() if p.kind == "EscalationPolicy"}
    alerts: dict[str, AlertRecord] = {}
    arrivals = list(prior.arrivals)
    rows: dict[str, list[RuleRow]] = {m: [] for m in env.models}
    for entry in measured:
        result = lifecycle.evaluate(entry.item, prior.alerts.get(entry.key), moment)
        if result.record is not None:
            alerts[entry.key] = result.record
        if result.arrived and result.record is not None and _counted(policies, entry.item.escalation,
                                                                     result.record.severity):
            assert entry.item.escalation is not None and result.record.severity is not None
            arrivals.append(Arrival(policy=entry.item.escalation, alert=entry.key, severity=result.record.severity,
                                    at=at, metric=entry.item.rule.metric))
        rows[entry.item.model].append(_row(entry.item, result))
    for key, record in prior.alerts.items():  # rules or models that are gone: their alerts resolve
        if key not in alerts and all(m.key != key for m in measured):
            if record.status == "firing":
                alerts[key] = record.model_copy(update={"status": "resolved", "resolved_at": at})
            elif record.status == "resolved":
                alerts[key] = record
    arrivals = _recent(arrivals, policies, moment)
    groups = dict(prior.groups)
    escalated, escalated_at, notes = _escalate(policies, alerts, arrivals, prior.escalations, groups, moment)
    planner = lifecycle.Planner(env.name, policies, alerts, groups, moment, escalated)
    outgoing = planner.plan()
    rows_out, deliveries = _deliver(outgoing, policies, options)
    for item, delivered in deliveries:
        if delivered.ok:
            groups[item.group] = lifecycle.apply_delivery(groups.get(item.group) or GroupRecord(policy=item.policy),
                                                          item, at)
            for view in item.note.alerts:
                if view.key in alerts:
                    alerts[view.key] = alerts[view.key].model_copy(update={"last_notified": at})
    readings, metric_rows = _readings(prior.readings, measurement.readings, at)
    monitor = _settle(prior, alerts, groups, arrivals, escalated_at, deliveries, planner, at).model_copy(
        update={"readings": readings})
    report = MonitorReport(env.name, at, source.describe(), options is None,
                           [_health(name, model_rows, metric_rows.get(name, [])) for name, model_rows in rows.items()],
                           rows_out, notes)
    return report, monitor


SIGNIFICANT = 6  # digits a reading keeps: float noise in a query's answer is not a change worth a state write


def _readings(prior: Mapping[str, Mapping[str, Reading]], reads: list[_Read], at: str
              ) -> tuple[dict[str, dict[str, Reading]], dict[str, list[MetricRow]]]:
    """This run's readings against the last run's: the rows of the report and what the state keeps (a metric
    whose value did not change keeps its record, and its time)."""
    kept: dict[str, dict[str, Reading]] = {}
    rows: dict[str, list[MetricRow]] = {}
    for read in reads:
        value = float(f"{read.value:.{SIGNIFICANT}g}") if read.value is not None else None
        last = prior.get(read.model, {}).get(read.metric.name)
        if read.error is not None:
            record = last  # an invalid query says nothing about the value
        elif last is not None and last.value == value:
            record = last
        else:
            record = Reading(value=value, at=at, previous=last.value if last else None,
                             previous_at=last.at if last else None)
        if record is not None:
            kept.setdefault(read.model, {})[read.metric.name] = record
        rows.setdefault(read.model, []).append(MetricRow(
            read.metric.family, read.metric.name, read.metric.unit, value,
            "error" if read.error else lifecycle.format_value(value, read.metric.unit), at,
            last.value if last else None, last.at if last else None,
            trend(read.metric, last, value) if read.error is None else "-", read.error))
    return kept, rows


def trend(metric: Metric, last: Reading | None, value: float | None) -> str:
    """How a value moved since the last run's reading, and whether that is better or worse for this metric."""
    if value is None:
        return "-"
    if last is None or last.value is None:
        return "first reading"
    if value == last.value:
        return "steady"
    rising = value > last.value
    better = rising == (metric.direction == "higher-is-better")
    change = f"{abs(value - last.value) / abs(last.value):.0%}" if last.value else lifecycle.format_value(
        abs(value - last.value), metric.unit)
    return f"{'up' if rising else 'down'} {change} ({'better' if better else 'worse'})"


def _counted(policies: Mapping[str, EscalationPolicySpec], name: str | None, severity: str | None) -> bool:
    """Whether an escalation rule of the policy counts alerts of this severity (only those are remembered)."""
    policy = policies.get(name) if name else None
    return policy is not None and severity is not None and any(
        r.severity in (None, severity) for r in policy.escalate)


def _recent(arrivals: list[Arrival], policies: Mapping[str, EscalationPolicySpec], moment: datetime) -> list[Arrival]:
    """Arrivals still inside some escalation window of their policy."""
    kept = []
    for arrival in arrivals:
        policy = policies.get(arrival.policy)
        longest = max((r.longest.seconds for r in policy.escalate), default=0.0) if policy else 0.0
        if moment - parse_iso(arrival.at) < timedelta(seconds=longest):
            kept.append(arrival)
    return kept


def _escalate(policies: Mapping[str, EscalationPolicySpec], alerts: dict[str, AlertRecord],
              arrivals: list[Arrival], last: Mapping[str, str], groups: dict[str, GroupRecord],
              moment: datetime) -> tuple[dict[str, set[str]], dict[str, str], list[str]]:
    escalated: dict[str, set[str]] = {}
    stamps = dict(last)
    notes = []
    for name, policy in sorted(policies.items()):
        for found in lifecycle.escalations(name, policy, arrivals, last, moment):
            stamps[found.stamp] = iso(moment)
            reason = f"{name}: {found.reason()}"
            notes.append(f"{reason} -> {', '.join(found.channels)}")
            for key in found.alerts:
                alert = alerts.get(key)
                if alert is None or alert.status != "firing":
                    continue
                alerts[key] = lifecycle.escalated(alert, reason)
                group, labels = lifecycle.group_of(name, policy, alert.labels)
                escalated.setdefault(group, set()).update(found.channels)
                record = groups.get(group) or GroupRecord(policy=name, labels=labels)
                added = sorted(set(record.escalated) | set(found.channels))
                groups[group] = record.model_copy(update={"escalated": added})
    return escalated, stamps, notes


def _deliver(outgoing: list[lifecycle.Outgoing], policies: Mapping[str, EscalationPolicySpec],
             options: SendOptions | None) -> tuple[list[NotificationRow], list[tuple[lifecycle.Outgoing,
                                                                                     DeliveryResult]]]:
    """Send what is due, all channels at once; report everything, including what was held back."""
    due = [o for o in outgoing if o.decision == "send"]
    results: dict[int, DeliveryResult] = {}
    if options is not None and due:
        with ThreadPoolExecutor(max_workers=min(8, len(due))) as pool:
            futures = {id(o): pool.submit(_send_one, o, policies, options) for o in due}
            results = {key: future.result() for key, future in futures.items()}
    rows, done = [], []
    for item in outgoing:
        channel = policies[item.policy].channels[item.channel]
        kind = channel.type
        if item.decision != "send":
            rows.append(NotificationRow(item.group, item.policy, item.channel, kind, item.event, item.decision,
                                        item.note.title(), item.reason))
        elif options is None:
            preview = notifier_for(channel).preview(channel, item.note)
            rows.append(NotificationRow(item.group, item.policy, item.channel, kind, item.event, "would send",
                                        item.note.title(), preview=preview))
        else:
            result = results[id(item)]
            done.append((item, result))
            rows.append(NotificationRow(item.group, item.policy, item.channel, kind, item.event, result.outcome,
                                        item.note.title(), result.detail, result.attempts))
            level = logging.INFO if result.outcome == "sent" else logging.WARNING
            log.log(level, "%s %s to %s (%s): %s", item.event, item.group, item.channel, kind, result.describe())
    return rows, done


def _send_one(item: lifecycle.Outgoing, policies: Mapping[str, EscalationPolicySpec],
              options: SendOptions) -> DeliveryResult:
    return send(policies[item.policy].channels[item.channel], item.note, options)


def _settle(prior: MonitorState, alerts: dict[str, AlertRecord], groups: dict[str, GroupRecord],
            arrivals: list[Arrival], escalated_at: dict[str, str],
            deliveries: list[tuple[lifecycle.Outgoing, DeliveryResult]], planner: lifecycle.Planner,
            at: str) -> MonitorState:
    """Forget what is over: resolved alerts nobody still has to hear about, and empty groups."""
    known = {key for group in groups.values() for channel in group.channels.values() for key in channel.firing}
    history = list(prior.history)
    for key, alert in list(alerts.items()):
        if alert.status == "resolved" and key not in known:
            history.append(ClosedAlert(alert=key, severity=alert.severity, firing_since=alert.firing_since,
                                       resolved_at=alert.resolved_at, last_notified=alert.last_notified,
                                       escalated=alert.escalated, escalation_reason=alert.escalation_reason))
            del alerts[key]
    members = lifecycle.Planner(planner.environment, planner.policies, alerts, groups, planner.now).membership()
    groups = {k: g for k, g in groups.items() if (g.channels or k in members) and g.policy in planner.policies}
    recorded = [Delivery(at=at, group=o.group, channel=o.channel, type=_type(planner, o), event=o.event, ok=r.ok,
                         attempts=r.attempts, detail=r.detail, alerts=[v.key for v in o.note.alerts])
                for o, r in deliveries]
    return MonitorState(alerts=alerts, groups=groups, arrivals=arrivals, escalations=escalated_at,
                        deliveries=[*prior.deliveries, *recorded][-DELIVERY_LIMIT:], history=history[-HISTORY_LIMIT:])


def _type(planner: lifecycle.Planner, outgoing: lifecycle.Outgoing) -> str:
    return planner.policies[outgoing.policy].channels[outgoing.channel].type


def _row(item: lifecycle.RuleInput, result: lifecycle.Evaluation) -> RuleRow:
    metric = item.rule.metric or "query"
    return RuleRow(item.policy, item.rule.name, metric, result.status, result.value,
                   lifecycle.format_value(result.value, item.unit) if result.status != "error" else "error",
                   lifecycle.describe_limits(item.rule), result.since, result.detail)


def _health(name: str, rows: list[RuleRow], metrics: list[MetricRow]) -> ModelHealth:
    statuses = {r.status for r in rows}
    if "error" in statuses:
        status = "error"
    elif "critical" in statuses:
        status = "critical"
    elif "warning" in statuses:
        status = "warning"
    elif rows and statuses == {"nodata"}:
        status = "no data"
    else:
        status = "healthy"
    return ModelHealth(name, status, rows, metrics)
