"""Layer 4: a guardrail's `require` schema is judged on its own text (no network, no files), and its violations
name the guardrail with short JSON values."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.validate.repo import validate_repo

from tests.support.repo import write

GUARDRAIL = "policies/guardrails/extra.yaml"


def guardrail(repo: Path, require: str) -> None:
    write(repo, GUARDRAIL, "apiVersion: modelops.dev/v1\nkind: Guardrail\nmetadata: {name: extra}\nspec:\n"
          "  match: {kinds: [Model]}\n  severity: error\n  message: extra rule\n"
          f"  require:\n{require}")


def problems(repo: Path) -> list[tuple[str, str | None, int | None, str]]:
    return [(d.code, d.file, d.line, d.message) for d in validate_repo(repo).diagnostics]


@pytest.mark.parametrize("ref", ["https://example.com/schema.json", "file:///etc/passwd", "other.json"])
def test_a_reference_to_another_document_is_refused_where_it_is_written(repo: Path, ref: str) -> None:
    guardrail(repo, f"    properties:\n      spec: {{$ref: \"{ref}\"}}\n")
    assert problems(repo) == [("MO302", GUARDRAIL, 10,
                               f'guardrail "extra": $ref "{ref}" refers to another document; a guardrail may refer '
                               'only within its own require, such as "#/$defs/name" (no network or file access)')]


def test_a_local_reference_to_nothing_is_refused(repo: Path) -> None:
    guardrail(repo, "    properties:\n      spec: {$ref: \"#/$defs/nope\"}\n")
    assert problems(repo) == [("MO302", GUARDRAIL, 10,
                               'guardrail "extra": $ref "#/$defs/nope" points at nothing in require')]


def test_a_reference_under_a_nested_id_that_resolves_to_nothing_is_refused(repo: Path) -> None:
    # "#/$defs/a" exists at the root, but under the nested $id it means that subschema's own /$defs/a
    guardrail(repo, "    $defs: {a: {}}\n    properties:\n      spec: {$id: \"https://example.com/s\", "
              "$ref: \"#/$defs/a\"}\n")
    assert problems(repo) == [("MO302", GUARDRAIL, 9,
                               'guardrail "extra": require has a $ref that points at nothing: "/$defs/a"')]


def test_a_local_reference_is_followed(repo: Path) -> None:
    refer = "    properties:\n      metadata: {$ref: \"#/$defs/owned\"}\n"
    guardrail(repo, "    $defs: {owned: {required: [labels]}}\n" + refer)
    assert validate_repo(repo).valid
    guardrail(repo, "    $defs: {owned: {required: [owner]}}\n" + refer)
    assert {p[0] for p in problems(repo)} == {"MO301"}


def test_a_violation_shows_values_as_short_json(repo: Path) -> None:
    guardrail(repo, "    properties:\n      spec:\n        properties:\n          serving: {type: string}\n")
    messages = {p[3] for p in problems(repo) if p[1] == "environments/production/models/sentiment.yaml"}
    assert messages == {'guardrail "extra": extra rule (spec.serving must be of type "string", got {"runtime": '
                        '"vllm", "image": "vllm/vllm-openai:v0.6.3", "po…)'}


def test_an_enum_violation_names_the_allowed_values_in_json(repo: Path) -> None:
    guardrail(repo, "    properties:\n      metadata:\n        properties:\n          labels:\n"
              "            properties: {tier: {enum: [gold, platinum]}}\n")
    messages = {p[3] for p in problems(repo) if p[1] == "environments/staging/models/summarizer.yaml"}
    assert messages == {'guardrail "extra": extra rule (metadata.labels.tier must be one of ["gold", "platinum"], '
                        'got "bronze")'}
