"""Layer 3 and 4 rules, each shown on a one-line edit of the example repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.validate.repo import validate_repo

from tests.support.repo import edit, write

SENTIMENT = "environments/production/models/sentiment.yaml"
FRAUD = "environments/staging/models/fraud-detector.yaml"
ONCALL = "policies/escalation/ml-oncall.yaml"


def found(repo: Path) -> list[tuple[str, str, str | None, int | None, str]]:
    return [(d.severity.value, d.code, d.file, d.line, d.message) for d in validate_repo(repo).diagnostics]


def test_example_repository_is_valid(repo: Path) -> None:
    result = validate_repo(repo)
    assert result.valid
    assert result.diagnostics == ()
    assert result.counts == {"Environment": 2, "Model": 9, "AlertPolicy": 2, "EscalationPolicy": 2,
                             "ScalingPolicy": 2, "Guardrail": 2}


@pytest.mark.parametrize(("rel", "old", "new", "code", "message"), [
    (SENTIMENT, "scaling: gpu-standard", "scaling: gpu-standrad", "MO201",
     'unknown ScalingPolicy "gpu-standrad" (did you mean "gpu-standard"?)'),
    (SENTIMENT, "alerts: [model-slo, infrastructure]", "alerts: [model-slo, infra]", "MO201",
     'unknown AlertPolicy "infra" (did you mean "infrastructure"?)'),
    (SENTIMENT, "escalation: ml-oncall", "escalation: ml-on-call", "MO201",
     'unknown EscalationPolicy "ml-on-call" (did you mean "ml-oncall"?)'),
    (SENTIMENT, "previewTests: [smoke, eval]", "previewTests: [smoke, evals]", "MO201",
     'unknown test "evals" (did you mean "eval"?)'),
    (SENTIMENT, "postPromotionAnalysis: [slo]", "postPromotionAnalysis: [slos]", "MO201",
     'unknown analysis "slos" (did you mean "slo"?)'),
    (FRAUD, "- analysis: error-budget", "- analysis: error-budgte", "MO201",
     'unknown analysis "error-budgte" (did you mean "error-budget"?)'),
    (FRAUD, "- setWeight: 50", "- setWeight: 5", "MO204", "canary weight 5 does not increase on the previous 10"),
    ("environments/production/environment.yaml", "promotesFrom: staging", "promotesFrom: stagign", "MO201",
     'unknown Environment "stagign" (did you mean "staging"?)'),
    ("environments/production/environment.yaml", "promotesFrom: staging", "promotesFrom: production", "MO208",
     'environment "production" promotes from itself'),
    ("environments/production/environment.yaml", 'to: "2028-01-04T00:00:00Z"', 'to: "2027-01-04T00:00:00Z"',
     "MO207", "freeze window ends (2027-01-04T00:00:00+00:00) before it starts (2027-12-20T00:00:00+00:00)"),
    ("environments/staging/environment.yaml", "name: staging", "name: stage", "MO203",
     'environment "stage" lives in environments/staging/'),
    ("policies/scaling/cpu-burst.yaml", "minReplicas: 3", "minReplicas: 50", "MO205",
     "minReplicas (50) is greater than maxReplicas (40)"),
    (ONCALL, "repeat: 4h", "repeat: 1m", "MO206", "repeat (1m) is shorter than interval (5m)"),
    (ONCALL, "channels: [pager, slack-ml, incidents]", "channels: [pagr, slack-ml, incidents]", "MO201",
     'unknown channel "pagr" (did you mean "pager"?)'),
    (ONCALL, "match: {severity: critical}", "match: {severity: crit}", "MO105",
     'invalid severity "crit" (did you mean "critical"?)'),
    ("policies/alerts/infrastructure.yaml", "above: {warning: 80, critical: 95}",
     "above: {warning: 96, critical: 95}", "MO209", "warning threshold 96 is above critical 95"),
    ("policies/alerts/model-slo.yaml", "below: {warning: 1}", "below: {warning: 1, critical: 2}", "MO209",
     "warning threshold 1 is below critical 2"),
    ("policies/alerts/infrastructure.yaml", "above: {warning: 80, critical: 90}",
     "above: {warning: 80, critical: .inf}", "MO209", "critical threshold must be a finite number"),
    ("policies/alerts/infrastructure.yaml", "above: {warning: 80, critical: 90}",
     "above: {warning: 5m, critical: 90}", "MO212", 'disk_usage is measured in percent, not time: "5m" does not fit'),
    ("policies/guardrails/ownership.yaml", "match: {kinds: [Model]}", "match: {environments: [prod]}", "MO201",
     'unknown Environment "prod" (did you mean "production"?)'),
])
def test_semantic_rules(repo: Path, rel: str, old: str, new: str, code: str, message: str) -> None:
    edit(repo, rel, old, new)
    problems = [p for p in found(repo) if p[1] == code]
    assert [(p[2], p[4]) for p in problems] == [(rel, message)]


def test_duplicate_names_point_at_the_second_definition(repo: Path) -> None:
    original = (repo / SENTIMENT).read_text(encoding="utf-8")
    write(repo, "environments/production/models/sentiment-copy.yaml", original)
    problems = [p for p in found(repo) if p[1] == "MO202"]
    assert problems == [("error", "MO202", "environments/production/models/sentiment.yaml", 5,
                         'duplicate Model "sentiment" in environment production: also defined at '
                         "environments/production/models/sentiment-copy.yaml:2")]


def test_the_same_model_name_in_two_environments_is_fine(repo: Path) -> None:
    assert (repo / "environments/staging/models/sentiment.yaml").exists()
    assert validate_repo(repo).valid


def test_promotion_cycle(repo: Path) -> None:
    edit(repo, "environments/staging/environment.yaml", "  approval: none",
         "  approval: none\n  promotesFrom: production")
    cycles = [p[4] for p in found(repo) if p[1] == "MO208"]
    assert cycles == ["promotion chain has a cycle: production <- staging <- production"]


def test_model_without_environment_file(repo: Path) -> None:
    (repo / "environments/staging/environment.yaml").unlink()
    messages = {p[4] for p in found(repo) if p[1] == "MO201"}
    assert messages == {'model belongs to environment "staging", which has no environment.yaml',
                        'unknown Environment "staging"'}


def test_a_renamed_environment_is_only_mo203(repo: Path) -> None:
    # environments/staging/environment.yaml exists: "create it" (MO201 on its models, and on production's
    # promotesFrom) would send the user after a file that is there; MO203 names the real problem
    edit(repo, "environments/staging/environment.yaml", "name: staging", "name: stage")
    assert [(p[1], p[2], p[4]) for p in found(repo)] == [
        ("MO203", "environments/staging/environment.yaml", 'environment "stage" lives in environments/staging/')]


def test_models_beside_an_empty_environment_file_still_have_no_environment(repo: Path) -> None:
    (repo / "environments/staging/environment.yaml").write_text("# nothing yet\n", encoding="utf-8")
    codes = {p[1] for p in found(repo)}
    assert {"MO013", "MO201"} <= codes


def test_broken_policy_file_does_not_cascade_into_reference_errors(repo: Path) -> None:
    (repo / "policies/scaling/gpu-standard.yaml").write_text("apiVersion: modelops.dev/v1\nkind: [\n")
    problems = found(repo)
    assert [p[1] for p in problems] == ["MO001"]


def test_schema_invalid_policy_does_not_cascade_either(repo: Path) -> None:
    edit(repo, "policies/scaling/gpu-standard.yaml", "maxReplicas: 20", "maxReplicas: twenty")
    assert [p[1] for p in found(repo)] == ["MO104"]


def test_unused_channel_is_a_warning(repo: Path) -> None:
    edit(repo, ONCALL, "channels: [pager, slack-ml, incidents]", "channels: [pager, slack-ml]")
    edit(repo, ONCALL, "- channels: [pager, incidents]", "- channels: [pager]")  # the escalation's
    result = validate_repo(repo)
    assert result.valid
    assert [(d.severity.value, d.code, d.message) for d in result.diagnostics] == [
        ("warning", "MO210", 'channel "incidents" is not used by any route or escalation')]


def test_webhook_driver_needs_its_settings(repo: Path) -> None:
    edit(repo, "environments/staging/environment.yaml", "driver: local", "driver: webhook")
    assert [p[4] for p in found(repo)] == ['missing required field "webhook" for driver webhook']


@pytest.mark.parametrize(("directory", "hint"), [
    ("staging-eu", "rename the directory to staging or set metadata.name: staging-eu"),
    ("Staging_EU", "rename the directory to staging (or to a DNS-1123 label such as staging-eu, and set "
                   "metadata.name to match)"),
])
def test_an_environment_in_another_directory_gets_a_hint_that_validates(repo: Path, directory: str, hint: str) -> None:
    (repo / "environments/staging").rename(repo / "environments" / directory)
    mismatch = [d for d in validate_repo(repo).diagnostics if d.code == "MO203"]
    assert [(d.file, d.hint) for d in mismatch] == [(f"environments/{directory}/environment.yaml", hint)]


def test_error_guardrail_blocks_and_names_itself(repo: Path) -> None:
    edit(repo, "environments/production/models/recommender.yaml",
         "  strategy:\n    rolling: {maxUnavailable: 0, maxSurge: 1, previewTests: [ping]}\n", "")
    problems = found(repo)
    assert problems == [("error", "MO301", "environments/production/models/recommender.yaml", 7,
                         'guardrail "production-safety": production models need a progressive strategy, a pinned '
                         "artifact digest and an escalation policy (spec needs strategy)")]


def test_guardrail_only_matches_its_environment(repo: Path) -> None:
    edit(repo, "environments/staging/models/recommender.yaml",
         "  strategy:\n    rolling: {maxUnavailable: 0, maxSurge: 1, previewTests: [ping]}\n", "")
    assert validate_repo(repo).valid


def test_warning_guardrail_reports_without_failing(repo: Path) -> None:
    edit(repo, "environments/staging/models/embedder.yaml", "labels: {team: nlp, tier: silver}",
         "labels: {tier: silver}")
    result = validate_repo(repo)
    assert result.valid
    assert [(d.severity.value, d.code, d.line) for d in result.diagnostics] == [("warning", "MO301", 6)]


def test_invalid_guardrail_schema(repo: Path) -> None:
    edit(repo, "policies/guardrails/ownership.yaml", "required: [labels]", "required: labels")
    problems = found(repo)
    assert [(p[1], p[3]) for p in problems] == [("MO302", 13)]


def test_guardrail_selected_by_labels_applies_only_to_models_carrying_them(repo: Path) -> None:
    write(repo, "policies/guardrails/bronze.yaml",
          "apiVersion: modelops.dev/v1\nkind: Guardrail\nmetadata: {name: bronze-oncall}\nspec:\n"
          "  match: {kinds: [Model], labels: {tier: bronze}}\n  severity: error\n"
          "  message: bronze models name their on-call\n"
          "  require: {properties: {metadata: {properties: {labels: {required: [oncall]}}}}}\n")
    summarizer = "environments/staging/models/summarizer.yaml"
    flagged = [(p[1], p[2], p[3]) for p in found(repo) if "bronze-oncall" in p[4]]
    assert flagged == [("MO301", summarizer, 6)]  # no model has an oncall label; only summarizer is bronze
    edit(repo, summarizer, "  labels: {team: nlp, tier: bronze}\n", "")
    left = [(p[0], p[1], p[2], p[4].split(":")[0]) for p in found(repo)]
    assert left == [("warning", "MO301", summarizer, 'guardrail "ownership"')]  # only the unlabelled-model warning


# -- documents with schema errors still get their references and orderings checked -----------------------------

PROD_SENTIMENT = "environments/production/models/sentiment.yaml"


def codes_at(repo: Path) -> list[tuple[str, str | None, str]]:
    return [(d.code, d.path, d.message) for d in validate_repo(repo).diagnostics]


def test_a_canary_weight_over_100_does_not_hide_a_decrease(repo: Path) -> None:
    edit(repo, FRAUD, "        - setWeight: 10\n", "")
    edit(repo, FRAUD, "- setWeight: 50\n", "- setWeight: 50\n        - setWeight: 20\n        - setWeight: 120\n")
    assert codes_at(repo) == [
        ("MO204", "/spec/strategy/canary/steps/3/setWeight", "canary weight 20 does not increase on the previous 50"),
        ("MO105", "/spec/strategy/canary/steps/4/setWeight", "must be at most 100 (got 120)"),
    ]


def test_a_bad_duration_does_not_hide_the_strategy_references(repo: Path) -> None:
    edit(repo, PROD_SENTIMENT, "previewTests: [smoke, eval]", "previewTests: [smok, eval]\n      "
         "prePromotionAnalysis: [nope]")
    edit(repo, PROD_SENTIMENT, "postPromotionAnalysis: [slo]", "postPromotionAnalysis: [slos]")
    edit(repo, PROD_SENTIMENT, "scaleDownDelay: 10m", "scaleDownDelay: 10 minutes")
    assert [(c, p) for c, p, _ in codes_at(repo)] == [
        ("MO201", "/spec/strategy/blueGreen/previewTests/0"),
        ("MO201", "/spec/strategy/blueGreen/prePromotionAnalysis/0"),
        ("MO106", "/spec/strategy/blueGreen/scaleDownDelay"),
        ("MO201", "/spec/strategy/blueGreen/postPromotionAnalysis/0"),
    ]


@pytest.mark.parametrize(("rel", "edits", "expected"), [
    (PROD_SENTIMENT, [("scaling: gpu-standard", "scaling: gpu-standrad"), ("port: 8000", 'port: "8000"')],
     [("MO104", "/spec/serving/port"), ("MO201", "/spec/scaling")]),
    ("policies/scaling/cpu-burst.yaml", [("minReplicas: 3", "minReplicas: 50"),
                                         ("cpuUtilization: 65", "cpuUtilization: 165")],
     [("MO205", "/spec/minReplicas"), ("MO105", "/spec/targets/cpuUtilization")]),
    (ONCALL, [("channels: [pager, slack-ml, incidents]", "channels: [pagr, slack-ml, incidents]"),
              ("repeat: 4h", "repeat: 4 hours")],
     [("MO201", "/spec/routes/0/channels/0"), ("MO106", "/spec/grouping/repeat")]),
    ("environments/production/environment.yaml", [("promotesFrom: staging", "promotesFrom: stagign"),
                                                  ("approval: required", "approval: maybe")],
     [("MO201", "/spec/promotesFrom"), ("MO105", "/spec/approval")]),
    ("policies/guardrails/ownership.yaml",
     [("match: {kinds: [Model]}", "match: {kinds: [Modle], environments: [prod]}")],
     [("MO105", "/spec/match/kinds/0"), ("MO201", "/spec/match/environments/0")]),
])
def test_references_and_orderings_are_checked_beside_schema_errors(repo: Path, rel: str, edits: list[tuple[str, str]],
                                                                   expected: list[tuple[str, str]]) -> None:
    for old, new in edits:
        edit(repo, rel, old, new)
    assert sorted((c, p) for c, p, _ in codes_at(repo)) == sorted(expected)


@pytest.mark.parametrize(("old", "new", "expected"), [
    # a reference with a schema error of its own is reported once, by the schema
    ("previewTests: [smoke, eval]", "previewTests: [Smoke, eval]",
     [("MO111", "/spec/strategy/blueGreen/previewTests/0")]),
    ("scaling: gpu-standard", "scaling: [gpu-standard]", [("MO104", "/spec/scaling")]),
    # a test without a name could be the one referenced: no "unknown test"
    ("    - name: smoke\n", "    - nmae: smoke\n", [("MO102", "/spec/tests/0"), ("MO103", "/spec/tests/0/nmae")]),
    # tests that are no list define nothing known
    ("  tests:\n", "  tests: {}\n  testz:\n", [("MO103", "/spec/testz"), ("MO104", "/spec/tests")]),
])
def test_no_second_or_nonsense_error_beside_a_schema_error(repo: Path, old: str, new: str,
                                                            expected: list[tuple[str, str]]) -> None:
    edit(repo, PROD_SENTIMENT, old, new)
    assert sorted((c, p) for c, p, _ in codes_at(repo)) == expected


def test_one_artifact_digest_under_two_versions_of_a_model_is_a_warning_at_each(repo: Path) -> None:
    """MO232: staging's sentiment bumped to 1.5.0 but kept 1.4.2's digest (production still serves 1.4.2): the
    warning stands at the bump, the newer version."""
    staging = "environments/staging/models/sentiment.yaml"
    edit(repo, staging, "version: 1.4.2", "version: 1.5.0")
    result = validate_repo(repo)
    assert result.valid  # a warning: it may be on purpose (one artifact promoted under a release name)
    warned = [(d.code, d.file, d.path) for d in result.diagnostics]
    assert warned == [("MO232", staging, "/spec/artifact/sha256")]
    assert result.diagnostics[0].message == (
        "sentiment 1.5.0 pins the same artifact digest (sha256:9f2c1d7a4b3e) as sentiment 1.4.2 in production: one "
        "version's artifact.sha256 was most likely not updated")
    edit(repo, staging, "9f2c1d7a4b3e8f6a5c0d2e1f4a7b9c3d6e8f0a1b2c3d4e5f6a7b8c9d0e1f2a3b", "b" * 64)
    assert validate_repo(repo).diagnostics == ()  # a new version with its own artifact
