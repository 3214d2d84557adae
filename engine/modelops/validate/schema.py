"""Layer 2: every document against the schema of its kind.

The spec models are the schema (the JSON Schemas are generated from them and tested to agree), so this
layer runs pydantic and translates its errors into located, actionable diagnostics.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from modelops.base.diagnostics import clip, did_you_mean, pointer, suggestion
from modelops.config.catalog import METRICS, Metric
from modelops.config.documents import Document
from modelops.config.loader import SourceDocument, resolve_plain
from modelops.config.repo import Sources, placement
from modelops.config.scalars import ScalarError
from modelops.config.spec.kinds import API_VERSION, DOCUMENTS
from modelops.config.spec.policies import CLOCK_PATTERN, EMAIL_PATTERN, LABEL_PATTERN
from modelops.config.spec.types import (
    HTTP_URL_PATTERN,
    LABEL_KEY_PATTERN,
    NAME_PATTERN,
    URL_TEMPLATE_PATTERN,
    parse_name,
)
from modelops.validate.findings import Findings

Scope = tuple[str, str | None]  # (kind, environment)


@dataclass(frozen=True)
class Partial:
    """A document of a known kind that failed its schema: its YAML as read, and the JSON pointers of its errors.

    The semantic layer still checks its references and orderings on the raw data, away from those errors."""

    kind: str
    environment: str | None  # the naming scope, as for `Document`
    source: SourceDocument
    errors: frozenset[str]


@dataclass
class SchemaResult:
    """Documents that passed, and what is known about the ones that did not (to avoid cascades)."""

    documents: list[Document] = field(default_factory=list)
    partial: list[Partial] = field(default_factory=list)
    broken_names: set[tuple[str, str | None, str]] = field(default_factory=set)
    uncertain: set[Scope] = field(default_factory=set)
    #: Environment directories that hold an environment.yaml, whatever name (if any) it declares.
    environment_dirs: set[str] = field(default_factory=set)

    def may_exist(self, kind: str, environment: str | None, name: str) -> bool:
        """True when a reference might point at a document that failed to load or validate.

        An environment named after a directory with an environment.yaml counts as existing: when that file
        declares another name, MO203 says so, and "no such environment" would send the user to create a file
        that is there."""
        if kind == "Environment" and name in self.environment_dirs:
            return True
        return (kind, environment, name) in self.broken_names or (kind, environment) in self.uncertain


def check_schema(sources: Sources, findings: Findings) -> SchemaResult:
    result = SchemaResult()
    for path, source in sources.files.items():
        where = placement(path)
        if where is None:
            continue
        if where.kinds == ("Environment",) and where.environment is not None and source.documents:
            # an empty file is only a warning (MO013): its models must still be told they have no Environment
            result.environment_dirs.add(where.environment)
        if any(d.is_error for d in source.diagnostics):
            result.uncertain.update((kind, scope(kind, where.environment)) for kind in where.kinds)
        for raw in source.documents:
            _check(raw, where.kinds, where.environment, findings, result)
    return result


def scope(kind: str, environment: str | None) -> str | None:
    """Models are unique per environment; everything else (environments included) globally."""
    return environment if kind == "Model" else None


def _check(raw: SourceDocument, kinds: tuple[str, ...], environment: str | None, findings: Findings,
           result: SchemaResult) -> None:
    kind = _kind(raw, kinds, findings)
    if kind is None:
        result.uncertain.update((k, scope(k, environment)) for k in kinds)
        return
    environment_name = environment
    environment = scope(kind, environment)
    try:
        body = DOCUMENTS[kind].model_validate(raw.data, context={"nulls": raw.nulls}, by_alias=True, by_name=False)
    except ValidationError as exc:
        result.partial.append(Partial(kind, environment, raw, _report(raw, DOCUMENTS[kind], exc, findings)))
        name = raw.data.get("metadata", {}).get("name") if isinstance(raw.data.get("metadata"), dict) else None
        if isinstance(name, str):
            result.broken_names.add((kind, environment, name))
        else:
            result.uncertain.add((kind, environment))
        return
    if kind == "Model" and body.metadata.name in RESERVED_MODEL_NAMES:
        findings.error("MO111", f'the model name "{body.metadata.name}" is reserved: '
                       f"{RESERVED_MODEL_NAMES[body.metadata.name]}", raw, "/metadata/name", hint="rename the model")
    result.documents.append(Document(kind, body.metadata.name, environment, raw, body, environment_name))


#: Model names become file names (`<name>.yaml`) beside files the exports write for the environment.
RESERVED_MODEL_NAMES = {
    "prometheusrule": "the Kubernetes export and the gitops driver write prometheusrule.yaml beside one <model>.yaml "
                      "per model, and one would replace the other",
}


def _kind(raw: SourceDocument, allowed: tuple[str, ...], findings: Findings) -> str | None:
    data = raw.data
    version = data.get("apiVersion")
    if version is None:
        findings.error("MO102", 'missing required field "apiVersion"', raw, "", hint=f"add apiVersion: {API_VERSION}")
        return None
    if version != API_VERSION:
        findings.error("MO100", f'unknown apiVersion "{clip(str(version))}"; this engine reads {API_VERSION}', raw,
                       "/apiVersion")
        return None
    kind = data.get("kind")
    if kind is None:
        findings.error("MO102", 'missing required field "kind"', raw, "", hint=f"one of: {', '.join(allowed)}")
        return None
    if not isinstance(kind, str):  # a list or mapping here is unhashable: it can not even be looked up
        findings.error("MO104", f"expected a string, got {_describe_value(kind)}", raw, "/kind",
                       hint=f"one of: {', '.join(allowed)}")
        return None
    if kind not in DOCUMENTS:
        close = did_you_mean(str(kind), DOCUMENTS) or next((k for k in DOCUMENTS if k.lower() == str(kind).lower()),
                                                           None)
        findings.error("MO101", f'unknown kind "{clip(kind)}"' + (f' (did you mean "{close}"?)' if close else ""), raw,
                       "/kind", hint=f"kinds: {', '.join(DOCUMENTS)}")
        return None
    if kind not in allowed:
        findings.error("MO110", f"a {kind} cannot live in {raw.file}", raw, "/kind", hint=_home(kind))
        return None
    return str(kind)


def _home(kind: str) -> str:
    if kind == "Environment":
        return "an Environment lives in environments/<name>/environment.yaml"
    if kind == "Model":
        return "a Model lives in environments/<env>/models/"
    return f"a {kind} lives under policies/"


# -- pydantic errors to diagnostics -----------------------------------------------------------------

_CUSTOM_CODES = {"duration": "MO106", "size": "MO107", "cpu": "MO107", "semver": "MO108",
                 "secret": "MO109", "name": "MO111", "cron": "MO105", "null_value": "MO104",
                 "credentials": "MO115", "path": "MO116", "image": "MO112", "registry": "MO105",
                 "missing_version": "MO102"}
_TYPE_NAMES = {
    "string_type": "a string", "int_type": "an integer", "int_from_float": "an integer", "float_type": "a number",
    "bool_type": "true or false", "dict_type": "a mapping", "model_type": "a mapping",
    "model_attributes_type": "a mapping", "list_type": "a list", "literal_error": "",
}
_PATTERNS = {
    HTTP_URL_PATTERN: "an http(s) URL without credentials",
    URL_TEMPLATE_PATTERN: "an http(s) URL",
    CLOCK_PATTERN: "a time of day as HH:MM",
    EMAIL_PATTERN: "an e-mail address",
    LABEL_PATTERN: "a label name (letters, digits and _, not starting with a digit)",
    LABEL_KEY_PATTERN: "a label key such as team or example.com/tier",
    r"^[0-9a-f]{64}$": "64 lowercase hexadecimal digits",
    r"^N\+[0-9]$": 'headroom as "N+k", such as "N+2"',
    r"^/": 'a path starting with "/"',
    r"^[A-Z]{3}$": "a three-letter currency code such as USD",
    r"^[a-z][a-z0-9+.-]*://\S+$": "a URI with a scheme, such as s3://bucket/key",
    r"^[a-z0-9][a-z0-9._-]*$": "a lowercase identifier",
}


def _report(raw: SourceDocument, model: type[BaseModel], exc: ValidationError, findings: Findings) -> frozenset[str]:
    """Report each error once per location; the locations (JSON pointers) are returned."""
    seen: set[str] = set()
    for err in exc.errors(include_url=False):
        parts, at_key = _data_path(raw.data, err)
        ptr = pointer(*parts)
        if ptr in seen:  # unions report one error per branch; the first is enough
            continue
        seen.add(ptr)
        code, message, hint = _measure(err, raw.data, parts) if err["type"] == "measure" else _describe(err, model,
                                                                                                          parts)
        findings.error(code, message, raw, ptr, at_key=at_key, hint=hint, sensitive=code in ("MO109", "MO115"))
    return frozenset(seen)


def _data_path(data: Any, err: Any) -> tuple[list[str | int], bool]:
    """Follow the error's location through the data, skipping pydantic's own tags (union branches)."""
    loc = list(err["loc"])
    kind = err["type"]
    if kind in ("missing", "union_tag_not_found"):
        loc = loc[:-1] if kind == "missing" else loc
    parts: list[str | int] = []
    node = data
    for item in loc:
        if _has(node, item):
            parts.append(item)
            node = node[item]
    if kind in ("null_value", "secret", "semver") and "key" in (err.get("ctx") or {}):  # a validator naming a key
        parts.append(err["ctx"]["key"])
    at_key = kind in ("missing", "extra_forbidden", "null_value") or "[key]" in loc
    return parts, at_key


def _has(node: Any, item: Any) -> bool:
    if isinstance(node, dict):
        return isinstance(item, str) and item in node
    return isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node)


def _describe(err: Any, model: type[BaseModel], parts: list[str | int]) -> tuple[str, str, str | None]:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _CUSTOM_CODES:
        return _CUSTOM_CODES[kind], err["msg"], ctx.get("hint")
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == NAME_PATTERN:
        return "MO111", _name_problem(err.get("input")), None
    if kind == "missing":
        return "MO102", f'missing required field "{err["loc"][-1]}"', None
    if kind == "extra_forbidden":
        field_name = str(err["loc"][-1])
        allowed = fields_at(model, err["loc"][:-1])
        hint = f"allowed here: {', '.join(allowed)}" if allowed else None
        if field_name == "<<":
            hint = "YAML merge keys (<<) are not supported; repeat the keys or use an alias for the whole value"
        return "MO103", f'unknown field "{field_name}"' + suggestion(field_name, allowed), hint
    if kind == "union_tag_invalid":
        tags = ctx["expected_tags"].replace("'", "")
        found = str(ctx["tag"])
        return "MO105", f'unknown {ctx["discriminator"].strip(chr(39))} "{clip(found)}"' + suggestion(
            found, tags.split(", ")), f"one of: {tags}"
    if kind == "union_tag_not_found":
        return "MO102", f'missing required field "{ctx["discriminator"].strip(chr(39))}"', None
    if kind == "literal_error":
        return _literal(err, ctx)
    if kind in _TYPE_NAMES:
        return "MO104", f"expected {_TYPE_NAMES[kind]}, got {_describe_value(err.get('input'))}", _type_hint(err)
    return "MO105", _constraint(kind, err, ctx), None


#: How a threshold's message names the unit of a catalogue metric that is measured in numbers.
_UNIT_WORDS = {"ratio": "a ratio, 0-1", "percent": "a percentage, 0-100", "requests/s": "in requests per second",
               "USD": "in USD"}
_AS_TIME = "a duration such as 500ms or a number of seconds"
_EITHER = "a number in the unit of the query, or a duration such as 500ms"


def _measure(err: Any, data: Any, parts: list[str | int]) -> tuple[str, str, str | None]:
    """A threshold is a number or a duration (one type for every metric), so its parser can only say "invalid
    duration"; the rule's metric knows what the threshold should have been, and the message says that."""
    value = err.get("input")
    hint = _QUOTED_NUMBER if _numeric(err) else None
    metric = _rule_metric(data, parts)
    if metric is not None and not metric.is_time:
        unit = _UNIT_WORDS.get(metric.unit, f"in {metric.unit}")
        return "MO104", f"expected a number ({metric.name} is {unit}), got {_describe_value(value)}", hint
    if isinstance(value, str) and (value[:1].isdigit() or value != value.strip()):
        # an attempt at a duration (or one with spaces around it): the parser's message says what is wrong
        return "MO106", err["msg"], hint
    # a time metric, or a raw query (or a metric the schema refuses anyway) whose unit is not known
    expected = f"{_AS_TIME} ({metric.name} is a time)" if metric is not None else _EITHER
    return "MO106" if isinstance(value, str) else "MO104", f"expected {expected}, got {_describe_value(value)}", hint


