"""Registry artifacts, resolved: what a model registry said an alias or version was, and the model that pins it.

A model whose artifact is a registry reference (`mlflow: {model, alias}`, `models:/iris@champion`) is planned from
its resolution: the version the reference named when `plan` read the registry, that version's source and a
digest of its files (`modelops.registries` reads them). Pinned, the model's artifact is `models:/<name>/<version>`
with that digest as `sha256`, and its version (when the YAML leaves it out) is the registry's: so an alias that
moves changes the model's revision, and plans an upgrade (or a rollback) like any edit of the YAML would.

Commands that do not read the registry (status, report, export, monitor, a rollback) pin each such model to what
its environment recorded at the last apply (`pin_recorded`), so that they describe what was deployed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from modelops.config.scalars import ScalarError
from modelops.config.scalars.registry import ModelRef, parse_models_uri
from modelops.config.spec.model import ModelSpec
from modelops.core.model import DesiredState, EnvironmentConfig, ModelConfig, dump, model_digests, with_models
from modelops.state.format import EnvironmentState, ModelState

#: The artifact fields a resolution replaces: the reference becomes a pinned URI with its digest.
_REFERENCE_FIELDS = ("uri", "mlflow", "sha256")


@dataclass(frozen=True)
class Resolution:
    """What a registry reference named when the plan was made: `wanted` (an alias or a version) is `version`,
    read from `source`, whose `files` files digest to `digest` (SHA-256, hex)."""

    model: str  # the modelops model
    registry: str  # "mlflow"
    name: str  # the registered model
    wanted: str  # the alias ("champion") or the version ("7") the configuration names
    version: str
    source: str
    digest: str
    files: int

    @property
    def pinned(self) -> str:
        """The URI of exactly this version: `models:/iris/7`."""
        return f"models:/{self.name}/{self.version}"

    @property
    def by_alias(self) -> bool:
        return self.wanted != self.version

    def describe(self) -> str:
        """`iris: models:/iris@champion → 7 (sha256:4f2a…, 5 files of models:/m-…)`, as the plan shows it."""
        wanted = f"models:/{self.name}@{self.wanted} → {self.version}" if self.by_alias else self.pinned
        plural = "s" if self.files != 1 else ""
        return (f"{self.model}: {self.registry} {wanted} (sha256:{self.digest[:12]}, {self.files} file{plural} of "
                f"{self.source})")

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "registry": self.registry, "name": self.name, "wanted": self.wanted,
                "version": self.version, "source": self.source, "sha256": self.digest, "files": self.files}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Resolution:
        return cls(str(data["model"]), str(data["registry"]), str(data["name"]), str(data["wanted"]),
                   str(data["version"]), str(data["source"]), str(data["sha256"]), int(data["files"]))


def registry_models(env: EnvironmentConfig) -> list[ModelConfig]:
    """The models of an environment whose artifact is a registry reference, by name."""
    return [m for m in env.models.values() if m.spec.artifact.registry is not None]


def pin(model: ModelConfig, resolution: Resolution) -> ModelConfig:
    """The model with its registry reference replaced by the version it resolved to (see the module docstring)."""
    body = dump(model.spec)
    kept = {k: v for k, v in body["artifact"].items() if k not in _REFERENCE_FIELDS}
    body["artifact"] = {**kept, "uri": resolution.pinned, "sha256": resolution.digest}
    body.setdefault("version", resolution.version)
    spec = ModelSpec.model_validate(body)
    revision, config = model_digests(spec, model.labels)
    return replace(model, spec=spec, revision=revision, config=config)


def pinned_desired(desired: DesiredState, pins: Mapping[str, Mapping[str, ModelConfig]]) -> DesiredState:
    """The desired state with the pinned models (by environment, then model) in place of their references."""
    return DesiredState({name: with_models(env, pins[name]) if pins.get(name) else env
                         for name, env in desired.environments.items()})


def pin_recorded(desired: DesiredState, states: Mapping[str, EnvironmentState]) -> DesiredState:
    """Each registry model pinned to the version its environment recorded for the same reference (a rollout in
    flight: the version it rolls out); a model with no such record keeps its reference."""
    pins: dict[str, dict[str, ModelConfig]] = {}
    for name, env in desired.environments.items():
        models = registry_models(env)
        if not models:
            continue
        recorded = states[name].models
        for model in models:
            found = recorded_resolution(model, recorded.get(model.name))
            if found is not None:
                pins.setdefault(name, {})[model.name] = pin(model, found)
    return pinned_desired(desired, pins)


def recorded_resolution(model: ModelConfig, state: ModelState | None) -> Resolution | None:
    """The resolution a model's record holds for its reference: the registry model, tracking server and auth the
    same, and the version the one wanted (for a pinned version); None when the record holds none."""
    ref = model.spec.artifact.registry
    spec = (state.rollout.spec if state.rollout is not None else state.spec) if state is not None else None
    if ref is None or not spec or not isinstance(spec.get("artifact"), dict):
        return None
    artifact: dict[str, Any] = spec["artifact"]
    held = _held(artifact)
    configured = dump(model.spec)["artifact"]
    same = all(artifact.get(key) == configured.get(key) for key in ("trackingUri", "auth"))
    if held is None or held.model != ref.model or not same or not artifact.get("sha256"):
        return None
    if ref.version is not None and held.version != ref.version:
        return None
    return Resolution(model.name, "mlflow", ref.model, ref.wanted, str(held.version), "(recorded)",
                      str(artifact["sha256"]), 0)


def _held(artifact: Mapping[str, Any]) -> ModelRef | None:
    try:
        held = parse_models_uri(str(artifact.get("uri", "")))
    except ScalarError:
        return None
    return held if held.version is not None else None


def moved(saved: Mapping[str, tuple[Resolution, ...]], fresh: Mapping[str, tuple[Resolution, ...]]) -> list[str]:
    """How the registry moved between a saved plan's resolutions and the ones read now (by environment): an alias
    that points elsewhere, a version whose files changed, a reference the plan did not resolve."""
    found = []
    for environment, now in sorted(fresh.items()):
        then = {r.model: r for r in saved.get(environment, ())}
        for current in now:
            before = then.get(current.model)
            what = f"{environment}/{current.model} ({current.registry} models:/{current.name}"
            what += f"@{current.wanted})" if current.by_alias else f"/{current.version})"
            if before is None:
                found.append(f"{what} was not resolved by the plan")
            elif before.version != current.version:
                found.append(f"{what} moved from version {before.version} to {current.version}")
            elif before.digest != current.digest:
                found.append(f"{what}: the files of version {current.version} changed (sha256:{before.digest[:12]} "
                             f"-> sha256:{current.digest[:12]})")
    return found
