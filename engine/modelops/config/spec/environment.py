"""`kind: Environment`: where models run, how changes reach it, and what guards it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from modelops.config.catalog import MetricName
from modelops.config.scalars.duration import Duration
from modelops.config.spec.http import HttpAuth, UrlOrSecret
from modelops.config.spec.notifications import Subscription
from modelops.config.spec.types import (
    URL_TEMPLATE_PATTERN,
    CronField,
    DurationField,
    Int,
    Name,
    Spec,
    Timestamp,
    TimeZone,
    described,
)

#: An origin as allowedOrigins lists it: scheme, host and an optional port, nothing after.
ORIGIN_PATTERN = r"^https?://[^\s/?#@]+$"


class Endpoints(Spec):
    """URL templates of a model's slots; tests and health checks call them."""

    preview: str | None = described(
        "URL of the slot that receives the new version before it takes traffic. Placeholders: $model, $env, "
        "$slot, $version.", pattern=URL_TEMPLATE_PATTERN, examples=["http://127.0.0.1:8790/$model/$slot"])
    active: str | None = described(
        "URL of what serves users (the active slot), which a model's verifyTraffic probes after a switch. Same "
        "placeholders as preview.", pattern=URL_TEMPLATE_PATTERN)


class WebhookTarget(Spec):
    """Settings of the webhook driver: each step is POSTed to the platform's deployment API."""

    url: UrlOrSecret = described(
        "Deployment API endpoint: an http(s) URL, or a secret reference when the URL itself holds a token. Never "
        "with user:password@ in it: credentials go in auth.")
    timeout: DurationField = described("Time limit of one HTTP request, its whole answer included.",
                                       default=Duration(10_000))
    poll_interval: DurationField = described("How often to poll a step's status.", default=Duration(2_000))
    step_timeout: DurationField = described(
        "Time limit of one step in all: its attempts, the waits between them and the polls of a pending answer.",
        default=Duration(600_000))
    max_retries: Int = described("Retries (with exponential backoff) on 429, 5xx, timeouts and malformed answers.",
                                 default=5, ge=0, le=20)
    auth: HttpAuth | None = described("How modelops authenticates to the platform (sent to its origin only).",
                                      default=None)
    allowed_origins: list[Annotated[str, Field(pattern=ORIGIN_PATTERN)]] = described(
        "Other origins (scheme://host:port) the platform may send modelops to: status URLs to poll and redirects to "
        "follow. By default only the origin of url; auth is never sent to another.", default_factory=list)


class ArgoApplication(Spec):
    """The Argo CD Application that syncs environments/<env>/rendered/ into the cluster."""

    name: Name = described("Name of the Application.")
    namespace: Name = described("Namespace of the Application (where Argo CD runs).", default="argocd")


class GitopsCluster(Spec):
    """The cluster that Argo CD or Flux syncs rendered/ into. modelops only reads it (status --live, the refresh,
    apply --wait and modelops wait), through the Kubernetes API (the optional `kubernetes` extra)."""

    kubeconfig: str | None = described(
        "Kubeconfig file, relative to the repository root or starting with ~ (default: $KUBECONFIG, "
        "~/.kube/config, or the pod's service account when modelops runs in the cluster).", default=None,
        min_length=1)
    context: str | None = described("Kubeconfig context (default: the file's current context).", default=None,
                                    min_length=1)
    application: ArgoApplication | None = described(
        "The Argo CD Application syncing rendered/: waits first for it to be synced to the commit.", default=None)
    service_url: str = described(
        "URL of a rendered Service as modelops reaches it, for its tests against the synced objects (the preview "
        "Service of a blue-green Rollout, the canary Service). Placeholders: $service, $namespace, $model, $env. "
        "The default works where modelops runs inside the cluster.",
        default="http://$service.$namespace.svc.cluster.local", pattern=URL_TEMPLATE_PATTERN,
        examples=["https://$service.$namespace.models.example.com"])
    timeout: DurationField = described(
        "How long a model may take to reach the committed revision (Healthy) before a wait gives up on it.",
        default=Duration(900_000))
    poll_interval: DurationField = described("How often a wait reads the cluster.", default=Duration(5_000))


class GitopsTarget(Spec):
    """Settings of the gitops driver: manifests rendered into environments/<env>/rendered/."""

    flavor: Literal["plain", "argo-rollouts", "kserve"] = described(
        "Which Kubernetes objects to render: plain Deployments, an Argo Rollout, or a KServe InferenceService.",
        default="plain")
    namespace: Name | None = described("Namespace of the rendered objects (default: the environment's name).",
                                       default=None)
    autoscaler: Literal["hpa", "keda"] | None = described(
        "Autoscaler to render; default: KEDA when a policy scales on a Prometheus metric, else HPA.", default=None)
    cluster: GitopsCluster | None = described(
        "The cluster Argo CD or Flux syncs into, read by status --live, the refresh and apply --wait.", default=None)


class LocalTraffic(Spec):
    """Synthetic requests the local target sends through a model's router after each traffic change, so that
    analysis and alert checks measure real requests (bounded in rate and duration)."""

    rate: float = described("Requests per second, spread over the models that declare serving.local.requests.",
                            default=20.0, gt=0, le=200)
    duration: DurationField = described("How long the requests go on after a traffic change (at most 10m).",
                                        default=Duration(60_000))


