"""The documents of the configuration language: their envelope (apiVersion, kind, metadata), one type per kind, and
the list of kinds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from modelops.config.spec.environment import EnvironmentSpec
from modelops.config.spec.model import ModelSpec
from modelops.config.spec.policies import AlertPolicySpec, EscalationPolicySpec, GuardrailSpec, ScalingPolicySpec
from modelops.config.spec.types import LABEL_KEY_PATTERN, Name, Spec, described

API_VERSION = "modelops.dev/v1"


class Metadata(Spec):
    """Identity of a document."""

    name: Name = described("DNS-1123 label, unique per kind (and per environment for models).")
    labels: dict[Annotated[str, Field(pattern=LABEL_KEY_PATTERN)], str] = described(
        "Labels, used by guardrails and routes (team, tier, ...).", default_factory=dict)
    annotations: dict[str, str] = described("Free-form notes; not used by the engine.", default_factory=dict)
    previous_names: list[Name] = described(
        "Models only: names this model had before. A model recorded under one of them moves to this name (its "
        "state, history and serving slots), with no redeploy, as Terraform's `moved` block does.",
        default_factory=list)


class _Document(Spec):
    api_version: Literal["modelops.dev/v1"] = described("Version of the configuration language.")
    metadata: Metadata = described("Name and labels.")


class EnvironmentDocument(_Document):
    """An environment: environments/<name>/environment.yaml."""

    kind: Literal["Environment"] = described("Document kind.")
    spec: EnvironmentSpec = described("The environment's settings.")


class ModelDocument(_Document):
    """A model served in one environment: environments/<env>/models/*.yaml."""

    kind: Literal["Model"] = described("Document kind.")
    spec: ModelSpec = described("The model's desired state.")


class AlertPolicyDocument(_Document):
    """Alert rules shared by models: policies/alerts/*.yaml."""

    kind: Literal["AlertPolicy"] = described("Document kind.")
    spec: AlertPolicySpec = described("The alert rules.")


class EscalationPolicyDocument(_Document):
    """Notification channels and routing: policies/escalation/*.yaml."""

    kind: Literal["EscalationPolicy"] = described("Document kind.")
    spec: EscalationPolicySpec = described("Channels, routes, grouping and escalation.")


class ScalingPolicyDocument(_Document):
    """Replica bounds and autoscaling: policies/scaling/*.yaml."""

    kind: Literal["ScalingPolicy"] = described("Document kind.")
    spec: ScalingPolicySpec = described("Bounds, targets, behaviour, schedules.")


class GuardrailDocument(_Document):
    """Policy as data: policies/guardrails/*.yaml."""

    kind: Literal["Guardrail"] = described("Document kind.")
    spec: GuardrailSpec = described("Selection, severity and the required JSON Schema.")


DOCUMENTS: dict[str, type[_Document]] = {
    "Environment": EnvironmentDocument,
    "Model": ModelDocument,
    "AlertPolicy": AlertPolicyDocument,
    "EscalationPolicy": EscalationPolicyDocument,
    "ScalingPolicy": ScalingPolicyDocument,
    "Guardrail": GuardrailDocument,
}
KINDS = tuple(DOCUMENTS)
POLICY_KINDS = ("AlertPolicy", "EscalationPolicy", "ScalingPolicy", "Guardrail")


def schema_file_name(kind: str) -> str:
    """`EscalationPolicy` -> `escalationpolicy.schema.json`."""
    return f"{kind.lower()}.schema.json"

