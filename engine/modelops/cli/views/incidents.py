"""Incidents as text and JSON (`format_version` 1): the list per environment, and one incident with its timeline."""

from __future__ import annotations

from typing import Any

from modelops.base.console import Console
from modelops.cli.render import Renderer, uncoloured
from modelops.cli.views import jsonout
from modelops.cli.views.table import table
from modelops.ops.incidents import Figures, describe, seconds_between, span
from modelops.services.incidents import EnvironmentIncidents, IncidentDetail
from modelops.state.incidents import Incident

_STATUS_COLOURS = {"open": "red", "mitigated": "yellow", "resolved": "green"}


def _times(incident: Incident) -> tuple[float | None, float | None, float | None]:
    return (seconds_between(incident.opened, incident.detected), seconds_between(incident.opened, incident.mitigated),
            seconds_between(incident.opened, incident.resolved))


def render_list(report: list[EnvironmentIncidents], console: Console) -> str:
    blocks = []
    for env in report:
        name = console.style(env.name, "bold")
        if not env.incidents:
            blocks.append(f"{name}: no incidents recorded")
            continue
        head = f"{name}: {describe(env.figures)}"
        rows = [[i.id, i.model, console.style(i.status, _STATUS_COLOURS[i.status]), i.opened,
                 *(span(s) for s in _times(i)), i.trigger] for i in env.incidents]
        lines = table(rows, ("ID", "MODEL", "STATUS", "OPENED", "DETECT", "MITIGATE", "RESOLVE", "TRIGGER"))
        blocks.append("\n".join([head, *("  " + line for line in lines)]))
    return "\n\n".join(blocks)


def render_show(detail: IncidentDetail, console: Console) -> str:
    incident = detail.incident
    detect, mitigate, resolve = _times(incident)
    status = console.style(incident.status, _STATUS_COLOURS[incident.status])
    facts = [["trigger", incident.trigger], ["opened", incident.opened],
             ["detected", _moment(incident.detected, "detect", detect)],
             ["mitigated", _moment(incident.mitigated, "mitigate", mitigate)],
             ["resolved", _moment(incident.resolved, "resolve", resolve)],
             ["review", detail.review + ("" if detail.review_written else " (not written yet)")]]
    lines = [f"Incident {console.style(incident.id, 'bold')} ({detail.environment}, model {incident.model}): {status}",
             *("  " + line for line in table(facts)), "", console.style("Timeline", "bold")]
    lines += ["  " + line for line in table([[e.at, e.kind, e.text] for e in incident.timeline])]
    lines += ["", console.style("Runbooks", "bold")]
    lines += ["  " + line for line in table([list(r) for r in detail.runbooks])] or ["  none linked"]
    return "\n".join(lines)


def _moment(at: str | None, verb: str, seconds: float | None) -> str:
    return f"{at}  (time to {verb} {span(seconds)})" if at is not None else "not yet"


def _incident_json(incident: Incident) -> dict[str, Any]:
    detect, mitigate, resolve = _times(incident)
    return {**incident.model_dump(mode="json"), "status": incident.status, "time_to_detect_seconds": detect,
            "time_to_mitigate_seconds": mitigate, "time_to_resolve_seconds": resolve}


def _figures_json(found: Figures) -> dict[str, Any]:
    return {"count": found.count, "open": found.open, "mean_time_to_detect_seconds": found.detect,
            "mean_time_to_mitigate_seconds": found.mitigate, "mean_time_to_resolve_seconds": found.resolve}


def render_list_json(report: list[EnvironmentIncidents]) -> str:
    return jsonout.dumps({"environments": [
        {"name": env.name, "figures": _figures_json(env.figures),
         "incidents": [_incident_json(i) for i in env.incidents]} for env in report]})


def render_show_json(detail: IncidentDetail) -> str:
    return jsonout.dumps({"environment": detail.environment, "incident": _incident_json(detail.incident),
                          "review": {"path": detail.review, "written": detail.review_written},
                          "runbooks": [{"rule": rule, "url": url} for rule, url in detail.runbooks]})


LIST_RENDERERS: dict[str, Renderer[list[EnvironmentIncidents]]] = {"text": render_list,
                                                                   "json": uncoloured(render_list_json)}
SHOW_RENDERERS: dict[str, Renderer[IncidentDetail]] = {"text": render_show, "json": uncoloured(render_show_json)}