def _rule_metric(data: Any, parts: list[str | int]) -> Metric | None:
    """The catalogue metric of the rule holding the threshold at `parts` (rule / above|below / severity)."""
    node = data
    for item in parts[:-2]:
        if not _has(node, item):
            return None
        node = node[item]
    name = node.get("metric") if isinstance(node, dict) else None
    return METRICS.get(name) if isinstance(name, str) else None


def _name_problem(value: Any) -> str:
    try:
        parse_name(value)
    except ScalarError as exc:
        return str(exc)
    return f'invalid name "{value}"'


def _literal(err: Any, ctx: dict[str, Any]) -> tuple[str, str, str | None]:
    expected = [e.strip().strip("'") for e in ctx["expected"].replace(" or ", ", ").split(", ")]
    value = err.get("input")
    if not isinstance(value, str):
        return "MO104", f"expected one of {', '.join(expected)}, got {_describe_value(value)}", None
    return "MO105", f'invalid value "{clip(value)}"' + suggestion(value, expected), f"one of: {', '.join(expected)}"


def _constraint(kind: str, err: Any, ctx: dict[str, Any]) -> str:
    value = err.get("input")
    bounds = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
              "greater_than": ("greater than", "gt"), "less_than": ("less than", "lt")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx[key]} (got {value})"
    if kind == "string_pattern_mismatch":
        expected = _PATTERNS.get(ctx["pattern"], f"text matching {ctx['pattern']}")
        return f'expected {expected}, got "{clip(str(value))}"'
    if kind == "too_short":
        minimum = ctx.get("min_length", 1)
        return "must not be empty" if minimum == 1 else f"needs at least {minimum} items"
    if kind == "too_long":
        return f"has more than {ctx.get('max_length')} items"
    return str(err["msg"])


