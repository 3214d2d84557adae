"""The PromQL sanity check: unbalanced brackets and open quotes in a raw query are located validate errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.validate.promql import promql_problem
from modelops.validate.repo import validate_repo

from tests.support.repo import edit

STAGING = "environments/staging/environment.yaml"


@pytest.mark.parametrize(("query", "problem"), [
    ("rate(foo[5m]", 'unclosed "(" at character 5 (expected ")")'),
    ("sum(rate(x[5m])))", 'unexpected ")" at character 17'),
    ('x{model="$model}', 'unclosed " quote opened at character 9'),
    ("x{a='b'}[5m)", 'unexpected ")" at character 12'),
])
def test_unbalanced_queries_are_described(query: str, problem: str) -> None:
    assert promql_problem(query) == problem


@pytest.mark.parametrize("query", [
    'sum(rate(http_requests_total{model="$model", env="$env"}[$window]))',
    'x{a="b)"}', r'x{a="\""}', "x{a=`raw\\`}", "x # a comment (\n",
])
def test_balanced_queries_pass(query: str) -> None:
    assert promql_problem(query) is None


def test_a_metric_query_override_with_a_slip_fails_validate_where_it_is_written(repo: Path) -> None:
    path = "    path: examples/metrics/staging.json\n"
    edit(repo, STAGING, path, path + "    queries:\n      error_rate: 'rate(errors{model=\"$model\"}[5m]'\n")
    assert [(d.code, d.file, d.line, d.path, d.message) for d in validate_repo(repo).diagnostics] == [
        ("MO105", STAGING, 18, "/spec/metrics/queries/error_rate",
         'invalid PromQL: unclosed "(" at character 5 (expected ")")')]
