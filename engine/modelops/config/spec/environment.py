"""`kind: Environment`: where models run, how changes reach it, and what guards it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, PlainValidator, WithJsonSchema

from modelops.config.catalog import MetricName
from modelops.config.scalars import ScalarError
from modelops.config.scalars.duration import Duration
from modelops.config.scalars.secretref import SecretRef, parse_secret_ref
from modelops.config.spec.types import (
    HTTP_URL_PATTERN,
    URL_TEMPLATE_PATTERN,
    DurationField,
    Int,
    Name,
    SecretField,
    Spec,
    Timestamp,
    _checked,
    described,
)


def parse_url_or_secret(value: Any) -> str | SecretRef:
    """A plain http(s) URL, or a secret reference when the URL itself is a credential."""
    if isinstance(value, str) and value.startswith("$"):
        return parse_secret_ref(value)
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ScalarError('expected an http(s) URL or a secret reference such as "${env:PROMETHEUS_URL}"')
    if "@" in value.split("/", 3)[2]:
        raise ScalarError('URL embeds credentials: move it to a secret reference such as "${env:PROMETHEUS_URL}"')
    return value


UrlOrSecret = Annotated[
    str | SecretRef,
    PlainValidator(_checked("secret", parse_url_or_secret)),
    PlainSerializer(str, return_type=str),  # a reference serialises as its text, never as a resolved value
    WithJsonSchema({"anyOf": [{"type": "string", "format": "secret-ref"}, {"type": "string", "format": "uri",
                                                                         "pattern": HTTP_URL_PATTERN}]}),
]


class Endpoints(Spec):
    """URL templates of a model's slots; tests and health checks call them."""

    preview: str | None = described(
        "URL of the slot that receives the new version before it takes traffic. Placeholders: $model, $env, "
        "$slot, $version.", pattern=URL_TEMPLATE_PATTERN, examples=["http://127.0.0.1:8790/$model/$slot"])
    active: str | None = described(
        "URL of the slot that serves users. Same placeholders as preview.", pattern=URL_TEMPLATE_PATTERN)


class WebhookTarget(Spec):
    """Settings of the webhook driver: each step is POSTed to the platform's deployment API."""

    url: SecretField = described("Deployment API endpoint; a secret reference because it usually embeds a token.")
    timeout: DurationField = described("Timeout of one HTTP request.", default=Duration(10_000))
    poll_interval: DurationField = described("How often to poll a step's status.", default=Duration(2_000))
    step_timeout: DurationField = described("How long a step may stay pending before it fails.",
                                            default=Duration(600_000))
    max_retries: Int = described("Retries (with exponential backoff) on 429, 5xx and timeouts.", default=5, ge=0, le=20)


class GitopsTarget(Spec):
    """Settings of the gitops driver: manifests rendered into environments/<env>/rendered/."""

    flavor: Literal["plain", "argo-rollouts", "kserve"] = described(
        "Which Kubernetes objects to render: plain Deployments, an Argo Rollout, or a KServe InferenceService.",
        default="plain")
    namespace: Name | None = described("Namespace of the rendered objects (default: the environment's name).",
                                       default=None)
    autoscaler: Literal["hpa", "keda"] | None = described(
        "Autoscaler to render; default: KEDA when a policy scales on a Prometheus metric, else HPA.", default=None)


class Target(Spec):
    """Where apply executes: the embedded local target, a webhook, or GitOps manifests."""

    driver: Literal["local", "webhook", "gitops"] = described("The driver that executes plan steps.", default="local")
    endpoints: Endpoints | None = described("Where a model's slots answer, for tests and health checks.", default=None)
    webhook: WebhookTarget | None = described("Webhook driver settings (required when driver is webhook).",
                                              default=None)
    gitops: GitopsTarget | None = described("Gitops driver settings.", default=None)


class FreezeWindow(Spec):
    """A period in which apply refuses to change the environment."""

    from_: Timestamp = Field(alias="from", description="Start of the freeze (RFC 3339, with a time zone).")
    to: Timestamp = described("End of the freeze (RFC 3339, with a time zone).")
    reason: str = described("Why changes are frozen; shown in plans.", default="change freeze", min_length=1)


class MetricsSource(Spec):
    """Where monitoring, analysis and capacity planning read metrics."""

    source: Literal["file", "prometheus"] = described("The metric source driver.")
    path: str | None = described("File source: a JSON or CSV file, relative to the repository root.", default=None)
    url: UrlOrSecret | None = described("Prometheus source: base URL of the HTTP API.", default=None)
    timeout: DurationField = described("Timeout of one query.", default=Duration(10_000))
    queries: dict[MetricName, str] = described(
        "PromQL overrides per catalogue metric. Placeholders: $model, $env, $window.", default_factory=dict)


class Pricing(Spec):
    """Unit prices used for cost per request and capacity projections."""

    gpu_hour: float = described("Price of one GPU for one hour.", default=0.0, ge=0)
    cpu_hour: float = described("Price of one CPU core for one hour.", default=0.0, ge=0)
    gb_hour: float = described("Price of one GiB of memory for one hour.", default=0.0, ge=0)
    currency: str = described("ISO 4217 currency code of the prices.", default="USD", pattern=r"^[A-Z]{3}$")


class EnvironmentSpec(Spec):
    """An environment's target, promotion rule, approvals, freezes, metrics and prices."""

    target: Target = described("Where apply executes.", default_factory=Target)
    promotes_from: Name | None = described(
        "Upstream environment: a version must be Healthy there before it may be applied here.", default=None)
    approval: Literal["required", "none"] = described(
        "required: apply asks for confirmation (or --auto-approve).", default="none")
    freeze: list[FreezeWindow] = described("Windows in which apply refuses changes.", default_factory=list)
    retire: list[Name] | None = described(
        "Models retired here on purpose: in an environment with approval required, retiring a model needs its name "
        "here (reviewed in Git) or `apply --allow-retire`.", default=None)
    metrics: MetricsSource | None = described("Metric source for monitoring and analysis.", default=None)
    pricing: Pricing | None = described("Unit prices for cost figures.", default=None)
