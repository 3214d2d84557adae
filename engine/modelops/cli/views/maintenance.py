"""The maintenance report as text and JSON (`format_version` 1)."""

from __future__ import annotations

from typing import Any

from modelops.base.console import Console
from modelops.cli.render import Renderer, uncoloured
from modelops.cli.views import jsonout
from modelops.ops.maintenance import EnvironmentMaintenance, days


def windows_line(report: EnvironmentMaintenance) -> str:
    """Where housekeeping stands: the windows, and whether one is open now or when the next opens."""
    if not report.windows:
        return "no maintenance windows: housekeeping runs whenever it is due"
    state = (f"open until {report.open_until}" if report.open_until else
             f"closed, the next opens at {report.next_opening}" if report.next_opening else "closed, none opens again")
    return f"maintenance windows {'; '.join(report.windows)}: {state}"


def render_text(report: list[EnvironmentMaintenance], console: Console) -> str:
    blocks = []
    for env in report:
        count = len(env.findings)
        models = f"{env.models} model{'s' if env.models != 1 else ''}"
        verdict = f"{count} finding{'s' if count != 1 else ''} in {models}" if count else f"nothing to maintain in " \
                                                                                            f"{models}"
        lines = [f"{console.style(env.environment, 'bold')} (as of {env.at}, maxVersionAge "
                 f"{days(env.max_version_age)}): {verdict}", f"  {windows_line(env)}"]
        for finding in env.findings:
            lines += [f"  {finding.model}: {console.style(finding.title, 'yellow')}: {finding.detail}",
                      f"    → {finding.fix}   [{finding.file}]"]
        lines += [f"  ? cannot tell: {note}" for note in env.undetermined]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def environment_json(env: EnvironmentMaintenance) -> dict[str, Any]:
    return {"name": env.environment, "at": env.at, "max_version_age": days(env.max_version_age),
            "max_version_age_seconds": env.max_version_age.seconds, "windows": env.windows,
            "window_open_until": env.open_until, "next_window": env.next_opening, "models": env.models,
            "findings": [{"model": f.model, "kind": f.kind, "detail": f.detail, "fix": f.fix, "file": f.file}
                         for f in env.findings],
            "undetermined": env.undetermined}


def render_json(report: list[EnvironmentMaintenance]) -> str:
    return jsonout.dumps({"environments": [environment_json(e) for e in report]})


RENDERERS: dict[str, Renderer[list[EnvironmentMaintenance]]] = {"text": render_text, "json": uncoloured(render_json)}
