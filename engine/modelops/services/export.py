"""The export service behind `modelops export`: render, then print, write into `--out`, or check.

Without `--out` the files are returned for printing. With `--out DIR` they are written there (atomically,
never outside DIR). With `--check` nothing is written: the files in DIR, or for `kubernetes` without
`--out` the gitops driver's `environments/<env>/rendered/`, are compared with what would be generated now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from modelops.base.errors import UsageError
from modelops.export import alertmanager, prometheus
from modelops.export.files import ExportFile, WriteResult, stale_files, write_files
from modelops.export.kubernetes import render
from modelops.validate.findings import Findings
from modelops.validate.repo import ValidationResult
from modelops.workspace import InvalidConfig, Workspace


@dataclass(frozen=True)
class ExportRequest:
    kind: str
    environment: str
    out: Path | None = None
    flavor: str | None = None
    check: bool = False
    secrets_dir: str = alertmanager.SECRETS_DIR


@dataclass
class ExportResult:
    """What an export produced and did."""

    kind: str
    environment: str
    files: list[ExportFile]
    directory: Path | None = None
    written: WriteResult | None = None
    stale: list[str] = field(default_factory=list)
    checked: bool = False


def generate(ws: Workspace, request: ExportRequest) -> list[ExportFile]:
    env = ws.environment(request.environment)
    if request.kind == "prometheus":
        return prometheus.export(env)
    if request.kind == "alertmanager":
        try:
            return alertmanager.export(env, request.secrets_dir)
        except alertmanager.Inexpressible as exc:
            raise InvalidConfig(located(ws, exc.refusals)) from None
    return render.export(env, ws.state(env.name), request.flavor)


def located(ws: Workspace, refusals: Sequence[alertmanager.Refusal]) -> ValidationResult:
    """The refusals as diagnostics at the settings they are about (MO146), printed as validation prints them."""
    findings = Findings(ws.validation.sources)
    policies = {d.name: d for d in ws.validation.documents if d.kind == "EscalationPolicy"}
    for refusal in refusals:
        findings.error("MO146", refusal.message, policies[refusal.policy].source, refusal.at, at_key=True,
                       hint=refusal.hint)
    return replace(ws.validation, diagnostics=tuple(findings.diagnostics))


def run_export(root: Path, request: ExportRequest) -> ExportResult:
    if request.flavor is not None and request.kind != "kubernetes":
        raise UsageError("--flavor applies to `export kubernetes` only")
    ws = Workspace.load(root)
    env = ws.environment(request.environment)
    if request.check and request.out is None:
        return _check_rendered(ws, request)
    files = generate(ws, request)
    result = ExportResult(request.kind, env.name, files, request.out)
    if request.out is None:
        return result
    if request.check:
        result.stale = stale_files(request.out, files, request.kind, env.name)
        result.checked = True
    else:
        result.written = write_files(request.out, files, request.kind, env.name)
    return result


def _check_rendered(ws: Workspace, request: ExportRequest) -> ExportResult:
    from modelops.base.layout import rendered_dir
    from modelops.export import rendered

    env = ws.environment(request.environment)
    if request.kind != "kubernetes":
        raise UsageError(f"--check needs --out DIR for `export {request.kind}`: the directory to compare")
    if env.spec.target.driver != "gitops":
        raise UsageError(f"environment {env.name} does not use the gitops driver, so it has no rendered/ directory",
                         hint="pass --out DIR to check an export directory instead")
    if request.flavor is not None:
        raise UsageError("--flavor does not apply to the rendered/ check: it uses spec.target.gitops.flavor")
    directory = rendered_dir(ws.root, env.name)
    stale = rendered.staleness(ws.root, env, ws.state(env.name))
    return ExportResult(request.kind, env.name, [], directory, stale=stale, checked=True)
