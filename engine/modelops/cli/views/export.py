"""Rendering `modelops export` results: the files themselves, what was written, or what is stale."""

from __future__ import annotations

from pathlib import Path

from modelops.base.console import Console
from modelops.services.export import ExportResult

_CHECKS = {
    "prometheus": "promtool check rules {rules} && promtool test rules {tests}",
    "alertmanager": "amtool check-config {config} && sh {routes}",
}


def _shown(directory: Path) -> str:
    try:
        return directory.relative_to(Path.cwd()).as_posix() or "."
    except ValueError:
        return str(directory)


def render(result: ExportResult, console: Console) -> None:
    if result.checked:
        _render_check(result, console)
    elif result.directory is None:
        for i, f in enumerate(result.files):
            console.print(("\n" if i else "") + console.style(f"==> {f.name} <==", "bold"))
            console.print(f.text.rstrip("\n"))
    else:
        _render_written(result, console)


def _render_written(result: ExportResult, console: Console) -> None:
    assert result.directory is not None and result.written is not None
    where = _shown(result.directory)
    console.print(f"Exported {result.kind} for {result.environment} to {where}/:")
    width = max(len(f.name) for f in result.files) if result.files else 0
    unchanged = set(result.written.unchanged)
    for f in result.files:
        state = "unchanged" if f.name in unchanged else "written"
        console.print(f"  {f.name:<{width}}  {state:<9}  {f.summary}")
    for name in result.written.removed:
        console.print(f"  {name:<{width}}  removed    no longer generated")
    names = {f.name: f"{where}/{f.name}" for f in result.files}
    if result.kind == "prometheus" and len(result.files) == 2:
        console.print("Check with: " + _CHECKS["prometheus"].format(rules=names[result.files[0].name],
                                                                     tests=names[result.files[1].name]))
    elif result.kind == "alertmanager" and len(result.files) == 2:
        console.print("Check with: " + _CHECKS["alertmanager"].format(config=names[result.files[0].name],
                                                                       routes=names[result.files[1].name]))


def _render_check(result: ExportResult, console: Console) -> None:
    assert result.directory is not None
    where = _shown(result.directory)
    if not result.stale:
        console.print(f"{where}/ is up to date ({result.kind}, {result.environment}).")
        return
    console.print(f"{where}/ is stale ({result.kind}, {result.environment}):", err=True)
    for name in result.stale:
        console.print(f"  {name}", err=True)
    console.print("Regenerate it with `modelops export` (or `modelops apply` for a gitops rendered/ directory).",
                  err=True)
