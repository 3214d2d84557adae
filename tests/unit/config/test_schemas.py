"""The published JSON Schemas and the pydantic spec models must accept and reject the same documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from modelops.config.scalars import ScalarError
from modelops.config.scalars.cron import parse_cron
from modelops.config.schemas import EXAMPLES, render, schema_for
from modelops.config.spec.http import parse_url_or_secret
from modelops.config.spec.kinds import DOCUMENTS, KINDS, schema_file_name
from modelops.config.spec.types import parse_measure
from pydantic import ValidationError

from tests.support.repo import ROOT
from tests.support.schemas import VERSIONED, Exact, corpus, mutations


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
    # `true` names a key a `required` beside it needs (ajv's strictRequired); the key itself is described above
    undocumented = [path for path, prop in _properties(schema) if prop is not True and "description" not in prop]
    assert undocumented == []
    closed = [name for name, d in schema.get("$defs", {}).items() if d.get("type") == "object"
              and d.get("additionalProperties") is not False]
    assert closed == []


#: Keywords whose subschemas only constrain properties declared (and described) elsewhere.
_CONSTRAINTS = ("allOf", "if", "then", "else", "not", "dependentSchemas")


def _properties(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            yield f"{path}/{name}", prop
        for key, value in node.items():
            if key not in ("examples", "default", *_CONSTRAINTS):
                yield from _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _properties(item, f"{path}/{i}")


def _validators() -> dict[str, Any]:
    return {kind: Exact(schema_for(kind)) for kind in KINDS}


def test_models_and_schemas_agree_on_a_mutated_corpus() -> None:
    validators = _validators()
    checked, disagreements = 0, []
    for base in corpus():
        kind = base["kind"]
        for doc in [base, *mutations(base)]:
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
    for doc in VERSIONED:
        DOCUMENTS["Model"].model_validate(doc)


def test_format_helpers_reject_what_patterns_cannot() -> None:
    with pytest.raises(ScalarError):
        parse_url_or_secret("https://user:pass@prometheus:9090")
    with pytest.raises(ScalarError):
        parse_measure(True)


CRONS = ["0 8 * * 1-5", "*/15 9-17 * JAN-MAR MON,wed,Fri", "0 0 1,15 * 0", "59 23 31 12 7", "5/15 * * * *",
         "0 8 * * SUN-SAT", "00 08 01 01 00", "0\t8 * * *", "0  8 * * *",
         "60 8 * * *", "0 24 * * *", "0 8 0 * *", "0 8 32 * *", "0 8 * 0 *", "0 8 * 13 *", "0 8 * * 8",
         "0 8 * * 1-5 2026", "0 8 * *", "*/0 * * * *", "*/60 * * * *", "0 */24 * * *", "0 8 * */13 *",
         "1,,2 * * * *", "1- * * * *", "-1 * * * *", "x 8 * * *", "0 8 * JANUARY *", "0 8 * * MON-", "007 8 * * *",
         "0 8 ? * *", "@daily", "0 8 * * ſun", "0 8 * * １", "0\u00a08 * * *", "0 8 * * *\n"]


@pytest.mark.parametrize("text", CRONS)
def test_the_cron_pattern_checks_every_field_range_as_the_parser_does(text: str) -> None:
    # the pattern (what editors and validators enforce) agrees with parse_cron on everything but a range that goes
    # backwards, which only validate (the parser) refuses
    schema = schema_for("ScalingPolicy")["$defs"]["Schedule"]["properties"]["cron"]
    by_pattern = Draft202012Validator({"type": "string", "pattern": schema["pattern"].replace("$", r"\Z")}).is_valid(
        text)
    try:
        parse_cron(text)
        by_parser = True
    except ScalarError:
        by_parser = False
    assert by_pattern == by_parser


@pytest.mark.parametrize("text", ["5-1 * * * *", "0 8 * DEC-JAN *", "0 8 * * FRI-MON"])
def test_a_backwards_cron_range_is_refused_by_validate_though_the_pattern_cannot_express_it(text: str) -> None:
    schema = schema_for("ScalingPolicy")["$defs"]["Schedule"]["properties"]["cron"]
    assert Draft202012Validator(schema).is_valid(text)
    with pytest.raises(ScalarError, match="goes backwards"):
        parse_cron(text)


def _formats(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            yield node["format"]
        for key, value in node.items():
            if key not in ("examples", "default", "const", "enum"):
                yield from _formats(value)
    elif isinstance(node, list):
        for item in node:
            yield from _formats(item)


@pytest.mark.parametrize("kind", KINDS)
def test_schemas_use_no_format_a_format_asserting_validator_reads_otherwise(kind: str) -> None:
    # ajv with ajv-formats refuses a schema with a format it does not know, and reads the standard names by the
    # standard: `duration` is ISO 8601 (PT5M), so it refused every `5m`. Only date-time is used, as RFC 3339 says.
    assert set(_formats(schema_for(kind))) <= {"date-time"}
