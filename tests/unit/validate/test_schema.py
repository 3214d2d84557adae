"""Layer 2 rules with their exact code, message and location, each shown on a one-line edit of the example
repository: semantic versions, unknown kinds with their suggestion, and bounded canary weights."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.diagnostics import Diagnostic
from engine.validate import validate_repo
from tests.unit.validate.test_semantic import FRAUD, edit

Located = tuple[str, str | None, int | None, str, str]


def located(diagnostic: Diagnostic) -> Located:
    return (diagnostic.code, diagnostic.file, diagnostic.line, diagnostic.path, diagnostic.message)


def errors(repo: Path) -> list[Located]:
    return [located(d) for d in validate_repo(repo).diagnostics if d.severity.value == "error"]


@pytest.mark.parametrize(("version", "message"), [
    ("3.2.0.1", 'invalid semantic version "3.2.0.1": expected MAJOR.MINOR.PATCH (three numbers), such as "1.4.2"'),
    ('"3.2"', 'invalid semantic version "3.2": expected MAJOR.MINOR.PATCH (three numbers), such as "1.4.2"'),
    ("3.2", 'expected a semantic version such as "1.4.2", got the number 3.2; write all three parts and quote it'),
    ("v3.2.0", 'semantic versions have no "v" prefix: write "3.2.0" instead of "v3.2.0"'),
    ("03.2.0", 'invalid semantic version "03.2.0": numbers must not have leading zeros'),
    ("3.2.0-", 'invalid semantic version "3.2.0-": expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], such as '
               '"2.0.0-rc.1"'),
    ('"3.2.0 "', '"3.2.0 " has spaces or line breaks around it: remove them'),
])
def test_a_bad_model_version_is_mo108_at_spec_version(repo: Path, version: str, message: str) -> None:
    edit(repo, FRAUD, "version: 3.2.0", f"version: {version}")
    assert errors(repo) == [("MO108", FRAUD, 8, "/spec/version", message)]


@pytest.mark.parametrize(("kind", "message"), [
    ("Modle", 'unknown kind "Modle" (did you mean "Model"?)'),
    ("model", 'unknown kind "model" (did you mean "Model"?)'),
    ("Deployment", 'unknown kind "Deployment"'),  # nothing close: no suggestion rather than a wild guess
])
def test_an_unknown_kind_suggests_the_closest_one(repo: Path, kind: str, message: str) -> None:
    edit(repo, FRAUD, "kind: Model", f"kind: {kind}")
    result = validate_repo(repo)
    (unknown,) = result.diagnostics
    assert located(unknown) == ("MO101", FRAUD, 3, "/kind", message)
    assert unknown.hint == "kinds: Environment, Model, AlertPolicy, EscalationPolicy, ScalingPolicy, Guardrail"


def test_a_canary_weight_over_100_is_refused_at_its_step(repo: Path) -> None:
    edit(repo, FRAUD, "- setWeight: 50", "- setWeight: 150")
    assert errors(repo) == [("MO105", FRAUD, 25, "/spec/strategy/canary/steps/3/setWeight",
                             "must be at most 100 (got 150)")]


def test_a_canary_may_end_at_exactly_100(repo: Path) -> None:
    edit(repo, FRAUD, "- setWeight: 50", "- setWeight: 100")
    assert validate_repo(repo).valid
