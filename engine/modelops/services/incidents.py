"""`modelops incident list | show` as services: the incidents each environment's state records (opened by critical
alerts and automatic rollbacks, see `modelops.ops.incidents`), their response times and their reviews."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelops.base.errors import UsageError
from modelops.base.layout import review_path
from modelops.ops.incidents import Figures, figures, incidents_of
from modelops.state.incidents import Incident
from modelops.workspace import Workspace


@dataclass(frozen=True)
class EnvironmentIncidents:
    """An environment's incidents, newest first, and the means of their response times."""

    name: str
    incidents: list[Incident]
    figures: Figures


@dataclass(frozen=True)
class IncidentDetail:
    """One incident, where its review is (and whether it was written), and the runbooks of its alert rules."""

    environment: str
    incident: Incident
    review: str
    review_written: bool
    runbooks: list[tuple[str, str]]


def list_incidents(root: Path, environments: tuple[str, ...]) -> list[EnvironmentIncidents]:
    ws = Workspace.load(root)
    found = []
    for name in ws.select(environments) or tuple(ws.desired.environments):
        incidents = incidents_of(ws.state(name))
        found.append(EnvironmentIncidents(name, incidents, figures(incidents)))
    return found


def show_incident(root: Path, incident_id: str) -> IncidentDetail:
    """The incident named `incident_id`, in whichever environment recorded it."""
    from modelops.report.reviews import runbooks

    ws = Workspace.load(root)
    known: list[str] = []
    for name in ws.desired.environments:
        recorded = ws.state(name).incidents
        incident = recorded.get(incident_id)
        if incident is not None:
            review = review_path(name, incident.id)
            return IncidentDetail(name, incident, review, (root / review).is_file(),
                                  runbooks(ws.environment(name), incident))
        known += recorded
    from modelops.base.diagnostics import suggestion

    listed = ", ".join(sorted(known)[-5:]) or "none"
    raise UsageError(f'no incident "{incident_id}" is recorded{suggestion(incident_id, known)}',
                     hint=f"`modelops incident list` shows them (recorded: {listed})")
