"""Resolve stage: valid documents to the desired state, per environment, with canonical digests.

Digests are SHA-256 over canonical JSON of the parsed models (sorted keys, normalised scalars), so an
edit that only touches whitespace, comments, quoting or key order changes no digest and plans nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from modelops.config.documents import NO_MEMO, Document, DocumentMemo
from modelops.config.scalars.secretref import SecretRef, refs_in
from modelops.config.spec.environment import EnvironmentSpec
from modelops.config.spec.model import ModelSpec
from modelops.config.spec.policies import AlertRule

POLICY_REFS = {"scaling": "ScalingPolicy", "alerts": "AlertPolicy", "escalation": "EscalationPolicy"}
#: The fields of a model that a rollout replaces; everything else can change in place.
REVISION_FIELDS = ("version", "artifact", "serving")
#: The fields of a model that tell modelops, not the target: read when apply runs, they change nothing to plan.
UNPLANNED_FIELDS = ("notifications", "versionScheme")


def digest(value: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of a value."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def dump(spec: Any) -> dict[str, Any]:
    """The canonical JSON form of a spec model (YAML key names, normalised scalars)."""
    dumped: dict[str, Any] = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


@dataclass(frozen=True)
class ModelConfig:
    """One model as desired in one environment."""

    name: str
    environment: str
    spec: ModelSpec
    labels: Mapping[str, str]
    file: str
    revision: str  # digest of what a rollout replaces: version, artifact, serving template
    config: str  # digest of everything else that can change without a rollout
    previous_names: tuple[str, ...] = ()  # names it had before (metadata.previousNames)

    @property
    def version(self) -> str:
        """The version to serve. A registry model that leaves it out serves the registry's version: until `plan`
        resolves it (modelops.core.registry), the reference stands in, `7` or `@champion`."""
        if self.spec.version is not None:
            return self.spec.version
        ref = self.spec.artifact.registry
        assert ref is not None  # validation requires a version of every other model
        return str(ref.version) if ref.version is not None else f"@{ref.alias}"

    @property
    def strategy(self) -> str:
        return self.spec.strategy.name if self.spec.strategy is not None else "recreate"

    def policy_refs(self) -> list[str]:
        """`Kind/name` of every policy this model references."""
        refs = [f"ScalingPolicy/{self.spec.scaling}"] if self.spec.scaling else []
        refs += [f"AlertPolicy/{name}" for name in self.spec.alerts]
        refs += [f"EscalationPolicy/{self.spec.escalation}"] if self.spec.escalation else []
        return refs


@dataclass(frozen=True)
class PolicyConfig:
    kind: str
    name: str
    spec: Any
    file: str
    digest: str

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class EnvironmentConfig:
    """An environment's desired state: its settings, its models, and the policies they use."""

    name: str
    spec: EnvironmentSpec
    file: str
    models: Mapping[str, ModelConfig]
    policies: Mapping[str, PolicyConfig]
    digest: str
    #: EscalationPolicies that rollout notifications name (`spec.notifications`), by `Kind/name`, used by models or not
    notified: Mapping[str, PolicyConfig] = field(default_factory=dict)

    def alert_rules(self, model: ModelConfig) -> list[tuple[str, AlertRule]]:
        """Every alert rule of a model as (policy name, rule), in the order the model lists its policies.
        Validation guarantees the rule names are distinct across them."""
        found: list[tuple[str, AlertRule]] = []
        for name in model.spec.alerts:
            policy = self.policies.get(f"AlertPolicy/{name}")
            if policy is not None:
                found += [(name, rule) for rule in policy.spec.rules]
        return found

    @functools.cached_property
    def secret_refs(self) -> frozenset[SecretRef]:
        """Every `${env:NAME}` the environment, its models and its policies refer to (walked once: every test
        command of an apply masks them, and the walk is as long as the environment)."""
        return frozenset(
            refs_in([self.spec, *(m.spec for m in self.models.values()), *(p.spec for p in self.policies.values())])
        )

    def users_of(self, policy_key: str) -> list[str]:
        return sorted(m.name for m in self.models.values() if policy_key in m.policy_refs())


@dataclass(frozen=True)
class DesiredState:
    """Every environment, in promotion order (upstream first, then by name)."""

    environments: Mapping[str, EnvironmentConfig] = field(default_factory=dict)

    @property
    def order(self) -> list[str]:
        return list(self.environments)


def resolve(documents: Iterable[Document], memo: DocumentMemo = NO_MEMO) -> DesiredState:
    """Desired state per environment. `memo` remembers each model's digests by the document's content."""
    docs = list(documents)
    policies = {f"{d.kind}/{d.name}": _policy(d) for d in docs if d.kind in POLICY_REFS.values()}
    models: dict[str, dict[str, ModelConfig]] = {}
    for doc in docs:
        if doc.kind == "Model" and doc.environment is not None:
            models.setdefault(doc.environment, {})[doc.name] = _model(doc, memo)
    envs = {d.name: _environment(d, models.get(d.name, {}), policies) for d in docs if d.kind == "Environment"}
    return DesiredState({name: envs[name] for name in promotion_order(envs)})


