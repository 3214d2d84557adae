"""Output of `modelops validate`."""

from __future__ import annotations

from modelops.base.console import Console
from modelops.cli import github
from modelops.cli.render import Renderer, uncoloured
from modelops.cli.views import diagnostics as views
from modelops.validate.repo import ValidationResult


def render_text(result: ValidationResult, console: Console) -> str:
    """Diagnostics with their source lines, then the headline."""
    shown = []
    if result.diagnostics:
        shown.append(views.render_text(result.diagnostics, result.sources.text, console))
        if github.in_actions():  # the log keeps the text; the pull request gets annotations on the lines
            shown.append(github.annotate(result.diagnostics, result.sources.root))
    return "\n".join([*shown, _headline(result, console)])


def render_json(result: ValidationResult) -> str:
    """Every diagnostic, with the counts of files and documents read."""
    return views.render_json(result.diagnostics, {"files": len(result.sources.files),
                                                  "documents": dict(sorted(result.counts.items()))})


def render_github(result: ValidationResult) -> str:
    """Workflow-command annotations, then the headline."""
    annotations = [github.annotate(result.diagnostics, result.sources.root)] if result.diagnostics else []
    return "\n".join([*annotations, _headline(result)])


def _headline(result: ValidationResult, console: Console | None = None) -> str:
    if not result.valid:
        return views.summary(result.diagnostics)
    counts = result.counts
    policies = sum(n for kind, n in counts.items() if kind not in ("Environment", "Model"))
    what = (f"{_n(counts['Environment'], 'environment')}, {_n(counts['Model'], 'model')}, "
            f"{_n(policies, 'policy', 'policies')} in {_n(len(result.sources.files), 'file')}")
    warnings = len(result.diagnostics)
    tail = f", with {_n(warnings, 'warning')}" if warnings else ""
    ok = "Success!" if console is None else console.style("Success!", "green", "bold")
    return f"{ok} The configuration is valid{tail}: {what}."


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


RENDERERS: dict[str, Renderer[ValidationResult]] = {
    "text": render_text, "json": uncoloured(render_json), "github": uncoloured(render_github),
}
