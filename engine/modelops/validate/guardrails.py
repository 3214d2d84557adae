"""Layer 4: guardrails, policy as data.

A Guardrail selects documents (kinds, environments, labels) and requires that each satisfies a JSON
Schema fragment. `severity: error` fails validation; `warning` only reports. Diagnostics point at the
matched document, at the deepest part of it that exists, and name the guardrail.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

from modelops.base.diagnostics import Severity, pointer
from modelops.config.documents import NO_MEMO, Document, DocumentMemo
from modelops.validate.findings import Findings


def check_guardrails(documents: Iterable[Document], findings: Findings, memo: DocumentMemo = NO_MEMO) -> None:
    documents = list(documents)
    docs = [d for d in documents if d.kind != "Guardrail"]
    for guardrail in (d for d in documents if d.kind == "Guardrail"):
        validator = _compile(guardrail, findings)
        if validator is None:
            continue
        # a verdict depends only on the guardrail and the document: both identified by their content
        verdict = "guardrail:" + memo.key(guardrail)
        try:
            for doc in docs:
                if matches(guardrail, doc) and not memo(doc, verdict, partial(validator.is_valid, doc.source.data)):
                    _violations(guardrail, doc, validator, findings)
        except Unresolvable as exc:  # a reference the static check could not judge (one under a nested $id)
            findings.error("MO302", f'guardrail "{guardrail.name}": require has a $ref that points at nothing: '
                           f"{_compact(_unresolved(exc))}", guardrail.source, "/spec/require")


def _compile(guardrail: Document, findings: Findings) -> Draft202012Validator | None:
    require = guardrail.spec.require
    try:
        Draft202012Validator.check_schema(require)
    except SchemaError as exc:
        where = pointer("spec", "require", *exc.absolute_path)
        findings.error("MO302", f'guardrail "{guardrail.name}": require is not a valid JSON Schema: {exc.message}',
                       guardrail.source, where)
        return None
    resource = DRAFT202012.create_resource(require)
    registry: Registry[Any] = Registry(retrieve=_refuse).with_resource(_BASE, resource)  # type: ignore[call-arg]
    problems = [(path, _ref_problem(ref, registry)) for path, ref in _refs(require, ())]
    for path, problem in problems:
        if problem is not None:
            findings.error("MO302", f'guardrail "{guardrail.name}": {problem}', guardrail.source,
                           pointer("spec", "require", *path))
    if any(problem is not None for _, problem in problems):
        return None
    return Draft202012Validator(require, registry=registry)


#: The base URI of every guardrail's `require`: local references (`#/$defs/x`) resolve against it.
_BASE = "urn:modelops:guardrail:require"
#: Keywords whose values are data, not schemas: a "$ref" key inside them is not a reference.
_DATA_KEYWORDS = frozenset({"const", "enum", "examples", "default"})


def _refuse(uri: str) -> Resource[Any]:
    # Validation must not reach the network or the file system: a guardrail is judged on its own text alone.
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs classes: mypy sees no __init__


def _refs(node: object, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every `$ref` and `$dynamicRef` in a schema, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                yield (*path, key), value
            elif key not in _DATA_KEYWORDS:
                yield from _refs(value, (*path, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _refs(item, (*path, i))


def _ref_problem(ref: str, registry: Registry[Any]) -> str | None:
    if not ref.startswith("#"):
        return (f"$ref {_compact(ref)} refers to another document; a guardrail may refer only within its own "
                'require, such as "#/$defs/name" (no network or file access)')
    try:
        registry.resolver(_BASE).lookup(ref)
    except Unresolvable:
        return f"$ref {_compact(ref)} points at nothing in require"
    return None


def _unresolved(exc: Unresolvable) -> str:
    return str(getattr(exc, "ref", "") or exc)


def matches(guardrail: Document, doc: Document) -> bool:
    """Whether a guardrail applies to a document (empty selectors match everything)."""
    match = guardrail.spec.match
    if match.kinds and doc.kind not in match.kinds:
        return False
    if match.environments:
        env = doc.environment if doc.kind == "Model" else doc.name if doc.kind == "Environment" else None
        if env not in match.environments:
            return False
    labels = doc.labels
    return all(labels.get(k) == v for k, v in match.labels.items())


def _violations(guardrail: Document, doc: Document, validator: Draft202012Validator, findings: Findings) -> None:
    severity = Severity(guardrail.spec.severity)
    for err in sorted(validator.iter_errors(doc.source.data), key=lambda e: list(map(str, e.absolute_path))):
        ptr = pointer(*err.absolute_path)
        findings.add(severity, "MO301", f'guardrail "{guardrail.name}": {guardrail.spec.message} ({_detail(err)})',
                     doc.source, ptr, at_key=err.validator == "required",
                     hint=f"guardrail defined at {guardrail.where}")


def _detail(err: ValidationError) -> str:
    """What is wrong, in the document's terms; values as short JSON, never whole Python reprs."""
    where = ".".join(map(str, err.absolute_path)) or "the document"
    expected, got = err.validator_value, err.instance
    if err.validator == "required":
        missing = [f for f in expected if isinstance(got, dict) and f not in got]  # type: ignore[union-attr]
        return f"{where} needs {', '.join(missing)}"
    if err.validator == "type":
        return f"{where} must be of type {_compact(expected)}, got {_compact(got)}"
    if err.validator == "enum":
        return f"{where} must be one of {_compact(expected)}, got {_compact(got)}"
    if err.validator == "const":
        return f"{where} must be {_compact(expected)}, got {_compact(got)}"
    if err.validator == "not":
        return f"{where} must not match {_compact(expected)}"
    if err.validator == "additionalProperties" and isinstance(got, dict):
        allowed = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
        extra = [k for k in got if k not in allowed]
        return f"{where} must not have {', '.join(_compact(k) for k in extra)}"
    return f"{where} does not satisfy {err.validator} {_compact(expected)}, got {_compact(got)}"


_COMPACT = 60


def _compact(value: object) -> str:
    """A value as one line of compact JSON, cut to a readable length."""
    text = json.dumps(value, separators=(", ", ": "), ensure_ascii=False, default=str)
    return text if len(text) <= _COMPACT else text[: _COMPACT - 1] + "…"
