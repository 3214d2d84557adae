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
    """An alert that started firing: what escalation rules count."""

    policy: str
    alert: str
    severity: Severity
    at: str


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


class ClosedAlert(_Record):
    """A resolved alert, kept for history."""

    alert: str
    severity: Severity | None
    firing_since: str | None
    resolved_at: str | None
    last_notified: str | None


class MonitorState(_Record):
    """Everything `modelops monitor` remembers between runs."""

    alerts: dict[str, AlertRecord] = Field(default_factory=dict)
    groups: dict[str, GroupRecord] = Field(default_factory=dict)
    arrivals: list[Arrival] = Field(default_factory=list)
    escalations: dict[str, str] = Field(default_factory=dict)  # "policy#index" -> when it last escalated
    deliveries: list[Delivery] = Field(default_factory=list)
    history: list[ClosedAlert] = Field(default_factory=list)
