"""Incidents as the state file keeps them: what opened each one, its times, and its timeline.

An incident opens when a critical alert fires or an automatic rollback happens, and closes when what opened it is
over (the alert resolved; a later healthy apply of the model). `modelops.ops.incidents` keeps these records up to
date from what the state records (alerts, notifications, escalations, applies, rollbacks); they outlive the bounded
lists they are gathered from, so a post-incident review stays whole. Nothing here holds a secret: channels are
named, never their URLs or keys.

Every field defaults to empty, so state files written before incidents existed still load (format 3).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

EntryKind = Literal["incident", "alert", "notification", "escalation", "apply", "rollback"]
CauseKind = Literal["alert", "rollback"]
INCIDENT_LIMIT = 100  # incidents an environment keeps (the oldest resolved go first)
TIMELINE_LIMIT = 200  # entries an incident keeps (the first ones, which tell how it started, and the latest)
#: `<env>-<model>-<yyyymmddThhmm>`, with `-2`, `-3` for another one opened in the same minute
ID_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?-[0-9]{8}T[0-9]{4}(-[0-9]+)?$"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TimelineEntry(_Record):
    """Something that happened to the incident's model while it was open."""

    at: str
    kind: EntryKind
    text: str
    alert: str | None = None  # the alert it is about (`model/policy/rule`), whose rule may link a runbook

    @model_serializer(mode="wrap")
    def _without_alert(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """An entry about no alert does not say so (the state file stays short)."""
        data: dict[str, Any] = handler(self)
        if data.get("alert", "") is None:
            del data["alert"]
        return data


class Cause(_Record):
    """What opened an incident, or joined it while it was open: a critical alert (its key `model/policy/rule`) or an
    automatic rollback (its attempt, `#<id>`), since when, and when it was over."""

    kind: CauseKind
    ref: str
    at: str
    resolved: str | None = None


class Incident(_Record):
    """One incident of one model. `opened` is when the trouble began (the critical condition's start; for a rollback,
    when the version that failed took traffic, else when its gate failed), `detected` when modelops saw it (the
    alert fired; the gate failed), `mitigated` when users were served well again (a rollback's switch back; without
    one, the resolution), `resolved` when every cause was over."""

    id: str = Field(pattern=ID_PATTERN)  # names its review's file: nothing that could lead elsewhere
    model: str
    trigger: str
    opened: str
    detected: str
    mitigated: str | None = None
    resolved: str | None = None
    causes: list[Cause] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)

    @property
    def status(self) -> Literal["open", "mitigated", "resolved"]:
        if self.resolved is not None:
            return "resolved"
        return "mitigated" if self.mitigated is not None else "open"
