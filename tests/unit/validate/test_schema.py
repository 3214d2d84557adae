"""Layer 2 rules with their exact code, message and location, each shown on a one-line edit of the example
repository: semantic versions, unknown kinds with their suggestion, and bounded canary weights."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.base.diagnostics import Diagnostic
from modelops.validate.repo import validate_repo

from tests.support.repo import edit
from tests.unit.validate.test_semantic import FRAUD

Located = tuple[str, str | None, int | None, str, str]


def located(diagnostic: Diagnostic) -> Located:
    return (diagnostic.code, diagnostic.file, diagnostic.line, diagnostic.path, diagnostic.message)


def errors(repo: Path) -> list[Located]:
    return [located(d) for d in validate_repo(repo).diagnostics if d.severity.value == "error"]


@pytest.mark.parametrize(("version", "message"), [
    ("3.2.0.1", 'invalid semantic version "3.2.0.1": expected MAJOR.MINOR.PATCH (three numbers), such as "1.4.2"'),
    ('"3.2"', 'invalid semantic version "3.2": expected MAJOR.MINOR.PATCH (three numbers), such as "1.4.2"'),
    ("3.2", 'expected a version such as "1.4.2", got the number 3.2; write all three parts of a semantic version '
            'and quote it (any version: quote it)'),
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


RECOMMENDER = "environments/staging/models/recommender.yaml"
PING = "http: {path: /ping, expectStatus: 200, expectBodyContains: Healthy}"


@pytest.mark.parametrize(("headers", "message"), [
    ('{Authorization: "Bearer sk-live-abc"}', "literal value in the Authorization header, which carries a credential"),
    ("{X-Api-Key: abc123}", "literal value in the X-Api-Key header, which carries a credential"),
    ("{Cookie: session=1}", "literal value in the Cookie header, which carries a credential"),
    ('{X-Auth-Token: "Bearer ${env:A} extra"}', "literal value in the X-Auth-Token header"),
    ('{Authorization: "Bearer ${MODEL_TOKEN}"}', 'malformed secret reference: write "${env:MODEL_TOKEN}"'),
])
def test_a_credential_header_takes_a_reference(repo: Path, headers: str, message: str) -> None:
    edit(repo, RECOMMENDER, PING, PING[:-1] + f", headers: {headers}}}")
    found = errors(repo)
    assert [(f[0], f[1], f[2]) for f in found] == [("MO109", RECOMMENDER, 22)]
    assert found[0][3].startswith("/spec/tests/0/http/headers/") and found[0][4].startswith(message)


def test_headers_with_references_or_without_credentials_are_valid(repo: Path) -> None:
    edit(repo, RECOMMENDER, PING, PING[:-1] + ', headers: {Authorization: "Bearer ${env:MODEL_TOKEN}", '
         'X-Api-Key: "${env:MODEL_KEY}", Accept: text/plain}}')
    result = validate_repo(repo)
    assert result.valid, result.diagnostics
    model = next(d for d in result.documents if d.source.file == RECOMMENDER)
    headers = model.spec.tests[0].http.headers
    assert {k: str(v) for k, v in headers.items()} == {"Authorization": "Bearer ${env:MODEL_TOKEN}",
                                                       "X-Api-Key": "${env:MODEL_KEY}", "Accept": "text/plain"}
    assert {r.variable for v in headers.values() for r in v.refs} == {"MODEL_TOKEN", "MODEL_KEY"}


SLO = "policies/alerts/model-slo.yaml"
SENTIMENT = "environments/staging/models/sentiment.yaml"


def hints(repo: Path) -> list[tuple[str, int | None, str, str | None]]:
    return [(d.code, d.line, d.message, d.hint) for d in validate_repo(repo).diagnostics]


def test_a_quoted_number_threshold_of_a_ratio_is_mo104_with_a_hint_to_unquote(repo: Path) -> None:
    edit(repo, SLO, "above: {warning: 0.02, critical: 0.05}", 'above: {warning: "0.02", critical: 0.05}')
    assert hints(repo) == [("MO104", 16, 'expected a number (error_rate is a ratio, 0-1), got the string "0.02"',
                            "remove the quotes around the number")]


@pytest.mark.parametrize(("old", "new", "code", "message"), [
    # the threshold type is number | duration for every metric: the message follows the rule's metric instead
    ("above: {warning: 0.02, critical: 0.05}", "above: {warning: 0.02, critical: high}", "MO104",
     'expected a number (error_rate is a ratio, 0-1), got the string "high"'),
    ("above: {warning: 0.02, critical: 0.05}", "above: {warning: 0.02, critical: 5 mins}", "MO104",
     'expected a number (error_rate is a ratio, 0-1), got the string "5 mins"'),
    ("above: {warning: 0.01}", "above: {warning: cheap}", "MO104",
     'expected a number (cost_per_request is in USD), got the string "cheap"'),
    ("below: {warning: 1}", "below: {warning: [1]}", "MO104",
     "expected a number (throughput is in requests per second), got a list"),
    ("above: {warning: 500ms, critical: 2s}", "above: {warning: 500ms, critical: high}", "MO106",
     'expected a duration such as 500ms or a number of seconds (response_time is a time), got the string "high"'),
    ("above: {warning: 500ms, critical: 2s}", "above: {warning: 500ms, critical: true}", "MO104",
     "expected a duration such as 500ms or a number of seconds (response_time is a time), got the boolean true"),
    # a time metric's text that starts like a duration: the duration parser says what is wrong with it
    ("above: {warning: 500ms, critical: 2s}", "above: {warning: 500ms, critical: 2 secs}", "MO106",
     'invalid duration "2 secs": expected numbers with units ms, s, m, h, d or w, such as "30s", "5m", "1h30m"'),
    ("above: {warning: 500ms, critical: 2s}", 'above: {warning: 500ms, critical: " 2s"}', "MO106",
     '" 2s" has spaces or line breaks around it: remove them'),
])
def test_a_bad_threshold_says_what_the_metric_expects(repo: Path, old: str, new: str, code: str,
                                                       message: str) -> None:
    edit(repo, SLO, old, new)
    assert [(h[0], h[2]) for h in hints(repo)] == [(code, message)]


def test_a_bad_threshold_of_a_raw_query_names_both_forms(repo: Path) -> None:
    edit(repo, SLO, "      metric: error_rate\n      above: {warning: 0.02, critical: 0.05}",
         '      query: "sum(rate(errors[5m]))"\n      above: {warning: 0.02, critical: high}')
    assert [(h[0], h[2]) for h in hints(repo)] == [
        ("MO106", 'expected a number in the unit of the query, or a duration such as 500ms, got the string "high"')]


def test_a_threshold_that_is_neither_is_mo106_without_that_hint(repo: Path) -> None:
    edit(repo, SLO, "above: {warning: 500ms, critical: 2s}", "above: {warning: lots, critical: 2s}")
    assert [(h[0], h[3]) for h in hints(repo)] == [("MO106", None)]


@pytest.mark.parametrize(("port", "hint"), [('"8000"', "remove the quotes around the number"), ("nope", None)])
def test_the_unquote_hint_is_given_only_for_a_quoted_number(repo: Path, port: str, hint: str | None) -> None:
    edit(repo, SENTIMENT, "port: 8000", f"port: {port}")
    assert [(h[0], h[3]) for h in hints(repo)] == [("MO104", hint)]


GPU = "policies/scaling/gpu-standard.yaml"


@pytest.mark.parametrize(("cron", "message"), [
    ("'61 8 * * 1-5'", 'invalid cron expression "61 8 * * 1-5": minute 61 is out of range 0-59'),
    ("'0 8 * * MON-SUN'", 'invalid cron expression "0 8 * * MON-SUN": day of week range "MON-SUN" goes backwards: '
                          "write the smaller value first"),
    ("'0 8 * *'", 'cron expression "0 8 * *" has 4 fields; expected 5 (minute, hour, day of month, month, day of '
                  'week), such as "0 8 * * 1-5"'),
])
def test_a_cron_field_out_of_range_is_mo105_at_the_schedule(repo: Path, cron: str, message: str) -> None:
    edit(repo, GPU, '{cron: "0 8 * * 1-5"', f"{{cron: {cron}")
    assert errors(repo) == [("MO105", GPU, 14, "/spec/schedule/0/cron", message)]


def test_a_key_in_the_python_spelling_is_unknown_as_the_published_schema_says(repo: Path) -> None:
    """The spec models also accept field names (for the engine's own code); YAML is validated by alias only, so
    `preview_tests` is the typo the schema (and an editor) calls it, not a silent synonym of previewTests."""
    edit(repo, "environments/staging/models/sentiment.yaml", "previewTests:", "preview_tests:")
    [(code, file, line, path, message)] = errors(repo)
    assert (code, file, line, path) == ("MO103", "environments/staging/models/sentiment.yaml", 20,
                                        "/spec/strategy/blueGreen/preview_tests")
    assert message.endswith('unknown field "preview_tests" (did you mean "previewTests"?)')
