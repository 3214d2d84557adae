"""`kind: Model`: one served model in one environment: version, serving, rollout, gates, policies."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from modelops.base.diagnostics import clip
from modelops.config.catalog import MetricName
from modelops.config.scalars.duration import Duration
from modelops.config.scalars.secretref import Template
from modelops.config.spec.types import (
    CpuField,
    DurationField,
    Int,
    Name,
    SemVerField,
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


class Artifact(Spec):
    """The model artifact to serve."""

    uri: str = described("Where the artifact lives (s3://, gs://, hf://, https://, file://).",
                         pattern=r"^[a-z][a-z0-9+.-]*://\S+$", examples=["s3://models/sentiment/1.4.2/model.tar.gz"])
    sha256: str | None = described("SHA-256 digest of the artifact (64 lowercase hex digits); pins what is served.",
                                   default=None, pattern=r"^[0-9a-f]{64}$")


class Resources(Spec):
    """Resources of one serving replica."""

    cpu: CpuField = described("CPU per replica: cores (4, 0.5) or millicores (500m).")
    memory: SizeField = described("Memory per replica, such as 16Gi.")
    gpu: Int = described("GPUs per replica.", default=0, ge=0, le=16)


class Serving(Spec):
    """How the model is served."""

    runtime: str = described("Serving runtime (vllm, triton, torchserve, sklearn, custom, ...).",
                             pattern=r"^[a-z0-9][a-z0-9._-]*$", examples=["vllm", "triton"])
    image: str = described("Container image of the runtime, ideally pinned by tag or digest.", min_length=1)
    port: Int = described("Port the runtime listens on.", default=8080, ge=1, le=65535)
    health_path: str = described("HTTP path of the readiness check.", default="/health", pattern=r"^/")
    resources: Resources = described("Resources of one replica.")
    replicas: Int | None = described("Fixed replica count when no ScalingPolicy is referenced.", default=None, ge=1,
                                     le=1000)


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


class HttpCheck(Spec):
    """An HTTP request against the slot under test."""

    path: str = described("Request path, appended to the slot URL.", pattern=r"^/")
    method: Literal["GET", "POST", "PUT", "HEAD"] = described("HTTP method.", default="GET")
    headers: dict[str, TemplateField] = described(
        'Extra request headers. Values may hold ${env:NAME} references, resolved only when the request is sent; a '
        'credential header (Authorization, Cookie, X-Api-Key, any name with token, secret, key or auth) must take '
        'one, such as "Bearer ${env:MODEL_TOKEN}".', default_factory=dict)
    json_: Any = Field(default=None, alias="json", description="JSON request body.",
                       json_schema_extra={"type": ["object", "array", "string", "number", "boolean"]})
    expect_status: Int = described("Expected HTTP status.", default=200, ge=100, le=599)
    expect_body_contains: str | None = described("Text the response body must contain.", default=None)
    max_latency: DurationField | None = described("Slowest acceptable response.", default=None)


    @field_validator("headers")
    @classmethod
    def _no_literal_credentials(cls, headers: dict[str, Template]) -> dict[str, Template]:
        for name, value in headers.items():
            if _CREDENTIAL_HEADER.search(name) and not (value.refs and _SCHEME.fullmatch(value.literal)):
                raise PydanticCustomError(
                    "secret", f'literal value in the {clip(name)} header, which carries a credential: write a '
                    'reference such as "Bearer ${env:MODEL_TOKEN}" and set the variable', {"key": name})
        return headers


#: Header names that carry credentials: their values must come from references, never from the file.
_CREDENTIAL_HEADER = re.compile(r"cookie|token|secret|key|auth|passw|credential", re.IGNORECASE)
#: What a credential header may say besides its reference: an authentication scheme ("Bearer ", "Basic ").
_SCHEME = re.compile(r"(?:[A-Za-z][A-Za-z0-9-]* )?")


class ModelTest(Spec):
    """A test run against a new version before it takes traffic: an HTTP check or a command."""

    model_config = Spec.model_config | {
        "json_schema_extra": {"oneOf": [{"required": ["http"]}, {"required": ["command"]}]}
    }

    name: Name = described("Test name, referenced by a strategy's previewTests.")
    http: HttpCheck | None = described("An HTTP check against the slot under test.", default=None)
    command: list[Annotated[str, Field(min_length=1)]] | None = described(
        "A command (argv list) run from the repository root; exit 0 passes. Gets MODELOPS_MODEL, MODELOPS_VERSION, "
        "MODELOPS_SLOT and MODELOPS_URL in its environment.", default=None, min_length=1)
    timeout: DurationField = described("How long the test may run.", default=Duration(60_000))

    @model_validator(mode="after")
    def _one_kind(self) -> ModelTest:
        exactly_one(self, ("http", "command"), "a test")
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

    version: SemVerField = described("Semantic version to serve.")
    artifact: Artifact = described("The artifact to serve.")
    serving: Serving = described("Runtime, image and resources.")
    strategy: Strategy | None = described("Rollout strategy; omitted means recreate (stop old, start new).",
                                          default=None)
    auto_rollback: AutoRollback = described("What triggers an automatic rollback.", default_factory=AutoRollback)
    tests: list[ModelTest] = described("Tests available to the strategy's gates.", default_factory=list)
    analysis: dict[Name, Analysis] = described("Metric gates by name, used by canary and blue-green steps.",
                                               default_factory=dict)
    scaling: Name | None = described("ScalingPolicy name.", default=None)
    alerts: list[Name] = described("AlertPolicy names.", default_factory=list)
    escalation: Name | None = described("EscalationPolicy name.", default=None)
