"""The published JSON Schemas under ajv (draft 2020-12) with ajv-formats, in strict mode with formats asserted: the
validator behind many editors and CI tools, as strict as it is set. The schemas compile (no unknown format, no
keyword out of place), every document of the example repository validates, and on a corpus of structured mistakes
ajv refuses what the schemas refuse and never a document `modelops validate` accepts. (ajv once refused all of them:
`"format": "duration"` is ISO 8601, `PT5M`, not `5m`.)"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from modelops.config.loader import load_text
from modelops.config.repo import discover
from modelops.config.spec.kinds import DOCUMENTS, KINDS, schema_file_name
from pydantic import ValidationError

from tests.support.repo import ROOT
from tests.support.schemas import Editor, corpus, mutations

pytestmark = pytest.mark.slow  # runs node

NODE = shutil.which("node")
SCHEMAS = {kind: json.loads((ROOT / "schemas" / schema_file_name(kind)).read_text(encoding="utf-8")) for kind in KINDS}


def ajv(documents: list[dict[str, Any]], tmp_path: Path) -> list[dict[str, Any]]:
    """ajv's verdict on each document, against the published schema of its kind."""
    if NODE is None:
        pytest.skip("node is not installed")
    given = tmp_path / "documents.json"
    given.write_text(json.dumps({"schemas": {kind: SCHEMAS[kind] for kind in KINDS},
                                 "documents": [{"schema": doc["kind"], "data": doc} for doc in documents]}))
    run = subprocess.run([NODE, str(ROOT / "scripts/schema-check.mjs"), str(given)], capture_output=True, text=True,
                         timeout=600, check=False)
    if run.returncode == 2:
        pytest.skip(f"ajv is not installed: {run.stderr.strip()}")
    assert run.returncode == 0, run.stderr
    verdicts: list[dict[str, Any]] = json.loads(run.stdout)
    return verdicts


def test_every_document_of_the_example_repository_is_valid_under_ajv(tmp_path: Path) -> None:
    documents = [doc.data for rel in discover(ROOT) for doc in load_text(rel, (ROOT / rel).read_bytes()).documents]
    assert {doc["kind"] for doc in documents} == set(KINDS)
    refused = [(doc["kind"], doc["metadata"]["name"], v["errors"])
               for doc, v in zip(documents, ajv(documents, tmp_path), strict=True) if not v["valid"]]
    assert refused == []


def _accepted(doc: dict[str, Any]) -> bool:
    try:
        DOCUMENTS[doc["kind"]].model_validate(doc)
    except ValidationError:
        return False
    return True


def test_ajv_refuses_what_the_schemas_refuse_and_never_what_validate_accepts(tmp_path: Path) -> None:
    documents = [doc for base in corpus() for doc in [base, *mutations(base)]
                 if doc.get("kind") == base["kind"] and doc.get("apiVersion") == "modelops.dev/v1"]
    verdicts = ajv(documents, tmp_path)
    editors = {kind: Editor(schema) for kind, schema in SCHEMAS.items()}
    refused_valid = [json.dumps(doc)[:300] for doc, v in zip(documents, verdicts, strict=True)
                     if not v["valid"] and _accepted(doc)]
    disagree = [(v["valid"], json.dumps(doc)[:300]) for doc, v in zip(documents, verdicts, strict=True)
                if v["valid"] != editors[doc["kind"]].is_valid(doc)]
    assert len(documents) > 2000
    assert sum(not v["valid"] for v in verdicts) > 1000  # the mistakes are mistakes to ajv too
    assert refused_valid == []
    assert disagree == []