def promotion_order(envs: Mapping[str, EnvironmentConfig]) -> list[str]:
    """Upstream environments before the ones that promote from them; ties by name."""
    depth: dict[str, int] = {}

    def level(name: str, seen: tuple[str, ...] = ()) -> int:
        upstream = envs[name].spec.promotes_from
        if upstream is None or upstream not in envs or upstream in seen:
            return 0
        return 1 + level(upstream, (*seen, name))

    for name in envs:
        depth[name] = level(name)
    return sorted(envs, key=lambda n: (depth[n], n))


def _policy(doc: Document) -> PolicyConfig:
    return PolicyConfig(doc.kind, doc.name, doc.spec, doc.source.file, digest(dump(doc.spec)))


def _model(doc: Document, memo: DocumentMemo) -> ModelConfig:
    revision, config = memo(doc, "digests", lambda: model_digests(doc.spec, doc.labels))
    return ModelConfig(doc.name, doc.environment or "", doc.spec, doc.labels, doc.source.file, revision, config,
                       doc.previous_names)


def model_config(name: str, environment: str, spec: ModelSpec, labels: Mapping[str, str], file: str) -> ModelConfig:
    return ModelConfig(name, environment, spec, labels, file, *model_digests(spec, labels))


def model_digests(spec: ModelSpec, labels: Mapping[str, str]) -> tuple[str, str]:
    """Digests split what a rollout replaces (the revision) from what can change in place (the config)."""
    body = dump(spec)
    kept = {k: v for k, v in body.items() if k not in REVISION_FIELDS and k not in UNPLANNED_FIELDS}
    return digest(revision_part(body)), digest({"spec": kept,
                                                "replicas": body["serving"].get("replicas"), "labels": dict(labels)})


def revision_part(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a canonical model spec that a rollout replaces (replica count excluded: scaling)."""
    serving = {k: v for k, v in body["serving"].items() if k != "replicas"}
    return {"version": body.get("version"), "artifact": body["artifact"], "serving": serving}


def with_revision(model: ModelConfig, release: Mapping[str, Any]) -> ModelConfig:
    """The same model, serving the revision of another release (rollback, promotion)."""
    body = dump(model.spec)
    replicas = body["serving"].get("replicas")
    merged = {**body, **{k: release[k] for k in REVISION_FIELDS}}
    merged["serving"] = {**release["serving"], **({"replicas": replicas} if replicas is not None else {})}
    spec = ModelSpec.model_validate(merged)
    return model_config(model.name, model.environment, spec, model.labels, model.file)


def _environment(doc: Document, models: Mapping[str, ModelConfig],
                 policies: Mapping[str, PolicyConfig]) -> EnvironmentConfig:
    used = sorted({ref for m in models.values() for ref in m.policy_refs() if ref in policies})
    env_policies = {ref: policies[ref] for ref in used}
    whole = environment_digest(doc.spec, models, env_policies)
    return EnvironmentConfig(doc.name, doc.spec, doc.source.file, dict(sorted(models.items())), env_policies, whole,
                             _notified(doc.spec, models, policies))


def environment_digest(spec: EnvironmentSpec, models: Mapping[str, ModelConfig],
                       policies: Mapping[str, PolicyConfig]) -> str:
    """The digest of an environment's whole desired state: its settings, its models, the policies they use."""
    return digest({
        "environment": dump(spec),
        "models": {name: [m.revision, m.config] for name, m in sorted(models.items())},
        "policies": {ref: p.digest for ref, p in policies.items()},
    })


def with_models(env: EnvironmentConfig, models: Mapping[str, ModelConfig]) -> EnvironmentConfig:
    """The environment with these models in place of its own of the same name (registry artifacts resolved), its
    digest computed again."""
    merged = dict(sorted({**env.models, **models}.items()))
    return replace(env, models=merged, digest=environment_digest(env.spec, merged, env.policies))


def _notified(spec: EnvironmentSpec, models: Mapping[str, ModelConfig],
              policies: Mapping[str, PolicyConfig]) -> dict[str, PolicyConfig]:
    """The EscalationPolicies rollout notifications name as `<policy>/<channel>`."""
    named = {s.policy for s in spec.notifications or () if s.policy}
    named |= {s.policy for m in models.values() for s in m.spec.notifications or () if s.policy}
    keys = (f"EscalationPolicy/{name}" for name in sorted(named))
    return {key: policies[key] for key in keys if key in policies}
