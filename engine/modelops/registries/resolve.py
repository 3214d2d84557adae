"""The resolve stage of registry artifacts: read each registry reference of the environments being planned, and
pin every model to what it names (`modelops.core.registry`).

Side effects (the network) end here: the plan stage that follows is pure. A reference several environments share
(staging and production both on `champion`) is read once per run. What cannot be resolved is a located diagnostic
(MO140-MO144) and nothing is planned; MO231 warns when credentials would cross the network in the clear.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from modelops.base.diagnostics import Diagnostic, Severity, has_errors
from modelops.config.spec.release import Artifact
from modelops.core.model import DesiredState, ModelConfig, dump
from modelops.core.plan import Plan
from modelops.core.registry import Resolution, pin, pinned_desired, registry_models
from modelops.registries.base import Found, Part, Registry, RegistryError
from modelops.registries.mlflow import MlflowRegistry
from modelops.registries.registry import open_registry, registry_kind
from modelops.validate.findings import Findings
from modelops.validate.repo import ValidationResult

Opener = Callable[[Artifact, Path], Registry]


@dataclass(frozen=True)
class Resolved:
    """The desired state with registry artifacts pinned, what each resolved to (by environment), and what went
    wrong (errors stop the command; warnings are shown with the plan)."""

    desired: DesiredState
    resolutions: Mapping[str, tuple[Resolution, ...]] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def failed(self) -> bool:
        return has_errors(self.diagnostics)


def resolve_registries(desired: DesiredState, validation: ValidationResult, root: Path,
                       environments: Iterable[str], opener: Opener = open_registry) -> Resolved:
    """Resolve every registry artifact of `environments` (see the module docstring)."""
    findings = Findings(validation.sources)
    documents = {(d.environment, d.name): d for d in validation.documents if d.kind == "Model"}
    read: dict[tuple[str, str, str], Found | RegistryError] = {}
    warned: set[str] = set()
    pins: dict[str, dict[str, ModelConfig]] = {}
    resolutions: dict[str, tuple[Resolution, ...]] = {}
    for name in environments:
        env = desired.environments[name]
        found_here = []
        for model in registry_models(env):
            where = documents.get((name, model.name))
            outcome = _resolved(model, root, opener, read, warned, findings, where)
            if outcome is not None:
                found_here.append(outcome)
                pins.setdefault(name, {})[model.name] = pin(model, outcome)
        if found_here:
            resolutions[name] = tuple(found_here)
    return Resolved(pinned_desired(desired, pins), resolutions, tuple(findings.diagnostics))


def _resolved(model: ModelConfig, root: Path, opener: Opener, read: dict[tuple[str, str, str], Found | RegistryError],
              warned: set[str], findings: Findings, where: object) -> Resolution | None:
    artifact = model.spec.artifact
    ref = artifact.registry
    assert ref is not None
    try:
        registry = opener(artifact, root)
    except RegistryError as exc:
        _report(findings, where, model, exc)
        return None
    key = (registry.describe(), json.dumps(dump(artifact).get("auth"), sort_keys=True), str(ref))
    if key not in read:
        try:
            read[key] = registry.resolve(ref)
        except RegistryError as exc:
            read[key] = exc
        _plain_text_credentials(registry, model, findings, where, warned)
    outcome = read[key]
    if isinstance(outcome, RegistryError):
        _report(findings, where, model, outcome)
        return None
    if artifact.sha256 is not None and artifact.sha256 != outcome.digest:
        _report(findings, where, model, RegistryError(
            "MO144", f"the files of {ref.model} version {outcome.version} digest to sha256:{outcome.digest[:12]}, not "
                     f"the sha256:{artifact.sha256[:12]} artifact.sha256 pins", "files",
            hint=f"set artifact.sha256 to {outcome.digest} if this version is the one to serve; with an alias, "
                 "remove artifact.sha256 (an alias moves, a digest does not)"), ptr="/spec/artifact/sha256")
        return None
    return Resolution(model.name, registry_kind(artifact), ref.model, ref.wanted, outcome.version, outcome.source,
                      outcome.digest, outcome.files)


def _pointer(model: ModelConfig, part: Part) -> tuple[str, bool]:
    """Where in the model a problem of `part` shows: (JSON pointer, at the key)."""
    artifact = model.spec.artifact
    block = artifact.mlflow
    if part == "server":
        return ("/spec/artifact/trackingUri", False) if artifact.tracking_uri is not None else ("/spec/artifact", True)
    if part == "auth":
        return "/spec/artifact/auth", True
    if part == "files" or block is None:
        return ("/spec/artifact", True) if part == "files" else ("/spec/artifact/uri", False)
    if part == "model":
        return "/spec/artifact/mlflow/model", False
    return ("/spec/artifact/mlflow/alias" if block.alias is not None else "/spec/artifact/mlflow/version"), False


def _report(findings: Findings, where: object, model: ModelConfig, error: RegistryError, *, ptr: str | None = None,
            warning: bool = False) -> None:
    pointer, at_key = (ptr, False) if ptr is not None else _pointer(model, error.part)
    message = error.message
    severity = Severity.WARNING if warning else Severity.ERROR
    source = getattr(where, "source", None)
    if source is not None:
        findings.add(severity, error.code, message, source, pointer, at_key=at_key, hint=error.hint)
    else:  # a model whose document is not at hand (never the case for a loaded workspace): the file alone
        findings.diagnostics.append(Diagnostic(severity, error.code, message, model.file, 1, 1, pointer, error.hint))


def _plain_text_credentials(registry: Registry, model: ModelConfig, findings: Findings, where: object,
                            warned: set[str]) -> None:
    """MO231: credentials for a tracking server reached over plain http, elsewhere than this machine."""
    if not isinstance(registry, MlflowRegistry) or not registry.credentials.headers:
        return
    parts = urllib.parse.urlsplit(registry.url)
    if parts.scheme != "http" or _loopback(parts.hostname or "") or registry.url in warned:
        return
    warned.add(registry.url)
    _report(findings, where, model, RegistryError(
        "MO231", f"artifact.auth sends credentials to {registry.describe()} over plain http: anyone on the way can "
                 "read them", "auth", hint="serve the tracking server over https (and give auth.tls.ca if its "
                                           "certificate is your own)"), warning=True)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def unread(plan: Plan, written: DesiredState, planned: DesiredState) -> Plan:
    """A plan made without reading the registries (`plan --refresh=false`), with a note per registry model: the
    version it was planned at (the one its environment recorded), or that apply resolves it."""
    environments = []
    for env in plan.environments:
        notes = []
        for model in registry_models(written.environments[env.name]):
            taken = planned.environments[env.name].models[model.name]  # pinned by its record, if it has one
            at = f"planned at version {taken.version}, as last applied" if taken.revision != model.revision else (
                "apply resolves it")
            notes.append(f"{model.name}: the model registry was not read (--refresh=false): "
                         f"{model.spec.artifact.registry} {at}")
        environments.append(replace(env, notes=(*env.notes, *notes)) if notes else env)
    return replace(plan, environments=tuple(environments))


def attach(plan: Plan, resolutions: Mapping[str, tuple[Resolution, ...]],
           warnings: Sequence[Diagnostic] = ()) -> Plan:
    """The plan with what each environment's registry artifacts resolved to (saved with it, for apply) and, as
    notes, each resolution (`champion → 7`) and the resolve stage's warnings about the environment's models."""
    environments = []
    for env in plan.environments:
        found = resolutions.get(env.name, ())
        told = [f"warning[{d.code}] {d.file}:{d.line}:{d.column}: {d.message}" for d in warnings
                if (d.file or "").startswith(f"environments/{env.name}/")]
        if found or told:
            env = replace(env, resolved=found, notes=(*env.notes, *(f"resolved {r.describe()}" for r in found), *told))
        environments.append(env)
    return replace(plan, environments=tuple(environments))