class LocalTarget(Spec):
    """Settings of the embedded local target: real model-server processes per slot behind a real router, or the
    simulated table (docs/local-runtime.md)."""

    runtime: Literal["mlserver", "command", "simulated"] = described(
        "mlserver: each slot is an MLServer process serving the model's file:// artifact (Open Inference Protocol "
        "V2); command: each model names its own start command (spec.serving.local.command); simulated: a table "
        "of records, no process (labelled simulated in plan, status and report).", default="simulated")
    start_timeout: DurationField = described("How long a slot may take to answer ready before its start fails.",
                                             default=Duration(60_000))
    traffic: LocalTraffic | None = described(
        "Synthetic traffic through the router after each traffic change (for models that declare "
        "spec.serving.local.requests); omit for none.", default=None)

    @property
    def real(self) -> bool:
        return self.runtime != "simulated"


class Target(Spec):
    """Where apply executes: the embedded local target, a webhook, or GitOps manifests."""

    driver: Literal["local", "webhook", "gitops"] = described("The driver that executes plan steps.", default="local")
    endpoints: Endpoints | None = described("Where a model's slots answer, for tests and health checks.", default=None)
    webhook: WebhookTarget | None = described("Webhook driver settings (required when driver is webhook).",
                                              default=None)
    gitops: GitopsTarget | None = described("Gitops driver settings.", default=None)
    local: LocalTarget | None = described("Local target settings: the runtime that serves each slot.", default=None)

    @property
    def runtime(self) -> str | None:
        """The local target's runtime (`simulated` unless set), None for the other drivers: what plan, status and
        the report show beside the driver."""
        if self.driver != "local":
            return None
        return self.local.runtime if self.local is not None else "simulated"


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
    timeout: DurationField = described("Time limit of one query, its whole answer included.",
                                       default=Duration(10_000))
    auth: HttpAuth | None = described(
        "Prometheus source: how modelops authenticates to it (a managed Prometheus, Mimir, Thanos or a proxy).",
        default=None)
    queries: dict[MetricName, str] = described(
        "PromQL overrides per catalogue metric. Placeholders: $model, $env, $window.", default_factory=dict)


METRIC_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
MetricKey = Annotated[str, Field(pattern=METRIC_KEY_PATTERN)]


class BusinessMetric(Spec):
    """A business metric (user satisfaction, feature usage, conversions): collected with the catalogue by
    `modelops monitor`, and usable by name in alert rules (`metric: <name>`)."""

    model_config = Spec.model_config | {"json_schema_extra": {"anyOf": [{"required": ["query"]},
                                                                        {"required": ["column"]}]}}

    unit: str = described("Unit of its values, shown with them: score, percent, ratio, clicks/s, USD, seconds.",
                          min_length=1, max_length=40)
    direction: Literal["higher-is-better", "lower-is-better"] = described(
        "Which way is good: a trend is reported as better or worse by it.")
    query: str | None = described(
        "Prometheus source: the PromQL that gives one series per model. Placeholders: $model, $env, $window, "
        "$version.", default=None, min_length=1)
    column: str | None = described(
        "File source: the metric name the file records it under (JSON key or CSV `metric` value); default: the "
        "business metric's own name.", default=None, min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    description: str | None = described("What it measures, for people.", default=None)


class Pricing(Spec):
    """Unit prices used for cost per request and capacity projections."""

    gpu_hour: float = described("Price of one GPU for one hour.", default=0.0, ge=0)
    cpu_hour: float = described("Price of one CPU core for one hour.", default=0.0, ge=0)
    gb_hour: float = described("Price of one GiB of memory for one hour.", default=0.0, ge=0)
    currency: str = described("ISO 4217 currency code of the prices.", default="USD", pattern=r"^[A-Z]{3}$")


class MaintenanceWindow(Spec):
    """A recurring window in which housekeeping runs (like an Argo CD sync window): it opens at each time `cron`
    selects and stays open for `duration`."""

    cron: CronField = described("Five-field cron expression of when the window opens: minute (0-59), hour (0-23), "
                                "day of month (1-31), month (1-12 or JAN-DEC), day of week (0-7 or SUN-SAT; 0 and 7 "
                                "are Sunday).", examples=["0 2 * * SAT"])
    duration: DurationField = described("How long the window stays open once it opens.", examples=["4h"])
    timezone: TimeZone = described("IANA time zone of the cron expression.", default="UTC")


class Maintenance(Spec):
    """When housekeeping runs, and what `modelops maintenance` holds the environment's models to."""

    windows: list[MaintenanceWindow] = described(
        "Windows in which housekeeping (retiring warm slots whose warm window ended) runs; outside them a plan "
        "defers it and says when the next window opens. None: housekeeping runs whenever it is due.",
        default_factory=list)
    max_version_age: DurationField = described(
        "A serving version first recorded serving longer ago than this is listed as old by the maintenance report.",
        default=Duration(90 * 86_400_000), examples=["90d"])
    channels: dict[Annotated[str, Field(min_length=1, max_length=255)], str] = described(
        "Per container image repository (the image without tag or digest), the tag of the release the platform "
        "follows now: a model whose image has an older tag of it is listed as behind its channel.",
        default_factory=dict, examples=[{"vllm/vllm-openai": "v0.6.4"}])


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
    business_metrics: dict[MetricKey, BusinessMetric] = described(
        "Business metrics by name (snake_case), beside the built-in catalogue: alert rules may use them as "
        "`metric`.", default_factory=dict)
    maintenance: Maintenance | None = described(
        "Maintenance windows for housekeeping, and what the maintenance report checks (docs/maintenance.md).",
        default=None)
    notifications: list[Subscription] | None = described(
        "Channels told about what apply does here: deploys, pauses, rollbacks, failures and drift "
        "(docs/notifications.md).", default=None,
        examples=[[{"channel": "ml-oncall/slack-ml", "events": ["rolledBack", "failed", "driftDetected"]}]])
