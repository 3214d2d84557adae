"""The shared policies: AlertPolicy, EscalationPolicy, ScalingPolicy and Guardrail."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from modelops.base.clock import readable
from modelops.config.catalog import METRICS
from modelops.config.scalars.duration import Duration
from modelops.config.spec.http import HttpAuth, UrlOrSecret
from modelops.config.spec.model import exactly_one
from modelops.config.spec.types import (
    HTTP_URL_PATTERN,
    CronField,
    DurationField,
    Int,
    Measure,
    Name,
    SecretField,
    Spec,
    TimeZone,
    described,
)

Severity = Literal["warning", "critical"]
LABEL_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
LabelName = Annotated[str, Field(pattern=LABEL_PATTERN)]
#: A metric's name: a catalogue metric, or a business metric an environment declares (checked in validation).
MetricRef = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]

# -- AlertPolicy ----------------------------------------------------------------------------------


class Thresholds(Spec):
    """Threshold per severity, in the metric's unit (durations allowed for time metrics)."""

    model_config = Spec.model_config | {"json_schema_extra": {"minProperties": 1}}

    warning: Measure | None = described(
        "The warning alert fires when the value is beyond this one (strictly: above it for `above`, below it for "
        "`below`).", default=None)
    critical: Measure | None = described(
        "The critical alert fires when the value reaches this one (inclusive: at or above it for `above`, at or "
        "below it for `below`).", default=None)

    @model_validator(mode="after")
    def _some(self) -> Thresholds:
        if self.warning is None and self.critical is None:
            raise PydanticCustomError("exactly_one", "set a warning threshold, a critical threshold, or both")
        return self


class AlertRule(Spec):
    """One alert: a metric compared with thresholds for a while."""

    model_config = Spec.model_config | {
        "json_schema_extra": {"oneOf": [{"required": ["metric"]}, {"required": ["query"]}],
                              "anyOf": [{"required": ["above"]}, {"required": ["below"]}]}
    }

    name: Name = described("Rule name; becomes the modelops_rule label.")
    metric: MetricRef | None = described(
        "A catalogue metric (response_time, throughput, error_rate, cpu_usage, memory_usage, disk_usage, "
        "cost_per_request) or a business metric of the environment (spec.businessMetrics).", default=None,
        examples=list(METRICS))
    query: str | None = described("A raw PromQL expression instead of a catalogue metric.", default=None,
                                  min_length=1)
    above: Thresholds | None = described("Fire when the value is above these thresholds.", default=None)
    below: Thresholds | None = described("Fire when the value is below these thresholds.", default=None)
    for_: DurationField = Field(default=Duration(0), alias="for",
                                description="How long the condition must hold before the alert fires.")
    keep_firing_for: DurationField | None = described("How long the alert keeps firing after the condition clears.",
                                                      default=None)
    window: DurationField = described("Rate window of the catalogue query.", default=Duration(300_000))
    runbook: str | None = described("Runbook URL, linked from notifications.", default=None,
                                    pattern=HTTP_URL_PATTERN)
    summary: str | None = described("One-line summary; defaults to a generated one.", default=None)
    description: str | None = described("Longer description for notifications.", default=None)
    labels: dict[LabelName, str] = described("Extra labels on the alert.", default_factory=dict)

    @model_validator(mode="after")
    def _shape(self) -> AlertRule:
        exactly_one(self, ("metric", "query"), "an alert rule")
        if self.above is None and self.below is None:
            raise PydanticCustomError("exactly_one", "an alert rule needs above, below or both")
        return self


class AlertPolicySpec(Spec):
    """Alert rules applied to every model that references the policy."""

    rules: list[AlertRule] = described("The rules.", min_length=1)


# -- EscalationPolicy -----------------------------------------------------------------------------


class SlackChannel(Spec):
    """A Slack incoming webhook."""

    type: Literal["slack"] = described("Channel type.")
    webhook_url: SecretField = described("Incoming-webhook URL (a secret reference).")
    channel: str | None = described("Channel override, such as #ml-alerts.", default=None)
    username: str | None = described("Display name of the sender.", default=None)


