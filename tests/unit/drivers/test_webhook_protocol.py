"""docs/webhook-protocol.md holds: every request the webhook driver sends and every answer the suite's loopback
platform gives validate against the JSON Schemas in schemas/webhook/, through a whole apply."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.support.http import shut
from tests.support.platform import Platform, serve, staging_on_webhook
from tests.support.repo import ROOT, Result

SCHEMAS = ROOT / "schemas" / "webhook"


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(name: str, instance: Any) -> list[str]:
    return [error.message for error in validator(name).iter_errors(instance)]


@pytest.fixture
def platform(served_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    platform = Platform()
    server, url = serve(platform)
    monkeypatch.setenv("DEPLOY_WEBHOOK_URL", url)
    staging_on_webhook(served_repo, "DEPLOY_WEBHOOK_URL", max_retries=1)
    yield platform
    shut(server)


def test_every_request_and_answer_of_an_apply_follows_the_schemas(served_repo: Path, platform: Platform,
                                                                  cli: Callable[..., Result]) -> None:
    done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert done.code == 0, done.output
    assert platform.bodies, "the apply sent nothing"
    for body in platform.bodies:
        assert errors("operation", body) == [], body
        assert body["idempotency_key"] == platform.headers[platform.bodies.index(body)]["Idempotency-Key"]
    assert {b["operation"] for b in platform.bodies} >= {"deploy", "traffic", "policy"}
    assert errors("operation-result", {"status": "succeeded", "detail": "deploy done"}) == []
    assert platform.observed >= 2  # the plan shown, then the refresh under the lock
    listing = {"environment": "staging", "models": {n: {"slots": e["slots"], "traffic": e["traffic"]}
                                                    for n, e in platform.models.items()}}
    assert errors("models", listing) == []


def test_the_schemas_refuse_what_the_protocol_does_not_allow() -> None:
    assert errors("operation", {"operation": "explode", "environment": "staging", "target": "m", "args": {},
                                "idempotency_key": "k"})
    assert errors("operation", {"operation": "traffic", "environment": "staging", "target": "m",
                                "args": {"weights": {"red": 50}, "switch": False}, "idempotency_key": "k"})
    assert errors("operation-result", {"status": "pending"})  # a pending answer must say where to poll
    assert errors("models", {"models": {"m": {"slots": {"blue": {"version": "1"}}, "traffic": {}}}})
