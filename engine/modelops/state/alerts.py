"""The monitor's part of an environment's state: alert lifecycle, notification groups, deliveries.

`modelops monitor` keeps here what Alertmanager keeps in memory, so that a periodic run (cron, CI) behaves
like a long-running alert manager: an alert is pending, then firing (since when, last notified when), then
resolved; a group remembers what each channel was last told and when, so an unchanged situation is not
notified again before `repeat`; arrivals of firing alerts feed the escalation windows. Nothing here holds a
secret: channels are named, never their URLs or keys.

Every field defaults to empty, so state files written before monitoring existed still load.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AlertStatus = Literal["pending", "firing", "resolved"]
Severity = Literal["warning", "critical"]
DELIVERY_LIMIT = 50
HISTORY_LIMIT = 50


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AlertRecord(_Record):
    """One alert instance: a rule of an AlertPolicy on one model."""

    model: str
    rule: str
    policy: str
    escalation: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    status: AlertStatus
    severity: Severity | None = None
    value: float | None = None
    active_since: dict[Severity, str] = Field(default_factory=dict)  # condition held since, per severity
    firing_since: str | None = None
    cleared_at: str | None = None  # when a firing alert's condition was first seen clear (keepFiringFor)
    last_notified: str | None = None
    resolved_at: str | None = None
    escalated: bool = False  # an escalation rule added channels for it while it fired
    escalation_reason: str | None = None  # which rule, and the count it reached


class ChannelRecord(_Record):
    """What one channel of a group was last told, successfully, and when."""

    sent: str
    digest: str
    firing: list[str] = Field(default_factory=list)  # alert keys it knows as firing (their resolve goes here)


class GroupRecord(_Record):
    """A notification group: alerts of one EscalationPolicy sharing the values of its `grouping.by` labels."""

    policy: str
    labels: dict[str, str] = Field(default_factory=dict)
    channels: dict[str, ChannelRecord] = Field(default_factory=dict)
    escalated: list[str] = Field(default_factory=list)  # channels added by an escalation rule


class Arrival(_Record):
    """An alert that started firing: what escalation rules count (per alert type: its rule and metric)."""

    policy: str
    alert: str
    severity: Severity
    at: str
    metric: str | None = None  # the rule's metric (None: a raw query, or a state written before it was kept)


class Delivery(_Record):
    """The result of one notification attempt (after retries)."""

    at: str
    group: str
    channel: str
    type: str
    event: str
    ok: bool
    attempts: int = 0
    detail: str = ""
    alerts: list[str] = Field(default_factory=list)  # the alert keys it carried (an incident's timeline finds it)


class ClosedAlert(_Record):
    """A resolved alert, kept for history."""

    alert: str
    severity: Severity | None
    firing_since: str | None
    resolved_at: str | None
    last_notified: str | None
    escalated: bool = False
    escalation_reason: str | None = None


class Reading(_Record):
    """The last value `modelops monitor` read of one metric of one model (None: no data), when, and the value it
    replaced: the trend of the next run is measured against `value`. An unchanged value keeps its record, so a
    run that reads the same numbers writes nothing."""

    value: float | None
    at: str
    previous: float | None = None
    previous_at: str | None = None


class MonitorState(_Record):
    """Everything `modelops monitor` remembers between runs."""

    alerts: dict[str, AlertRecord] = Field(default_factory=dict)
    groups: dict[str, GroupRecord] = Field(default_factory=dict)
    arrivals: list[Arrival] = Field(default_factory=list)
    # "policy#index" (counting per policy) or "policy#index#alert key" (per alert) -> when it last escalated
    escalations: dict[str, str] = Field(default_factory=dict)
    deliveries: list[Delivery] = Field(default_factory=list)
    history: list[ClosedAlert] = Field(default_factory=list)
    readings: dict[str, dict[str, Reading]] = Field(default_factory=dict)  # model -> metric -> its last reading
