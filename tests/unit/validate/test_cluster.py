"""What a wait on the cluster needs of the configuration: the service URL's placeholders, a poll inside the timeout,
and a blue-green Rollout that would promote itself before modelops' preview tests reach it."""

from __future__ import annotations

from pathlib import Path

from modelops.validate.repo import validate_repo

from tests.support.repo import edit

ENV = "environments/production/environment.yaml"


def cluster(repo: Path, block: str) -> None:
    edit(repo, ENV, "    driver: local\n",
         f"    driver: gitops\n    gitops:\n      flavor: argo-rollouts\n      cluster:\n{block}")


def problems(repo: Path) -> list[tuple[str, str | None, int | None, str]]:
    return [(d.code, d.file, d.line, d.message) for d in validate_repo(repo).diagnostics
            if d.code in ("MO125", "MO126", "MO217")]


def test_an_unknown_placeholder_and_a_poll_longer_than_the_timeout_are_errors_where_written(repo: Path) -> None:
    cluster(repo, '        serviceUrl: "https://$svc.$namespace.example.com"\n'
                  "        timeout: 1m\n        pollInterval: 2m\n")
    assert problems(repo)[:2] == [
        ("MO125", ENV, 13, "serviceUrl has an unknown placeholder $svc"),
        ("MO126", ENV, 15, "pollInterval 2m is longer than timeout 1m: a wait would give up before it read the "
                           "cluster twice")]


def test_a_blue_green_rollout_that_promotes_itself_before_the_preview_tests_is_a_warning(repo: Path) -> None:
    cluster(repo, "        application: {name: models-production}\n")
    found = problems(repo)
    assert [(code, file) for code, file, _, _ in found] == [("MO217", "environments/production/models/sentiment.yaml")]
    edit(repo, "environments/production/models/sentiment.yaml", "autoPromote: true", "autoPromote: false")
    assert problems(repo) == []