class PagerDutyChannel(Spec):
    """A PagerDuty service, through Events API v2."""

    type: Literal["pagerduty"] = described("Channel type.")
    routing_key: SecretField = described("Integration (routing) key of the service (a secret reference).")
    url: str = described("Events API endpoint.", default="https://events.pagerduty.com/v2/enqueue",
                         pattern=HTTP_URL_PATTERN)


class Smtp(Spec):
    """The mail relay."""

    host: str = described("SMTP server host name.", min_length=1)
    port: Int = described("SMTP port.", default=587, ge=1, le=65535)
    username: SecretField | None = described("User name (a secret reference).", default=None)
    password: SecretField | None = described("Password (a secret reference).", default=None)
    require_tls: bool = described("Require STARTTLS before authenticating.", default=True)


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
Email = Annotated[str, Field(pattern=EMAIL_PATTERN)]


class EmailChannel(Spec):
    """E-mail over SMTP."""

    type: Literal["email"] = described("Channel type.")
    to: list[Email] = described("Recipients.", min_length=1)
    from_: Email = Field(default="modelops@localhost", alias="from", description="Sender address.")
    smtp: Smtp = described("SMTP relay that sends the mail.")


class WebhookChannel(Spec):
    """A generic webhook receiving Alertmanager's v4 payload."""

    type: Literal["webhook"] = described("Channel type.")
    url: UrlOrSecret = described("Receiver URL: an http(s) URL, or a secret reference when the URL holds a token.")
    max_alerts: Int = described("Maximum alerts per message; 0 means all.", default=0, ge=0)
    auth: HttpAuth | None = described("How modelops authenticates to the receiver (sent to its origin only).",
                                      default=None)


Channel = Annotated[SlackChannel | PagerDutyChannel | EmailChannel | WebhookChannel, Field(discriminator="type")]


class Route(Spec):
    """Which channels get which alerts; the first matching route wins unless it says continue."""

    match: dict[LabelName, str] = described("Label equality matchers (severity, model, env, rule, model labels).",
                                            default_factory=dict)
    channels: list[Name] = described("Channels (by name) that receive matching alerts.", min_length=1)
    continue_: bool = Field(default=False, alias="continue", description="Keep matching later routes.")


class Grouping(Spec):
    """Alerts with the same values of `by` form one group, notified together (the deduplication key)."""

    by: list[LabelName] = described("Labels that identify a group.", default_factory=lambda: ["model", "rule"])
    wait: DurationField = described("Wait before the first notification of a new group.", default=Duration(30_000))
    interval: DurationField = described("Wait before notifying about new alerts in a group.",
                                        default=Duration(300_000))
    repeat: DurationField = described("Wait before re-sending a notification that has not changed.",
                                      default=Duration(14_400_000))


class EscalateWhen(Spec):
    """The trigger of an escalation: N similar alerts within a window."""

    count: Int = described("Number of similar alerts.", ge=2)
    within: DurationField = described("Window in which they must arrive.")

    def __str__(self) -> str:
        return f"{self.count} within {readable(self.within.ms, exact=True)}"


#: The operations guide's escalation table: per alert type (a catalogue metric), N alerts within a window.
GUIDE_ESCALATION: dict[str, EscalateWhen] = {
    "response_time": EscalateWhen.model_validate({"count": 3, "within": "5m"}),
    "error_rate": EscalateWhen.model_validate({"count": 2, "within": "3m"}),
    "cpu_usage": EscalateWhen.model_validate({"count": 5, "within": "10m"}),
    "memory_usage": EscalateWhen.model_validate({"count": 3, "within": "5m"}),
}
#: The guide's threshold for every other alert type.
GUIDE_ESCALATION_OTHER = EscalateWhen.model_validate({"count": 5, "within": "10m"})
TYPE_PATTERN = r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$"


