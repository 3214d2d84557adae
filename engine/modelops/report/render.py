"""Rendering a report: a sandboxed Jinja environment that escapes for Markdown by default.

Templates are package data (`engine/modelops/report/templates/`). The environment is sandboxed (templates can not
reach Python internals, even if someone edits one carelessly), undefined names are errors, and every
`{{ }}` goes through `escape.finalize` (Markdown + HTML escaping) unless a filter already escaped it for
its context. HTML templates, should any be added, are autoescaped by Jinja itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from jinja2 import PackageLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from modelops.base.clock import iso
from modelops.report import escape, fmt
from modelops.report.context import ReportContext
from modelops.report.section import Section
from modelops.state.format import DIRTY_SUFFIX


@cache
def jinja() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=PackageLoader("modelops.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False,
                                     default=False),
        finalize=escape.finalize, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=escape.md, code=escape.code, mermaid=escape.mermaid, mermaid_text=escape.mermaid_text,
                       link=escape.link, moment=fmt.moment)
    return env


def render_template(template: str, **variables: Any) -> str:
    return jinja().get_template(template).render(**variables)


def render_report(ctx: ReportContext, sections: Sequence[Section]) -> str:
    """The whole REPORT.md of one environment: a header, then every section that has data, in order."""
    shown = []
    for section in sections:
        data = section.collect(ctx)
        if data is None:
            continue
        body = render_template(section.template_name, env=ctx.name, **data).strip("\n")
        shown.append({"title": section.title, "anchor": escape.slug(section.title), "body": Markup(body)})
    text = render_template("report.md.j2", name=ctx.name, facts=_facts(ctx), sections=shown)
    return tidy(text)


#: What the local target's runtime means, beside the driver in the report's facts.
_RUNTIMES = {"simulated": " (simulated: a table of records, no model server runs)",
             "mlserver": " (MLServer processes behind HAProxy routers)",
             "command": " (the models' own server processes behind HAProxy routers)"}


def _facts(ctx: ReportContext) -> list[tuple[str, Markup | str]]:
    spec = ctx.environment.spec
    runtime = _RUNTIMES.get(spec.target.runtime or "", "")
    facts: list[tuple[str, Markup | str]] = [("Target",
                                              Markup(f"{escape.code(spec.target.driver)} driver{escape.md(runtime)}"))]
    if spec.promotes_from:
        facts.append(("Promotes from", escape.code(spec.promotes_from)))
    facts.append(("Approval", "required" if spec.approval == "required" else "not required"))
    facts += [("Freeze", f"{iso(w.from_)} → {iso(w.to)} ({w.reason})") for w in spec.freeze]
    state = ctx.state
    if state.exists:
        recorded = f"serial {state.serial}, updated {state.updated or '-'}"
        commit = Markup(f", configuration at commit {escape.code(state.git_sha[:12])}") if state.git_sha else ""
        if state.git_sha and state.git_sha.endswith(DIRTY_SUFFIX):
            commit += " with uncommitted changes"
        facts.append(("Recorded state", Markup(escape.md(recorded)) + commit))
    else:
        facts.append(("Recorded state", "never applied"))
    return facts


_BLANKS = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, exactly one newline at the end."""
    lines = "\n".join(line.rstrip() for line in text.splitlines())
    return _BLANKS.sub("\n\n", lines).strip("\n") + "\n"
