"""What `modelops local up | down | status` prints: per environment, what was done, what is missing, and a table
of the runtime's processes."""

from __future__ import annotations

from dataclasses import asdict

from modelops.base.console import Console
from modelops.cli.render import Renderer, uncoloured
from modelops.cli.views import jsonout
from modelops.cli.views.table import table
from modelops.services.local import LocalReport

_STATE_COLOURS = {"ready": "green", "running": "green", "unready": "yellow", "stopped": "yellow", "exited": "red"}


def render_text(reports: list[LocalReport], console: Console) -> str:
    return "\n\n".join(_environment(r, console) for r in reports)


def _environment(report: LocalReport, console: Console) -> str:
    name = console.style(report.environment, "bold")
    if not report.real:
        what = "simulated: a table of records, no process" if report.runtime == "simulated" else (
            f"driver {report.runtime}: not the local target")
        return f"{name} ({what})"
    lines = [f"{name} (local runtime {report.runtime})"]
    lines += [f"  {line}" for line in report.done]
    lines += [f"  ! missing: {need}" for need in report.missing]
    if report.error is not None:
        lines += [f"  ! {line}" for line in report.error.splitlines()]
    rows = [[p.component, p.model, p.slot, p.version, str(p.pid or "-"), p.url,
             console.style(p.state, *_colour(p.state)), p.log] for p in report.processes]
    if rows:
        lines += ["  " + line for line in table(rows, ("PROCESS", "MODEL", "SLOT", "VERSION", "PID", "ADDRESS",
                                                       "STATE", "LOG"))]
    else:
        lines.append("  no process recorded: the first apply starts them")
    return "\n".join(lines)


def _colour(state: str) -> tuple[str, ...]:
    colour = _STATE_COLOURS.get(state)
    return (colour,) if colour else ()


def render_json(reports: list[LocalReport]) -> str:
    return jsonout.dumps({"environments": [
        {"environment": r.environment, "runtime": r.runtime, "missing": r.missing, "done": r.done, "error": r.error,
         "processes": [asdict(p) for p in r.processes]} for r in reports]})


RENDERERS: dict[str, Renderer[list[LocalReport]]] = {"text": render_text, "json": uncoloured(render_json)}
