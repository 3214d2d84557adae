"""The published JSON Schemas and the pydantic spec models must accept and reject the same documents."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import ValidationError

from engine.config.loader import load_text
from engine.config.repo import discover
from engine.config.schemas import EXAMPLES, render, schema_for
from engine.config.spec import DOCUMENTS, KINDS, schema_file_name
from engine.config.spec.environment import parse_url_or_secret
from engine.config.spec.types import parse_measure, parse_name, parse_timestamp, parse_timezone
from engine.scalars import ScalarError
from engine.scalars.cpu import parse_cpu
from engine.scalars.duration import parse_duration
from engine.scalars.secretref import parse_secret_ref
from engine.scalars.semver import parse_semver
from engine.scalars.size import parse_size

ROOT = Path(__file__).resolve().parents[3]
FORMATS = FormatChecker(formats=())
for _name, _parse in {"duration": parse_duration, "size": parse_size, "cpu": parse_cpu, "semver": parse_semver,
                      "secret-ref": parse_secret_ref, "dns-label": parse_name, "date-time": parse_timestamp,
                      "timezone": parse_timezone}.items():
    FORMATS.checks(_name, raises=ScalarError)(_parse)


@pytest.mark.parametrize("kind", KINDS)
def test_committed_schemas_are_generated_from_the_models(kind: str) -> None:
    committed = ROOT / "schemas" / schema_file_name(kind)
    assert committed.read_text(encoding="utf-8") == render(kind), "run `make schemas` and commit the result"


@pytest.mark.parametrize("kind", KINDS)
def test_schema_metadata_and_descriptions(kind: str) -> None:
    schema = schema_for(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(schema_file_name(kind))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] and schema["description"] and schema["examples"]
    undocumented = [path for path, prop in _properties(schema) if "description" not in prop]
    assert undocumented == []
    closed = [name for name, d in schema.get("$defs", {}).items() if d.get("type") == "object"
              and d.get("additionalProperties") is not False]
    assert closed == []


def _properties(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            yield f"{path}/{name}", prop
        for key, value in node.items():
            if key not in ("examples", "default"):
                yield from _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _properties(item, f"{path}/{i}")


def _corpus() -> list[dict[str, Any]]:
    docs = [copy.deepcopy(d) for d in EXAMPLES.values()]
    for rel in discover(ROOT):
        docs += [d.data for d in load_text(rel, (ROOT / rel).read_bytes()).documents]
    return docs


def _mutations(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Structured mistakes: every key dropped, a typo key added, every scalar's type swapped, nulls."""
    for path, value in list(_walk(doc)):
        if not path:
            continue
        yield _edit(doc, path, _DROP)
        yield _edit(doc, path, None)
        for swapped in _swaps(value):
            yield _edit(doc, path, swapped)
        if isinstance(value, dict):
            yield _edit(doc, path, {**value, "unknownKey": 1})
            yield _edit(doc, path, {})


_DROP = object()


def _swaps(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return ["true", 1]
    if isinstance(value, int | float):
        return [str(value), -value - 1, 1.5, value * 1000, [value]]
    if isinstance(value, str):
        return [1, value + "x", "", "Upper Case", "5 minutes", [value]]
    if isinstance(value, list):
        return [[], value + value, "text"]
    return ["text"]


def _walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _walk(child, (*path, key))


def _edit(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    if value is _DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def _validators() -> dict[str, Draft202012Validator]:
    return {kind: Draft202012Validator(schema_for(kind), format_checker=FORMATS) for kind in KINDS}


def test_models_and_schemas_agree_on_a_mutated_corpus() -> None:
    validators = _validators()
    checked, disagreements = 0, []
    for base in _corpus():
        kind = base["kind"]
        for doc in [base, *_mutations(base)]:
            if doc.get("kind") != kind or doc.get("apiVersion") != "modelops.dev/v1":
                continue
            by_schema = validators[kind].is_valid(doc)
            try:
                DOCUMENTS[kind].model_validate(doc)
                by_model = True
            except ValidationError:
                by_model = False
            checked += 1
            if by_schema != by_model:
                disagreements.append((by_schema, by_model, json.dumps(doc)[:300]))
    assert checked > 2000
    assert disagreements == []


def test_examples_are_valid() -> None:
    for kind, doc in EXAMPLES.items():
        DOCUMENTS[kind].model_validate(doc)


def test_format_helpers_reject_what_patterns_cannot() -> None:
    with pytest.raises(ScalarError):
        parse_url_or_secret("https://user:pass@prometheus:9090")
    with pytest.raises(ScalarError):
        parse_measure(True)
