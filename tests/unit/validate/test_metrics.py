"""Business metrics, the metrics alert rules name, and the alert types of escalation thresholds: each mistake
is one located diagnostic, on a small repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.validate.repo import validate_repo

from tests.support.repo import edit, write

HEAD = "apiVersion: modelops.dev/v1\n"
ENV = f"""{HEAD}kind: Environment
metadata: {{name: prod}}
spec:
  metrics: {{source: file, path: metrics.json}}
  businessMetrics:
    user_satisfaction: {{unit: score, direction: higher-is-better, column: satisfaction}}
"""
ALERTS = f"""{HEAD}kind: AlertPolicy
metadata: {{name: slo}}
spec:
  rules:
    - {{name: latency, metric: response_time, above: {{warning: 5s, critical: 10s}}}}
    - {{name: happy, metric: user_satisfaction, below: {{warning: 4, critical: 3.5}}}}
"""
ONCALL = f"""{HEAD}kind: EscalationPolicy
metadata: {{name: oncall}}
spec:
  channels:
    pager: {{type: pagerduty, routingKey: "${{env:PD}}"}}
  routes:
    - {{match: {{}}, channels: [pager]}}
  escalate:
    - channels: [pager]
      thresholds: {{latency: {{count: 2, within: 1m}}, error_rate: {{count: 3, within: 2m}}}}
"""
MODEL = f"""{HEAD}kind: Model
metadata: {{name: m}}
spec:
  version: 1.0.0
  artifact: {{uri: "s3://m/1"}}
  serving: {{runtime: custom, image: "m:1", resources: {{cpu: "1", memory: 1Gi}}}}
  alerts: [slo]
  escalation: oncall
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    for rel, text in {"environments/prod/environment.yaml": ENV, "policies/alerts/slo.yaml": ALERTS,
                      "policies/escalation/oncall.yaml": ONCALL, "environments/prod/models/m.yaml": MODEL}.items():
        write(tmp_path, rel, text)
    return tmp_path


def found(root: Path) -> list[tuple[str, str, str | None, int | None, int | None, str]]:
    return [(d.severity.value, d.code, d.file, d.line, d.column, d.message)
            for d in validate_repo(root).diagnostics]


def test_business_metrics_and_per_type_thresholds_are_valid(small: Path) -> None:
    assert found(small) == []


@pytest.mark.parametrize(("rel", "old", "new", "expected"), [
    # a rule's metric neither in the catalogue nor declared by the environment: at the rule's metric
    ("policies/alerts/slo.yaml", "metric: user_satisfaction", "metric: user_satisfation",
     [("error", "MO220", "policies/alerts/slo.yaml", 7, 29, 'unknown metric "user_satisfation" for model m in '
       'environment prod (did you mean "user_satisfaction"?)')]),
    # a business metric named like a catalogue one (and the rule on the old name no longer finds it)
    ("environments/prod/environment.yaml", "    user_satisfaction:", "    error_rate:",
     [("error", "MO130", "environments/prod/environment.yaml", 7, 5,
       'business metric "error_rate" has the name of a catalogue metric'),
      ("error", "MO220", "policies/alerts/slo.yaml", 7, 29,
       'unknown metric "user_satisfaction" for model m in environment prod')]),
    # a duration threshold on a business metric measured in a score
    ("policies/alerts/slo.yaml", "below: {warning: 4,", "below: {warning: 4s,",
     [("error", "MO212", "policies/alerts/slo.yaml", 7, 65, 'user_satisfaction is measured in score, not time: "4s" '
       "does not fit")]),
    # an escalation threshold for an alert type none of the policy's models has
    ("policies/escalation/oncall.yaml", "thresholds: {latency:", "thresholds: {latncy:",
     [("error", "MO221", "policies/escalation/oncall.yaml", 11, 20, 'thresholds name "latncy", neither a rule of '
       'the models that use oncall nor a metric (did you mean "latency"?)')]),
    # per-type triggers while counting per policy
    ("policies/escalation/oncall.yaml", "    - channels: [pager]\n", "    - channels: [pager]\n      per: policy\n",
     [("error", "MO222", "policies/escalation/oncall.yaml", 12, 7,
       "thresholds are triggers per alert type, but this rule counts per policy")]),
])
def test_mistakes_are_located(small: Path, rel: str, old: str, new: str, expected: list[tuple[object, ...]]) -> None:
    edit(small, rel, old, new)
    assert found(small) == expected


def test_a_prometheus_environment_needs_a_query_for_its_business_metrics(small: Path) -> None:
    edit(small, "environments/prod/environment.yaml", "metrics: {source: file, path: metrics.json}",
         'metrics: {source: prometheus, url: "http://127.0.0.1:9090"}')
    assert [d[1:] for d in found(small)] == [
        ("MO130", "environments/prod/environment.yaml", 7, 5,
         'business metric "user_satisfaction" has no query, and prod reads Prometheus')]
    edit(small, "environments/prod/environment.yaml", "column: satisfaction}",
         "column: satisfaction, query: 'avg(rating{model=\"$model\"}'}")
    [(_, code, _, _, _, message)] = found(small)
    assert code == "MO105" and message.startswith("invalid PromQL")


def test_a_policy_shared_by_an_environment_without_the_metric_is_refused_there(small: Path) -> None:
    write(small, "environments/dev/environment.yaml", ENV.replace("prod", "dev").replace(
        "  businessMetrics:\n    user_satisfaction: {unit: score, direction: higher-is-better, column: satisfaction}\n",
        ""))
    write(small, "environments/dev/models/m.yaml", MODEL)
    assert [(d[1], d[5]) for d in found(small)] == [
        ("MO220", 'unknown metric "user_satisfaction" for model m in environment dev')]


def test_a_model_that_fails_its_schema_does_not_make_its_rules_unknown(small: Path) -> None:
    edit(small, "environments/prod/models/m.yaml", "version: 1.0.0", "version: one")
    assert [d[1] for d in found(small)] == ["MO108"]  # not MO221 for the rule name `latency` of its policy