def _describe_value(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f'the string "{value}"' if len(value) <= 40 else "a string"
    return "a list" if isinstance(value, list) else "a mapping"


def _type_hint(err: Any) -> str | None:
    value = err.get("input")
    if err["type"] == "bool_type" and isinstance(value, str) and value.lower() in ("yes", "no", "on", "off", "y", "n"):
        return f'YAML 1.2 reads "{value}" as text; write true or false'
    if err["type"] in ("int_type", "float_type") and _numeric(err):
        return _QUOTED_NUMBER
    if err["type"] == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return "quote the value to make it a string"
    return None


_QUOTED_NUMBER = "remove the quotes around the number"


def _numeric(err: Any) -> bool:
    """Whether the input is text that YAML would read as a number without its quotes."""
    value = err.get("input")
    if not isinstance(value, str) or len(value) > 100:
        return False
    number = resolve_plain(value)
    return isinstance(number, int | float) and not isinstance(number, bool)


def fields_at(model: type[BaseModel], loc: Iterable[Any]) -> list[str]:
    """The YAML keys allowed at a pydantic error location (for did-you-mean on unknown fields)."""
    current: Any = model
    for item in loc:
        current = _step(current, item)
        if current is None:
            return []
    target = _models_in(current)
    return [f.alias or n for m in target for n, f in m.model_fields.items()]


def _step(current: Any, item: Any) -> Any:
    for candidate in _models_in(current):
        for name, info in candidate.model_fields.items():
            if item in (info.alias, name):
                return info.annotation
    origin = typing.get_origin(current)
    if origin in (list, dict) and isinstance(item, int | str):
        return typing.get_args(current)[-1]
    if origin in (typing.Union, types.UnionType):
        return _tagged(current, item)
    if origin is typing.Annotated:
        return _step(typing.get_args(current)[0], item)
    return current if not isinstance(item, str) or "[" in item else None


def _tagged(union: Any, tag: Any) -> Any:
    for member in typing.get_args(union):
        fields = getattr(member, "model_fields", {})
        if "type" in fields and tag in typing.get_args(fields["type"].annotation):
            return member
    return union


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    return []
