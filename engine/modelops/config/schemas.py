"""JSON Schemas (draft 2020-12) generated from the spec models.

`schemas/<kind>.schema.json` in the repository are the output of `write_schemas()`; a test fails when
they are stale. Generation drops pydantic's `null` branches because the models refuse explicit nulls.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from modelops.config.scalars.cpu import Cpu
from modelops.config.scalars.duration import Duration
from modelops.config.scalars.size import Size
from modelops.config.spec.kinds import DOCUMENTS, schema_file_name

SCHEMA_BASE_URL = "https://modelops.dev/schemas/v1/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Generator(GenerateJsonSchema):
    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def encode_default(self, dft: Any) -> Any:
        # Scalar value types (durations, sizes, CPU quantities) appear in YAML as their text form.
        if isinstance(dft, Duration | Size | Cpu):
            return str(dft)
        return super().encode_default(dft)

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        # Pydantic writes constrained keys as `patternProperties`, which leaves every other key unchecked (any
        # name, any value), while the models refuse such keys: name the pattern for every key instead.
        generated = super().dict_schema(schema)
        patterns = generated.get("patternProperties")
        if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in generated:
            ((pattern, values),) = patterns.items()
            del generated["patternProperties"]
            generated["propertyNames"] = {**generated.get("propertyNames", {}), "pattern": pattern}
            generated["additionalProperties"] = values
        return generated

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        generated = super().default_schema(schema)
        if generated.get("default", ...) is None:
            del generated["default"]
        return generated


def schema_for(kind: str) -> dict[str, Any]:
    """The complete JSON Schema of one kind, with `$id`, title, description and an example."""
    document = DOCUMENTS[kind]
    body = document.model_json_schema(by_alias=True, schema_generator=_Generator)
    header = {
        "$schema": DIALECT,
        "$id": SCHEMA_BASE_URL + schema_file_name(kind),
        "title": f"modelops {kind}",
        "description": (document.__doc__ or kind).strip(),
    }
    body.pop("title", None)
    body.pop("description", None)
    bounded: dict[str, Any] = _portable(_bounds(body))
    return header | bounded | {"examples": [EXAMPLES[kind]]}


_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _bounds(node: Any) -> Any:
    """Pydantic leaves bounds of optional numbers as raw `ge`/`le` keys; spell them as JSON Schema does."""
    if isinstance(node, list):
        return [_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    numeric = node.get("type") in ("integer", "number")
    return {(_BOUNDS[k] if numeric and k in _BOUNDS else k): _bounds(v) for k, v in node.items()}


#: Keywords that apply to one JSON type only (what a `type` list is split by).
_TYPED: dict[str, tuple[str, ...]] = {
    "string": ("pattern", "minLength", "maxLength", "format"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "integer": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "array": ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"),
    "object": ("properties", "required", "additionalProperties", "propertyNames", "minProperties", "maxProperties"),
    "boolean": (), "null": (),
}
_TYPE_SPECIFIC = {key for keys in _TYPED.values() for key in keys}
#: Where a schema holds schemas: by name, in a list, or one.
_BY_NAME = ("properties", "$defs", "patternProperties", "dependentSchemas")
_IN_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "propertyNames", "contains")


def _portable(schema: Any) -> Any:
    """The schema as the strictest validators take it (ajv with `strict: true`), saying the same thing:

    - no `discriminator`: OpenAPI's keyword, not JSON Schema's (the `oneOf` beside it says the same);
    - no list of types: `{"type": ["string", "integer"], "pattern": p}` is written `anyOf` one schema per type,
      each with the keywords that apply to it (ajv's strictTypes refuses a list);
    - a `required` key is also named under `properties` of the same schema (as `true`, when it only requires it):
      ajv's strictRequired refuses a key it cannot see defined, which is how it catches a typo.
    """
    if not isinstance(schema, dict):
        return schema
    node: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "discriminator":
            continue
        if key in _BY_NAME and isinstance(value, dict):
            node[key] = {name: _portable(sub) for name, sub in value.items()}
        elif key in _IN_LIST and isinstance(value, list):
            node[key] = [_portable(sub) for sub in value]
        else:
            node[key] = _portable(value) if key in _ONE else value
    if isinstance(node.get("type"), list):
        common = {k: v for k, v in node.items() if k != "type" and k not in _TYPE_SPECIFIC}
        branches = [{"type": t, **{k: v for k, v in node.items() if k in _TYPED[t]}} for t in node["type"]]
        if "anyOf" in common:  # both: each must hold
            common["allOf"] = [*common.get("allOf", []), {"anyOf": common.pop("anyOf")}]
        node = {**common, "anyOf": branches}
    required = node.get("required")
    if isinstance(required, list):
        known = node.get("properties", {})
        missing = {key: True for key in required if key not in known}
        if missing:
            node["properties"] = {**known, **missing}
    return node


def render(kind: str) -> str:
    return json.dumps(schema_for(kind), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in DOCUMENTS:
        path = directory / schema_file_name(kind)
        path.write_text(render(kind), encoding="utf-8")
        written.append(path)
    return written


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "modelops.dev/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


EXAMPLES: dict[str, dict[str, Any]] = {
    "Environment": _doc("Environment", "production", {
        "target": {"driver": "local"}, "promotesFrom": "staging", "approval": "required",
        "freeze": [{"from": "2027-12-20T00:00:00Z", "to": "2028-01-04T00:00:00Z", "reason": "year-end freeze"}],
    }),
    "Model": _doc("Model", "sentiment", {
        "version": "1.4.2",
        "artifact": {"uri": "s3://models/sentiment/1.4.2/model.tar.gz", "sha256": "0" * 64},
        "serving": {"runtime": "vllm", "image": "vllm/vllm-openai:v0.6.3", "port": 8000,
                    "resources": {"cpu": "4", "memory": "16Gi", "gpu": 1}},
        "strategy": {"blueGreen": {"previewTests": ["smoke"], "scaleDownDelay": "10m"}},
        "tests": [{"name": "smoke", "http": {"path": "/v1/predict", "method": "POST", "json": {"text": "great"}}}],
        "scaling": "gpu-standard", "alerts": ["model-slo"], "escalation": "ml-oncall",
    }),
    "AlertPolicy": _doc("AlertPolicy", "model-slo", {"rules": [
        {"name": "high-latency", "metric": "response_time", "above": {"warning": "5s", "critical": "10s"},
         "for": "5m"},
    ]}),
    "EscalationPolicy": _doc("EscalationPolicy", "ml-oncall", {
        "channels": {"slack-ml": {"type": "slack", "webhookUrl": "${env:SLACK_WEBHOOK_URL}"}},
        "routes": [{"match": {"severity": "critical"}, "channels": ["slack-ml"]}],
    }),
    "ScalingPolicy": _doc("ScalingPolicy", "gpu-standard", {
        "minReplicas": 2, "maxReplicas": 20, "targets": {"cpuUtilization": 70},
    }),
    "Guardrail": _doc("Guardrail", "production-safety", {
        "match": {"kinds": ["Model"], "environments": ["production"]}, "severity": "error",
        "message": "Production models need a strategy", "require": {"properties": {"spec": {"required": ["strategy"]}}},
    }),
}


if __name__ == "__main__":  # `make schemas`
    import sys

    for written in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(written)