class EscalationRule(Spec):
    """Extra channels notified when alerts pile up: by default when N alerts of the same rule for the same
    model arrive within a window, N and the window per alert type (the operations guide's table unless `when`
    or `thresholds` say otherwise)."""

    when: EscalateWhen | None = described(
        "The trigger for every alert type `thresholds` does not list. Without it, the operations guide's table "
        "by metric: response_time 3 within 5m, error_rate 2 within 3m, cpu_usage 5 within 10m, memory_usage 3 "
        "within 5m, anything else 5 within 10m.", default=None)
    thresholds: dict[Annotated[str, Field(pattern=TYPE_PATTERN)], EscalateWhen] = described(
        "Triggers per alert type: the key is a rule name or a metric name (a rule name wins). Only with "
        "`per: alert`.", default_factory=dict)
    per: Literal["alert", "policy"] = described(
        "What counts together: `alert`, the alerts of one rule on one model (the guide's rule); `policy`, every "
        "alert of the policy (any rule, any model).", default="alert")
    channels: list[Name] = described("Channels (by name) to add.", min_length=1)
    severity: Severity | None = described("Count only alerts of this severity.", default=None)

    def trigger(self, rule: str | None = None, metric: str | None = None) -> EscalateWhen:
        """The trigger for alerts of `rule` on `metric`: its `thresholds` entry (rule name first), else `when`,
        else the guide's table. Counting per policy, `when` or the guide's "anything else"."""
        if self.per == "policy":
            return self.when or GUIDE_ESCALATION_OTHER
        for key in (rule, metric):
            if key is not None and key in self.thresholds:
                return self.thresholds[key]
        if self.when is not None:
            return self.when
        return GUIDE_ESCALATION.get(metric or "", GUIDE_ESCALATION_OTHER)

    @property
    def longest(self) -> Duration:
        """The longest window any alert type can be counted in (how long arrivals must be remembered)."""
        windows = [t.within for t in self.thresholds.values()]
        if self.when is not None:
            windows.append(self.when.within)
        else:
            windows += [t.within for t in (*GUIDE_ESCALATION.values(), GUIDE_ESCALATION_OTHER)]
        return max(windows)


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class QuietHours(Spec):
    """When notifications of some severities are muted."""

    weekdays: list[Weekday] = described("Days (all day unless start/end are set); empty means every day.",
                                        default_factory=list)
    start: str | None = described("Start time of day, HH:MM.", default=None, pattern=CLOCK_PATTERN)
    end: str | None = described("End time of day, HH:MM (exclusive).", default=None, pattern=CLOCK_PATTERN)
    timezone: TimeZone = described("IANA time zone of start/end and weekdays.", default="UTC")
    severities: list[Severity] = described("Severities muted in these hours.", default_factory=lambda: ["warning"])


class EscalationPolicySpec(Spec):
    """Channels, routes, grouping, escalation and quiet hours for a model's alerts."""

    channels: dict[Name, Channel] = described("Notification channels by name.", min_length=1)
    routes: list[Route] = described("Routing rules, in order.", min_length=1)
    grouping: Grouping = described("Grouping and deduplication.", default_factory=Grouping)
    escalate: list[EscalationRule] = described("Escalation rules.", default_factory=list)
    quiet_hours: list[QuietHours] = described("Muted periods.", default_factory=list)


# -- ScalingPolicy --------------------------------------------------------------------------------


class Targets(Spec):
    """Per-replica targets the autoscaler keeps."""

    model_config = Spec.model_config | {"json_schema_extra": {"minProperties": 1}}

    cpu_utilization: Int | None = described("Average CPU utilisation, percent.", default=None, ge=1, le=100)
    memory_utilization: Int | None = described("Average memory utilisation, percent.", default=None, ge=1, le=100)
    gpu_utilization: Int | None = described("Average GPU utilisation, percent (Prometheus metric).", default=None,
                                            ge=1, le=100)
    concurrency: float | None = described("In-flight requests per replica (Prometheus metric).", default=None, gt=0)
    rps: float | None = described("Requests per second per replica (Prometheus metric).", default=None, gt=0)
    queue_depth: float | None = described("Queued requests per replica (Prometheus metric).", default=None, gt=0)

    @model_validator(mode="after")
    def _some(self) -> Targets:
        if not self.model_dump(exclude_none=True):
            raise PydanticCustomError("exactly_one", "set at least one scaling target")
        return self


class ScalePolicyRule(Spec):
    """One HPA scaling policy: change by `value` pods or percent per `period`."""

    type: Literal["Pods", "Percent"] = described("Pods or Percent.")
    value: Int = described("Amount per period.", ge=1)
    period: DurationField = described("Period of the policy (at most 30m).")


