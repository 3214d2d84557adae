"""Operations maturity as text, JSON (`format_version` 1) and Markdown (the report's section)."""

from __future__ import annotations

from typing import Any

from modelops.base.console import Console
from modelops.cli.render import Renderer, uncoloured
from modelops.cli.views import jsonout
from modelops.cli.views.table import table
from modelops.ops.assess import AssessReport, EnvironmentAssessment, level_name
from modelops.ops.incidents import describe

_LEVEL_COLOURS = {"basic": "red", "standard": "yellow", "advanced": "cyan", "expert": "green"}


def render_text(report: AssessReport, console: Console) -> str:
    blocks = [_environment(env, console) for env in report.environments]
    if report.minimum is not None:
        blocks.append(gate(report))
    return "\n\n".join(blocks)


def _paint(level: str, console: Console) -> str:
    return console.style(level, _LEVEL_COLOURS[level])


def _environment(env: EnvironmentAssessment, console: Console) -> str:
    lines = [f"{console.style(env.environment, 'bold')}: {_paint(level_name(env.level), console)} "
             f"(score {env.score:.2f} of 4)"]
    rows = [[a.area, _paint(level_name(a.level), console), f"{a.score:.2f}",
             ", ".join(f"{m.model} {m.name}" for m in a.models) or "no models"] for a in env.areas]
    lines += table(rows, ("AREA", "LEVEL", "SCORE", "MODELS"))
    if env.incidents is not None and env.incidents.count:
        lines.append(f"Incident response: {describe(env.incidents)}")
    recommendations = env.recommendations
    if recommendations:
        lines += ["", "To raise the level:"]
        for r in recommendations:
            lines += [f"  {r.area}: {', '.join(r.models)} ({r.level_name} → {r.goal}) needs {r.criterion}",
                      f"    → {r.change}   [{r.file}]"]
    return "\n".join(lines)


def gate(report: AssessReport) -> str:
    """The CI gate's verdict, with every reason when an environment is below the minimum."""
    assert report.minimum is not None
    wanted = level_name(report.minimum)
    failing = report.failing
    if not failing:
        return f"Every environment is at least {wanted}."
    lines = [f"Below the required level {wanted}:"]
    for env in failing:
        reasons = env.shortfall(report.minimum)
        lines.append(f"  - {reasons[0]}")
        lines += [f"    - {reason}" for reason in reasons[1:]]
    return "\n".join(lines)


def render_markdown(report: AssessReport) -> str:
    from modelops.report.render import render_template, tidy
    from modelops.report.sections.maturity import view_data

    parts = []
    for env in report.environments:
        body = render_template("sections/maturity.md.j2", env=env.environment, **view_data(env))
        parts.append(f"## Operations maturity of `{env.environment}`\n\n{body}")
    if report.minimum is not None:
        parts.append(gate(report).replace("\n  - ", "\n- ").replace("\n    - ", "\n  - "))
    return tidy("\n\n".join(parts))


def _environment_json(env: EnvironmentAssessment, minimum: int | None) -> dict[str, Any]:
    return {
        "name": env.environment, "level": level_name(env.level), "score": round(env.score, 4),
        "areas": [{"area": a.area, "level": level_name(a.level), "score": round(a.score, 4), "models": [
            {"name": m.model, "level": m.name, "evidence": m.evidence,
             "missing": [{"criterion": s.criterion, "change": s.change, "file": s.file} for s in m.missing]}
            for m in a.models]} for a in env.areas],
        "recommendations": [{"area": r.area, "models": list(r.models), "from": r.level_name, "to": r.goal,
                             "criterion": r.criterion, "change": r.change, "file": r.file}
                            for r in env.recommendations],
        "below_minimum": env.shortfall(minimum) if minimum is not None else [],
        "incidents": {"count": env.incidents.count, "open": env.incidents.open,
                      "mean_time_to_detect_seconds": env.incidents.detect,
                      "mean_time_to_mitigate_seconds": env.incidents.mitigate,
                      "mean_time_to_resolve_seconds": env.incidents.resolve} if env.incidents is not None else None,
    }


def render_json(report: AssessReport) -> str:
    data = {
        "minimum": level_name(report.minimum) if report.minimum is not None else None,
        "passed": not report.failing,
        "environments": [_environment_json(env, report.minimum) for env in report.environments],
    }
    return jsonout.dumps(data)


RENDERERS: dict[str, Renderer[AssessReport]] = {
    "text": render_text, "json": uncoloured(render_json), "markdown": uncoloured(render_markdown),
}
