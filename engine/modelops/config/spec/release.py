"""What a model's rollout replaces besides its serving template: the version (in its scheme) and the artifact.

An artifact is a URI (`s3://`, `hf://`, `file://`, ...) pinned by `sha256`, or a model of an MLflow Model Registry
(`mlflow: {model, alias | version}`, or `uri: models:/<name>@<alias>` / `models:/<name>/<version>`) that `modelops
plan` resolves to a version, its source and a digest (docs/model-registry.md). A registry model's version may be
left out: it is then the registry's version, an integer (versionScheme `integer`).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from modelops.config.scalars import ScalarError, semver
from modelops.config.scalars import registry as reg
from modelops.config.scalars import version as versions
from modelops.config.scalars.registry import ModelRef
from modelops.config.spec.http import HttpAuth, UrlOrSecret
from modelops.config.spec.types import Int, Spec, _checked, described

#: A URI with a scheme for any store (`models:` and `runs:` are MLflow's, read by `parse_artifact_uri`).
PLAIN_URI_PATTERN = r"^(?!(?:models|runs):)[a-z][a-z0-9+.-]*://\S+$"
URI_PATTERN = f"^(?:{PLAIN_URI_PATTERN[1:-1]}|{reg.MODELS_URI_PATTERN[1:-1]})$"
_PLAIN_URI = re.compile(PLAIN_URI_PATTERN)
#: The tracking server of a registry artifact that names none: MLflow's own variable.
DEFAULT_TRACKING_URI = "${env:MLFLOW_TRACKING_URI}"


def parse_artifact_uri(value: Any) -> str:
    if not isinstance(value, str):
        raise ScalarError(f"expected a URI such as s3://bucket/key, got {type(value).__name__}")
    if reg.is_models_uri(value):
        reg.parse_models_uri(value)
        return value
    if value.startswith("runs:"):
        raise ScalarError("a runs:/ URI names files of one run, which the registry gives no version: register the "
                          'model and address it as "models:/<name>/<version>" or "models:/<name>@<alias>"')
    if not _PLAIN_URI.match(value):
        raise ScalarError('expected a URI with a scheme, such as "s3://bucket/key", or a model registry URI such as '
                          '"models:/iris@champion"')
    return value


def _registry_name(value: Any) -> str:
    if not isinstance(value, str) or re.fullmatch(reg.MODEL_NAME_PATTERN[1:-1], value) is None:
        raise ScalarError('expected a registered model name: letters, digits, "_", "." and "-" (modelops keeps to '
                          "names that need no quoting)")
    return value


def _alias(value: Any) -> str:
    if not isinstance(value, str) or re.fullmatch(reg.ALIAS_PATTERN[1:-1], value) is None:
        raise ScalarError('expected an alias: letters, digits, "_" and "-", not "latest" or v<number> (names MLflow '
                          "reserves)")
    return value


ArtifactUri = Annotated[str, PlainValidator(_checked("registry", parse_artifact_uri)), WithJsonSchema(
    {"type": "string", "pattern": URI_PATTERN,
     "examples": ["s3://models/sentiment/1.4.2/model.tar.gz", "models:/iris@champion", "models:/iris/7"]})]
RegistryName = Annotated[str, PlainValidator(_checked("registry", _registry_name)),
                         WithJsonSchema({"type": "string", "pattern": reg.MODEL_NAME_PATTERN, "examples": ["iris"]})]
Alias = Annotated[str, PlainValidator(_checked("registry", _alias)),
                  WithJsonSchema({"type": "string", "pattern": reg.ALIAS_PATTERN, "examples": ["champion"]})]


class MlflowModel(Spec):
    """A model of an MLflow Model Registry: a version, or an alias that `plan` resolves to the version it points at."""

    model_config = Spec.model_config | {"json_schema_extra": {"oneOf": [{"required": ["alias"]},
                                                                        {"required": ["version"]}]}}

    model: RegistryName = described("The registered model's name.")
    alias: Alias | None = described(
        "An alias, such as champion: plan resolves it to the version it points at, and apply deploys exactly that "
        "version (an alias moved since the plan makes the plan stale).", default=None)
    version: Int | None = described("A version number of the registered model.", default=None, ge=1,
                                    le=versions.MAX_INTEGER)

    @model_validator(mode="after")
    def _alias_or_version(self) -> MlflowModel:
        if (self.alias is None) == (self.version is None):
            raise PydanticCustomError("exactly_one", "mlflow: set exactly one of alias, version (found: "
                                      f"{'both' if self.alias is not None else 'none'})")
        return self

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.model, self.version, self.alias)


#: An artifact that comes from a model registry, as the published schema tells it.
REGISTRY_ARTIFACT: Any = {"type": "object", "anyOf": [
    {"required": ["mlflow"]},
    {"required": ["uri"], "properties": {"uri": {"type": "string", "pattern": "^models:/"}}},
]}


class Artifact(Spec):
    """The model artifact to serve: a URI pinned by its digest, or a model of an MLflow Model Registry."""

    model_config = Spec.model_config | {"json_schema_extra": {
        "oneOf": [{"required": ["uri"]}, {"required": ["mlflow"]}],
        "dependentSchemas": {"trackingUri": REGISTRY_ARTIFACT, "auth": REGISTRY_ARTIFACT},
    }}

    uri: ArtifactUri | None = described(
        "Where the artifact lives (s3://, gs://, hf://, https://, file://), or a model of an MLflow Model Registry: "
        "models:/<name>/<version> or models:/<name>@<alias>.", default=None)
    mlflow: MlflowModel | None = described("A model of an MLflow Model Registry, by alias or version.", default=None)
    sha256: str | None = described(
        "SHA-256 digest of the artifact (64 lowercase hex digits); pins what is served. For a registry model plan "
        "computes it (docs/model-registry.md) and, when it is given, checks it.", default=None,
        pattern=r"^[0-9a-f]{64}$")
    tracking_uri: UrlOrSecret | None = described(
        f"The MLflow tracking server of a registry model (default: {DEFAULT_TRACKING_URI}).", default=None,
        examples=["${env:MLFLOW_TRACKING_URI}", "https://mlflow.example.com"])
    auth: HttpAuth | None = described(
        "How modelops authenticates to the tracking server (a Databricks token: bearer; MLflow's basic-auth app: "
        "basic), sent to its origin only.", default=None)

    @model_validator(mode="after")
    def _one_source(self) -> Artifact:
        if (self.uri is None) == (self.mlflow is None):
            found = "uri, mlflow" if self.uri is not None else "none"
            raise PydanticCustomError("exactly_one", f"artifact: set exactly one of uri, mlflow (found: {found})")
        if self.registry is None and (self.tracking_uri is not None or self.auth is not None):
            raise PydanticCustomError("exactly_one", "artifact: trackingUri and auth belong to a model registry "
                                                     "artifact (mlflow, or a models:/ uri)")
        return self

    @property
    def registry(self) -> ModelRef | None:
        """The registry model this artifact names (None: a plain URI)."""
        if self.mlflow is not None:
            return self.mlflow.ref
        if self.uri is not None and reg.is_models_uri(self.uri):
            return reg.parse_models_uri(self.uri)
        return None


# -- the version and its scheme -----------------------------------------------------------------------------------


def _version_text(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)  # JSON Schema counts 3.0 as an integer
    elif isinstance(value, float):
        raise ScalarError(f'expected a version such as "1.4.2", got the number {value}; write all three parts of a '
                          "semantic version and quote it (any version: quote it)")
    return versions.version_text(value)


VersionText = Annotated[str, PlainValidator(_checked("semver", _version_text)), WithJsonSchema(
    {"anyOf": [{"type": "string", "minLength": 1}, {"type": "integer", "minimum": 0}],
     "examples": ["1.4.2", 7, "2024.06.1"]})]

_SCHEMA_OF: dict[versions.Scheme, dict[str, Any]] = {
    "semver": {"type": "string", "pattern": semver.PATTERN},
    "integer": {"anyOf": [{"type": "string", "pattern": versions.INTEGER_PATTERN},
                          {"type": "integer", "minimum": 0, "maximum": versions.MAX_INTEGER}]},
    "calver": {"type": "string", "pattern": versions.CALVER_PATTERN},
    "any": {"anyOf": [{"type": "string", "pattern": versions.ANY_PATTERN}, {"type": "integer", "minimum": 0}]},
}
_FROM_REGISTRY = {"required": ["artifact"], "properties": {"artifact": REGISTRY_ARTIFACT}}


def _when_scheme(scheme: versions.Scheme) -> dict[str, Any]:
    return {"if": {"required": ["versionScheme"], "properties": {"versionScheme": {"const": scheme}}},
            "then": {"properties": {"version": _SCHEMA_OF[scheme]}}}


#: The published schema's rules for `version`: present unless the artifact comes from a registry, and written in
#: the model's versionScheme (when none is set: integer for a registry artifact, semver otherwise).
VERSION_RULES: Any = [
    {"anyOf": [{"required": ["version"]}, _FROM_REGISTRY]},
    *(_when_scheme(scheme) for scheme in versions.SCHEMES),
    {"if": {"not": {"required": ["versionScheme"]}},
     "then": {"if": _FROM_REGISTRY, "then": {"properties": {"version": _SCHEMA_OF["integer"]}},
              "else": {"properties": {"version": _SCHEMA_OF["semver"]}}}},
]


def default_scheme(artifact: Artifact) -> versions.Scheme:
    """The scheme of a model that sets none: a registry's integers for a registry artifact, else semver."""
    return "integer" if artifact.registry is not None else "semver"


def checked_version(version: str | None, scheme: versions.Scheme, artifact: Artifact) -> None:
    """Raise the typed error of a version that is missing or not written in its scheme (located at `version`)."""
    if version is None:
        if artifact.registry is None:
            raise PydanticCustomError("missing_version", 'missing required field "version"')
        return
    try:
        versions.parse_version(version, scheme)
    except ScalarError as exc:
        raise PydanticCustomError("semver", str(exc), {"key": "version"}) from None
