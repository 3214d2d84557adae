"""Property-based check that the spec models (what validate enforces) and the published JSON Schemas (what
editors and CI tools enforce) accept and reject the same documents, on structured mutations of every
document of the example repository. tests/unit/config/test_schemas.py walks a fixed mutation corpus; this
reaches values that corpus does not hold (hostile unicode, huge and negative numbers, plain tokens)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from modelops.config.spec.kinds import DOCUMENTS, KINDS
from pydantic import ValidationError

from tests.support.repo import ROOT
from tests.support.schemas import Exact
from tests.support.yamlgen import MUTATIONS, corpus, fuzz_examples, mutated, plain, strings_of

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")]

FILES = corpus(ROOT)
DOCS = [doc for f in FILES for doc in f.documents]
STRINGS = strings_of(FILES)
# An alias bomb is the loader's to refuse (MO009); expanded into plain values it would only cost time here.
OPS = tuple(op for op in MUTATIONS if op != "bomb")


def _validators() -> dict[str, Any]:
    from modelops.config.schemas import schema_for

    return {kind: Exact(schema_for(kind)) for kind in KINDS}


VALIDATORS = _validators()


def accepted_by_model(kind: str, doc: dict[str, Any]) -> bool:
    try:
        DOCUMENTS[kind].model_validate(doc)
    except ValidationError:
        return False
    return True


@settings(max_examples=1500 * fuzz_examples(), derandomize=True, database=None, deadline=None, print_blob=False,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_models_and_schemas_agree_on_fuzzed_documents(data: st.DataObject) -> None:
    base = data.draw(st.sampled_from(DOCS))
    doc = plain(data.draw(mutated(base, STRINGS, OPS)))
    if not isinstance(doc, dict) or doc.get("kind") != base["kind"] or doc.get("apiVersion") != "modelops.dev/v1":
        return  # kind and apiVersion choose the schema; validate reports those before either is consulted
    kind = base["kind"]
    by_schema = VALIDATORS[kind].is_valid(doc)
    by_model = accepted_by_model(kind, doc)
    assert by_schema == by_model, (f"schema says {by_schema}, model says {by_model}: "
                                   f"{json.dumps(doc, default=repr, ensure_ascii=True)[:2000]}")