class ScaleRules(Spec):
    """Scale-up or scale-down behaviour (HPA v2 `behavior`)."""

    stabilization_window: DurationField | None = described("Look-back window that damps flapping.", default=None)
    select_policy: Literal["Max", "Min", "Disabled"] | None = described("Which policy wins.", default=None)
    policies: list[ScalePolicyRule] = described("Rate limits.", default_factory=list)


class Behavior(Spec):
    """HPA v2 behaviour."""

    scale_up: ScaleRules | None = described("Scale-up behaviour.", default=None)
    scale_down: ScaleRules | None = described("Scale-down behaviour.", default=None)


class Schedule(Spec):
    """A scheduled floor (KEDA cron): at least `minReplicas` from `cron` for `duration`."""

    cron: CronField = described("Five-field cron expression of the start: minute (0-59), hour (0-23), day of "
                                "month (1-31), month (1-12 or JAN-DEC), day of week (0-7 or SUN-SAT; 0 and 7 are "
                                "Sunday); each *, a value, a range a-b, a step /n or a list of those.")
    duration: DurationField = described("How long the floor holds.", default=Duration(36_000_000))
    min_replicas: Int = described("Replica floor during the window.", ge=0)
    timezone: TimeZone = described("IANA time zone of the cron expression.", default="UTC")


class CapacityRules(Spec):
    """Thresholds for capacity recommendations (the operations guide's by default)."""

    cpu_high: float = described("CPU utilisation (percent) above which to recommend scaling.", default=70, gt=0,
                                le=100)
    memory_high: float = described("Memory utilisation (percent) above which to recommend scaling.", default=80,
                                   gt=0, le=100)
    statistic: Literal["average", "p95"] = described(
        "Which utilisation cpuHigh and memoryHigh judge: the average over the history (the guide's rule), or its "
        "95th percentile (stricter: peaks count).", default="average")
    max_cost_per_request: float = described("Cost per request above which to recommend optimising.", default=0.01,
                                            gt=0)
    growth_warning: float = described(
        "Monthly request growth (0.2 = 20%) above which to recommend planning for it; growth the history can not "
        "confirm (not significant at 95%) is reported at low priority.", default=0.2, gt=0)
    headroom: str = described("Spare replicas at peak, as N+k.", default="N+2", pattern=r"^N\+[0-9]$")


class ScalingPolicySpec(Spec):
    """Replica bounds, autoscaling targets and behaviour, schedules and capacity thresholds."""

    min_replicas: Int = described("Fewest replicas (0 allows scale to zero with KEDA).", ge=0, le=1000)
    max_replicas: Int = described("Most replicas.", ge=1, le=1000)
    targets: Targets = described("Autoscaling targets.")
    behavior: Behavior | None = described("Scale-up / scale-down behaviour.", default=None)
    schedule: list[Schedule] = described("Scheduled replica floors.", default_factory=list)
    capacity: CapacityRules = described("Capacity-planning thresholds.", default_factory=CapacityRules)


# -- Guardrail ------------------------------------------------------------------------------------

KindName = Literal["Environment", "Model", "AlertPolicy", "EscalationPolicy", "ScalingPolicy"]


class GuardrailMatch(Spec):
    """Which documents a guardrail checks; empty lists match everything."""

    kinds: list[KindName] = described("Kinds to check.", default_factory=list)
    environments: list[Name] = described("Environments whose models (and Environment) are checked.",
                                         default_factory=list)
    labels: dict[str, str] = described("metadata.labels that must all be present.", default_factory=dict)


class GuardrailSpec(Spec):
    """Policy as data: every matched document must satisfy a JSON Schema."""

    match: GuardrailMatch = described("Selection of documents.", default_factory=GuardrailMatch)
    severity: Literal["error", "warning"] = described("error blocks validation; warning only reports.",
                                                      default="error")
    message: str = described("What the guardrail protects and how to comply.", min_length=1)
    require: dict[str, Any] = described("A JSON Schema (draft 2020-12) each matched document must satisfy.")
