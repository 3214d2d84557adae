"""`kind: Model`: one served model in one environment: version, serving, rollout, gates, policies."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from modelops.config.catalog import MetricName
from modelops.config.scalars.duration import Duration
from modelops.config.scalars.secretref import Template
from modelops.config.scalars.version import SCHEMES, Scheme
from modelops.config.spec.headers import no_literal_credentials
from modelops.config.spec.notifications import Subscription
from modelops.config.spec.release import VERSION_RULES, Artifact, VersionText, checked_version, default_scheme
from modelops.config.spec.types import (
    CpuField,
    DurationField,
    ImageField,
    Int,
    Name,
    SizeField,
    Spec,
    TemplateField,
    described,
)


def exactly_one(model: Spec, fields: tuple[str, ...], what: str) -> None:
    """Raise the typed error used for "set exactly one of these keys"."""
    present = [f for f in fields if getattr(model, f) is not None]
    if len(present) != 1:
        known = type(model).model_fields
        aliases = [known[f].alias or f for f in fields]
        found = ", ".join(known[f].alias or f for f in present) or "none"
        raise PydanticCustomError("exactly_one", f"{what}: set exactly one of {', '.join(aliases)} (found: {found})")


class Resources(Spec):
    """Resources of one serving replica."""

    cpu: CpuField = described("CPU per replica: cores (4, 0.5) or millicores (500m).")
    memory: SizeField = described("Memory per replica, such as 16Gi.")
    gpu: Int = described("GPUs per replica.", default=0, ge=0, le=16)


class LocalServing(Spec):
    """How the embedded local target serves this model (docs/local-runtime.md); other targets ignore it."""

    command: list[Annotated[str, Field(min_length=1)]] | None = described(
        "A command (argv list, run from the repository root) that serves the model over HTTP on the port given by "
        "the `{port}` placeholder; it replaces MLServer for this model. Also gets MODELOPS_MODEL, MODELOPS_VERSION, "
        "MODELOPS_SLOT, MODELOPS_ARTIFACT and MODELOPS_PORT.", default=None, min_length=1,
        examples=[["python3", "serve.py", "--port", "{port}"]])
    ready_path: str | None = described(
        "Path that answers 200 once the slot is ready (default: /v2/models/<name>/ready for MLServer, the serving "
        "healthPath for a command).", default=None, pattern=r"^/")
    metrics_path: str | None = described(
        "Path of a command's Prometheus metrics, scraped by the local Prometheus (omit: not scraped). MLServer's "
        "are always scraped.", default=None, pattern=r"^/")
    requests: str | None = described(
        "A JSON Lines file (relative to the repository root) of request bodies the local target replays through "
        "the model's router as synthetic traffic (spec.target.local.traffic).", default=None, min_length=1)


class Serving(Spec):
    """How the model is served."""

    runtime: str = described("Serving runtime (vllm, triton, torchserve, sklearn, custom, ...).",
                             pattern=r"^[a-z0-9][a-z0-9._-]*$", examples=["vllm", "triton"])
    image: ImageField = described(
        "Container image of the runtime, ideally pinned by tag or digest: [registry[:port]/]path[:tag][@sha256:hex].")
    port: Int = described("Port the runtime listens on.", default=8080, ge=1, le=65535)
    health_path: str = described("HTTP path of the readiness check.", default="/health", pattern=r"^/")
    resources: Resources = described("Resources of one replica.")
    replicas: Int | None = described("Fixed replica count when no ScalingPolicy is referenced.", default=None, ge=1,
                                     le=1000)
    local: LocalServing | None = described("How the embedded local target serves the model.", default=None)


class BlueGreen(Spec):
    """Blue-green: the idle slot takes the new version, is tested, then the Service switches to it."""

    preview_tests: list[Name] = described("Tests (by name) run against the preview slot before the switch.",
                                          default_factory=list)
    pre_promotion_analysis: list[Name] = described("Analyses (by name) that must pass before the switch.",
                                                   default_factory=list)
    auto_promote: bool = described("Switch automatically when gates pass; false pauses for `modelops promote`.",
                                   default=True)
    post_promotion_analysis: list[Name] = described("Analyses (by name) run after the switch; failure switches back.",
                                                    default_factory=list)
    scale_down_delay: DurationField = described("How long the old slot stays warm for an instant rollback.",
                                                default=Duration(30_000))
    preview_replicas: Int | None = described("Replicas of the preview slot before the switch.", default=None, ge=1)


class PauseSpec(Spec):
    """A pause: timed, or (no duration) until `modelops promote`."""

    duration: DurationField | None = described("How long to pause; omit to wait for a manual promote.", default=None)


class CanaryStep(Spec):
    """One canary step; exactly one key is set."""

    model_config = Spec.model_config | {"json_schema_extra": {"minProperties": 1, "maxProperties": 1}}

    set_weight: Int | None = described("Percentage of traffic sent to the new version.", default=None, ge=0, le=100)
    pause: DurationField | PauseSpec | None = described("Wait for a duration (5m) or for a manual promote ({}).",
                                                        default=None)
    analysis: Name | list[Name] | None = described("Analyses (by name) that must pass before the next step.",
                                                   default=None)

    @model_validator(mode="after")
    def _one_action(self) -> CanaryStep:
        exactly_one(self, ("set_weight", "pause", "analysis"), "a canary step")
        return self


class Canary(Spec):
    """Canary: traffic moves to the new version step by step, with pauses and analysis."""

    steps: list[CanaryStep] = described("Ordered steps; traffic goes to 100% after the last one.", min_length=1)
    preview_tests: list[Name] = described("Tests run against the canary before it receives traffic.",
                                          default_factory=list)
    scale_down_delay: DurationField = described("How long the old version stays warm after promotion.",
                                                default=Duration(30_000))


_COUNT_OR_PERCENT = r"^([0-9]+|[0-9]{1,2}%|100%)$"


def _count_or_percent(value: Any) -> int | str:
    # A pattern beside `Int | str` bound only the JSON Schema (where it applies to strings): the model took
    # "abc" or -1, and the plan and the Kubernetes export used them.
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 3.0 as an integer
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and re.fullmatch(_COUNT_OR_PERCENT[1:-1], value):
        return value
    if isinstance(value, str):
        shown = f'"{value}"'
    elif isinstance(value, int | float):
        shown = str(value).lower()  # true, false, nan, inf
    else:
        shown = "a list" if isinstance(value, list) else "a mapping"
    raise PydanticCustomError("count_or_percent", 'expected a replica count or a percentage such as 1 or "25%", '
                              "got {shown}", {"shown": shown})


CountOrPercent = Annotated[
    int | str,
    PlainValidator(_count_or_percent),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": _COUNT_OR_PERCENT}]}),
]


class Rolling(Spec):
    """Rolling: replicas are replaced a few at a time."""

    max_unavailable: CountOrPercent = described("Replicas (or percentage) that may be unavailable during the update.",
                                                default=0)
    max_surge: CountOrPercent = described("Extra replicas (or percentage) allowed during the update.", default=1)
    preview_tests: list[Name] = described("Tests run against the first new replica before the rest are replaced.",
                                          default_factory=list)


class Strategy(Spec):
    """How a new version reaches users; exactly one strategy is set. Without a strategy: recreate."""

    model_config = Spec.model_config | {"json_schema_extra": {"minProperties": 1, "maxProperties": 1}}

    blue_green: BlueGreen | None = described("Blue-green with preview tests and instant rollback.", default=None)
    canary: Canary | None = described("Canary with weighted steps and analysis.", default=None)
    rolling: Rolling | None = described("Rolling replacement.", default=None)

    @model_validator(mode="after")
    def _one_strategy(self) -> Strategy:
        exactly_one(self, ("blue_green", "canary", "rolling"), "strategy")
        return self

    @property
    def name(self) -> str:
        return "blueGreen" if self.blue_green else "canary" if self.canary else "rolling"


class AutoRollback(Spec):
    """What makes a rollout switch back on its own."""

    on_test_failure: bool = described("Roll back when a preview test fails.", default=True)
    on_analysis_failure: bool = described("Roll back when an analysis fails.", default=True)
    on_alerts: list[Literal["warning", "critical"]] = described(
        "Roll back when the model's alerts of these severities fire during the rollout.", default_factory=list)


class HttpRequest(Spec):
    """What an HTTP test, a load test and a traffic verification send besides their path: method, headers, JSON
    body."""

    method: Literal["GET", "POST", "PUT", "HEAD"] = described("HTTP method.", default="GET")
    headers: dict[str, TemplateField] = described(
        'Extra request headers. Values may hold ${env:NAME} references, resolved only when the request is sent; a '
        'credential header (Authorization, Cookie, X-Api-Key, any name with token, secret, key or auth) must take '
        'one, such as "Bearer ${env:MODEL_TOKEN}".', default_factory=dict)
    json_: Any = Field(default=None, alias="json", description="JSON request body.",
                       json_schema_extra={"type": ["object", "array", "string", "number", "boolean"]})

    @field_validator("headers")
    @classmethod
    def _no_literal_credentials(cls, headers: dict[str, Template]) -> dict[str, Template]:
        return no_literal_credentials(headers)


#: The path of a request: appended to the URL of the slot (or endpoint) it goes to.
PATH_PATTERN = r"^/"


class HttpCheck(HttpRequest):
    """An HTTP request against the slot under test."""

    path: str = described("Request path, appended to the slot URL.", pattern=PATH_PATTERN)
    expect_status: Int = described("Expected HTTP status.", default=200, ge=100, le=599)
    expect_body_contains: str | None = described("Text the response body must contain.", default=None)
    max_latency: DurationField | None = described("Slowest acceptable response.", default=None)
    follow_redirects: Literal["never", "sameOrigin"] = described(
        "Redirects: never followed (a 3xx is the answer judged), or followed on the slot URL's own origin (scheme, "
        "host and port) only. A redirect to another origin is never followed: the version under test could send "
        "the test's credentials anywhere.", default="never")


class LoadLimits(Spec):
    """What a load test may measure at most; one limit exceeded fails the test."""

    p50: DurationField | None = described("Slowest acceptable median latency (of the requests answered).",
                                          default=None)
    p95: DurationField | None = described("Slowest acceptable 95th percentile latency.", default=None)
    p99: DurationField | None = described("Slowest acceptable 99th percentile latency.", default=None)
    error_rate: float | None = described(
        "Largest acceptable share (0-1) of requests answered with another status than expectStatus, or not at all.",
        default=None, ge=0, le=1)


class LoadTest(HttpRequest):
    """Load on the slot under test: requests at a rate, or back to back from concurrent workers, for a while;
    judged by the latency percentiles and the error rate against `limits`."""

    model_config = HttpRequest.model_config | {
        "json_schema_extra": {"anyOf": [{"required": ["rate"]}, {"required": ["concurrency"]}],
                              "not": {"required": ["json", "body"]}}
    }

    path: str = described("Request path, appended to the slot URL.", pattern=PATH_PATTERN)
    body: str | None = described("Raw request body (text) instead of json; set its Content-Type in headers.",
                                 default=None)
    rate: float | None = described(
        "Requests per second (at most 1000), with at most `concurrency` in flight; without it, `concurrency` workers "
        "send back to back.", default=None, gt=0, le=1000)
    concurrency: Int | None = described("Requests in flight at most (at most 64; default 4 with a rate).",
                                        default=None, ge=1, le=64)
    duration: DurationField = described("How long requests are sent (1s to 10m).", default=Duration(30_000))
    max_requests: Int | None = described("Requests in all, at most (the generator never sends more than 100,000).",
                                          default=None, ge=1, le=100_000)
    expect_status: Int = described("The status of a good answer; any other counts as an error.", default=200, ge=100,
                                   le=599)
    request_timeout: DurationField = described("Time limit of one request, its whole answer included.",
                                               default=Duration(10_000))
    limits: LoadLimits = described("Latency percentiles and error rate the test may not exceed.",
                                   default_factory=LoadLimits)

    @model_validator(mode="after")
    def _shape(self) -> LoadTest:
        if self.rate is None and self.concurrency is None:
            raise PydanticCustomError("exactly_one", "a load test: set rate (requests per second), concurrency "
                                      "(workers sending back to back) or both")
        if self.json_ is not None and self.body is not None:
            raise PydanticCustomError("exactly_one", "a load test: set json or body, not both")
        return self


class ModelTest(Spec):
    """A test run against a new version before it takes traffic: an HTTP check, a command or a load test."""

    model_config = Spec.model_config | {
        "json_schema_extra": {"oneOf": [{"required": ["http"]}, {"required": ["command"]}, {"required": ["load"]}]}
    }

    name: Name = described("Test name, referenced by a strategy's previewTests.")
    http: HttpCheck | None = described("An HTTP check against the slot under test.", default=None)
    command: list[Annotated[str, Field(min_length=1)]] | None = described(
        "A command (argv list) run from the repository root; exit 0 passes. Gets MODELOPS_MODEL, MODELOPS_VERSION, "
        "MODELOPS_SLOT and MODELOPS_URL in its environment.", default=None, min_length=1)
    load: LoadTest | None = described("A load test against the slot under test (docs/testing.md).", default=None)
    timeout: DurationField = described("How long the test may run.", default=Duration(60_000))

    @model_validator(mode="after")
    def _one_kind(self) -> ModelTest:
        exactly_one(self, ("http", "command", "load"), "a test")
        return self


#: A JSON field as `verifyTraffic.jsonPath` names it: keys joined by dots, list positions in brackets.
JSON_PATH_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*(\[[0-9]+\])*(\.[A-Za-z_][A-Za-z0-9_-]*(\[[0-9]+\])*)*$"


class TrafficVerification(HttpRequest):
    """After the switch, the active endpoint is probed until it answers as the new version: a response header or a
    JSON field of the body names the version. Not there within `attempts` probes: the rollout rolls back."""

    model_config = HttpRequest.model_config | {
        "json_schema_extra": {"oneOf": [{"required": ["header"]}, {"required": ["jsonPath"]}]}
    }

    path: str | None = described("Request path, appended to the active endpoint (default: serving.healthPath).",
                                 default=None, pattern=PATH_PATTERN)
    header: str | None = described("Response header whose value is the version served, such as X-Model-Version.",
                                   default=None, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
    json_path: str | None = described(
        "Field of the JSON answer that holds the version served: keys joined by dots, list positions in brackets "
        "(model_version, meta.version, outputs[0].version).", default=None, pattern=JSON_PATH_PATTERN)
    attempts: Int = described("Probes sent at most before the verification fails.", default=10, ge=1, le=100)
    consecutive: Int = described("Probes in a row that must report the new version.", default=3, ge=1, le=100)
    interval: DurationField = described("Time between probes.", default=Duration(1000))
    timeout: DurationField = described("Time limit of one probe, its whole answer included.", default=Duration(5000))

    @model_validator(mode="after")
    def _one_source(self) -> TrafficVerification:
        exactly_one(self, ("header", "json_path"), "verifyTraffic")
        return self


class Analysis(Spec):
    """A metric gate: `count` measurements every `interval`; fails after more than `maxFailures` bad ones."""

    model_config = Spec.model_config | {
        "json_schema_extra": {"oneOf": [{"required": ["metric"]}, {"required": ["query"]}],
                              "anyOf": [{"required": ["max"]}, {"required": ["min"]}]}
    }

    metric: MetricName | None = described("A catalogue metric.", default=None)
    query: str | None = described("A raw PromQL query instead of a catalogue metric.", default=None, min_length=1)
    max: float | None = described("A measurement above this value fails.", default=None)
    min: float | None = described("A measurement below this value fails.", default=None)
    interval: DurationField = described("Time between measurements.", default=Duration(60_000))
    count: Int = described("Number of measurements.", default=5, ge=1, le=1000)
    max_failures: Int = described("Failed measurements tolerated; one more fails the analysis.", default=0, ge=0)
    on_no_data: Literal["pass", "fail", "inconclusive"] = described(
        "Outcome of a measurement that returns no data; inconclusive pauses the rollout.", default="inconclusive")
    min_samples: Int = described("Measurements with data needed before the analysis can pass.", default=1, ge=0)

    @model_validator(mode="after")
    def _shape(self) -> Analysis:
        exactly_one(self, ("metric", "query"), "an analysis")
        if self.max is None and self.min is None:
            raise PydanticCustomError("exactly_one", "an analysis needs a bound: set max, min or both")
        return self


class ModelSpec(Spec):
    """The desired state of one model in one environment."""

    model_config = Spec.model_config | {"json_schema_extra": {"allOf": VERSION_RULES}}

    version: VersionText | None = described(
        "Version to serve, written in the model's versionScheme. A model registry artifact may leave it out: its "
        "version is then the registry's (the one its alias points at).", default=None)
    version_scheme: Scheme | None = described(
        "How versions are written and ordered (which change is an upgrade and which a rollback): semver (default), "
        "integer (a model registry's version numbers; the default for a registry artifact), calver (2024.06.1), "
        f"or any (a label with no order: every change of version is an upgrade). One of: {', '.join(SCHEMES)}.",
        default=None)
    artifact: Artifact = described("The artifact to serve.")
    serving: Serving = described("Runtime, image and resources.")
    strategy: Strategy | None = described("Rollout strategy; omitted means recreate (stop old, start new).",
                                          default=None)
    auto_rollback: AutoRollback = described("What triggers an automatic rollback.", default_factory=AutoRollback)
    tests: list[ModelTest] = described("Tests available to the strategy's gates.", default_factory=list)
    analysis: dict[Name, Analysis] = described("Metric gates by name, used by canary and blue-green steps.",
                                               default_factory=dict)
    verify_traffic: TrafficVerification | None = described(
        "After the switch that gives the new version all traffic, probe the environment's active endpoint until it "
        "serves that version; roll back when it does not (docs/testing.md). Omitted: not verified.", default=None)
    scaling: Name | None = described("ScalingPolicy name.", default=None)
    alerts: list[Name] = described("AlertPolicy names.", default_factory=list)
    escalation: Name | None = described("EscalationPolicy name.", default=None)
    notifications: list[Subscription] | None = described(
        "Channels told about this model's rollouts (beside the environment's spec.notifications): a channel's name "
        "alone is one of spec.escalation's channels.", default=None)

    @model_validator(mode="after")
    def _version_in_scheme(self) -> ModelSpec:
        checked_version(self.version, self.scheme, self.artifact)
        return self

    @property
    def scheme(self) -> Scheme:
        """The versionScheme, or its default (integer for a registry artifact, else semver)."""
        return self.version_scheme or default_scheme(self.artifact)
