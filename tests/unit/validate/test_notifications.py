"""Rollout notification subscriptions: every channel resolves to exactly one EscalationPolicy, located errors where
one does not, and a warning where PagerDuty would page for every change."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.validate.repo import validate_repo

from tests.support.repo import edit

STAGING = "environments/staging/environment.yaml"
RECOMMENDER = "environments/staging/models/recommender.yaml"


def subscribe(repo: Path, environment: str = "", model: str = "") -> list[tuple[str, str, str | None, int | None,
                                                                                    str]]:
    if environment:
        edit(repo, STAGING, "  approval: none\n", f"  approval: none\n  notifications: {environment}\n")
    if model:
        path = repo / RECOMMENDER
        path.write_text(path.read_text() + f"  notifications: {model}\n")
    return [(d.severity.value, d.code, d.file, d.line, d.message) for d in validate_repo(repo).diagnostics]


def test_channels_that_resolve_are_valid(repo: Path) -> None:
    assert subscribe(repo, "[{channel: ml-oncall/incidents, events: [rolledBack, failed]}, "
                           "{channel: slack-ml, events: [driftDetected]}]",
                     "[{channel: slack-growth, events: [applied, rolledBack]}]") == []


@pytest.mark.parametrize(("environment", "model", "found"), [
    ("[{channel: ml-on-call/pager, events: [failed]}]", "",
     ("error", "MO201", STAGING, 'unknown EscalationPolicy "ml-on-call" (did you mean "ml-oncall"?)')),
    ("[{channel: ml-oncall/pagr, events: [failed]}]", "",
     ("error", "MO201", STAGING, 'unknown channel "pagr" of EscalationPolicy "ml-oncall" (did you mean "pager"?)')),
    ("[{channel: pager, events: [failed]}]", "",
     ("error", "MO145", STAGING, 'channel "pager" is defined by EscalationPolicies growth-oncall and ml-oncall: which '
                                 "one sends it is not said")),
    ("[{channel: slak-ml, events: [failed]}]", "",
     ("error", "MO201", STAGING, 'unknown channel "slak-ml" (looked up in EscalationPolicy growth-oncall, ml-oncall) '
                                 '(did you mean "slack-ml"?)')),
    ("", "[{channel: slack-ml, events: [failed]}]",
     ("error", "MO201", RECOMMENDER, 'unknown channel "slack-ml" (looked up in EscalationPolicy growth-oncall) '
                                     '(did you mean "slack-growth"?)')),
    ("", "[{channel: ml-oncall/pager, events: [applied]}]",
     ("warning", "MO235", RECOMMENDER, 'PagerDuty channel "ml-oncall/pager" is told of every applied change: each '
                                       "one opens an incident")),
    ("[{channel: ml-oncall/mail, events: [failed, failed]}]", "",
     ("error", "MO105", STAGING, None)),
    ("[{channel: ml-oncall/mail, events: [rolledback]}]", "",
     ("error", "MO105", STAGING, None)),
])
def test_a_channel_that_does_not_resolve_is_located(repo: Path, environment: str, model: str,
                                                    found: tuple[str, str, str, str | None]) -> None:
    [(severity, code, file, line, message)] = subscribe(repo, environment, model)
    assert (severity, code, file) == found[:3]
    assert line is not None and line > 1
    if found[3] is not None:
        assert message == found[3]


def test_a_model_without_an_escalation_policy_must_name_one(repo: Path) -> None:
    edit(repo, RECOMMENDER, "  escalation: growth-oncall\n", "")
    [(_, code, file, _, message)] = subscribe(repo, model="[{channel: slack-growth, events: [failed]}]")
    assert (code, file) == ("MO145", RECOMMENDER)
    assert message == ('channel "slack-growth" names no EscalationPolicy, and this model has no spec.escalation to '
                       "find it in")
