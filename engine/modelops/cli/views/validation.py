"""Output of `modelops validate`."""

from __future__ import annotations

from modelops.base.console import Console
from modelops.cli import github
from modelops.cli.views import diagnostics as views
from modelops.validate.repo import ValidationResult


def render(result: ValidationResult, fmt: str, console: Console) -> None:
    if fmt == "json":
        console.print(views.render_json(result.diagnostics, {"files": len(result.sources.files),
                                                             "documents": dict(sorted(result.counts.items()))}))
        return
    if fmt == "github":
        if result.diagnostics:
            console.print(github.annotate(result.diagnostics, result.sources.root))
        console.print(_headline(result))
        return
    if result.diagnostics:
        console.print(views.render_text(result.diagnostics, result.sources.text, console))
        if github.in_actions():  # the log keeps the text; the pull request gets annotations on the lines
            console.print(github.annotate(result.diagnostics, result.sources.root))
    console.print(_headline(result, console))


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
