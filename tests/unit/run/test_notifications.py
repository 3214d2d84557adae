"""modelops.run.notifications: which events an apply's outcome makes, who is subscribed to each, what the message
says and how it is keyed, and delivery through a real loopback receiver."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.core.live import Drift
from modelops.core.model import EnvironmentConfig
from modelops.core.plan import Action, ActionKind
from modelops.notify.base import SendOptions
from modelops.run.executor import ActionResult, ActionStatus
from modelops.run.notifications import (
    action_event,
    drift_event,
    failure_event,
    notification,
    notify,
    recipients,
)
from modelops.workspace import Workspace

from tests.support.http import recorder
from tests.support.repo import copy_example, edit

AT = "2026-11-25T10:00:00Z"
UPGRADE = Action(ActionKind.UPGRADE, "staging", "model/recommender", {"version": "2.7.1"},
                 {"version": "2.8.0"}, "version 2.7.1 -> 2.8.0")


def staging(tmp_path: Path, environment: str = "", model: str = "") -> EnvironmentConfig:
    repo = copy_example(tmp_path / "ops")
    if environment:
        edit(repo, "environments/staging/environment.yaml", "  approval: none\n",
             f"  approval: none\n  notifications: {environment}\n")
    if model:
        path = repo / "environments/staging/models/recommender.yaml"
        path.write_text(path.read_text() + f"  notifications: {model}\n")
    return Workspace.load(repo).environment("staging")


@pytest.mark.parametrize(("kind", "status", "event", "summary"), [
    (ActionKind.UPGRADE, "applied", "applied", "staging: recommender upgraded 2.7.1 → 2.8.0"),
    (ActionKind.ROLLBACK, "applied", "rolledBack", "staging: recommender rolled back 2.7.1 → 2.8.0"),
    (ActionKind.UPGRADE, "rolled_back", "rolledBack", "staging: recommender 2.8.0 rolled back to 2.7.1"),
    (ActionKind.UPGRADE, "failed", "failed", "staging: recommender upgrade to 2.8.0 failed"),
    (ActionKind.UPGRADE, "paused", "paused", "staging: recommender upgrade to 2.8.0 paused"),
    (ActionKind.RECONFIGURE, "applied", "applied", "staging: reconfigure recommender done"),
])
def test_each_outcome_is_its_event(kind: ActionKind, status: ActionStatus, event: str, summary: str) -> None:
    action = Action(kind, "staging", "model/recommender", UPGRADE.before, UPGRADE.after, "why")
    found = action_event(ActionResult(action, status, "gate slo failed"), "plan-1")
    assert (found.event, found.summary, found.detail, found.model) == (event, summary, "gate slo failed",
                                                                       "recommender")
    assert found.identity == ("apply", "plan-1")


def test_a_policy_change_is_an_event_of_the_environment_not_of_a_model() -> None:
    action = Action(ActionKind.POLICY_CHANGE, "staging", "EscalationPolicy/ml-oncall", None, None, "digest moved")
    found = action_event(ActionResult(action, "applied", "digest moved"), "plan-1")
    assert (found.target, found.model, found.summary) == ("EscalationPolicy/ml-oncall", None,
                                                           "staging: policy.change EscalationPolicy/ml-oncall done")


def test_environment_and_model_subscriptions_are_merged_and_a_channel_is_told_once(tmp_path: Path) -> None:
    env = staging(tmp_path, "[{channel: ml-oncall/incidents, events: [rolledBack]}, "
                            "{channel: slack-ml, events: [failed]}]",
                  "[{channel: slack-growth, events: [rolledBack]}, {channel: ml-oncall/incidents, "
                  "events: [rolledBack, failed]}]")
    rolled = action_event(ActionResult(UPGRADE, "rolled_back", "x"), "p")
    assert [r.name for r in recipients(env, rolled)] == ["ml-oncall/incidents", "growth-oncall/slack-growth"]
    failed = action_event(ActionResult(UPGRADE, "failed", "x"), "p")
    # a bare name in an environment: the one EscalationPolicy of its models that has it
    assert [r.name for r in recipients(env, failed)] == ["ml-oncall/slack-ml", "ml-oncall/incidents"]
    other = action_event(ActionResult(replace_target(UPGRADE, "model/embedder"), "rolled_back", "x"), "p")
    assert [r.name for r in recipients(env, other)] == ["ml-oncall/incidents"]  # not recommender's own
    assert recipients(env, drift_event("staging", Drift("recommender", (("traffic", 1, 2),)))) == []


def replace_target(action: Action, target: str) -> Action:
    return Action(action.kind, action.environment, target, action.before, action.after, action.reason)


def test_the_message_says_what_happened_and_is_keyed_per_apply_model_and_event(tmp_path: Path) -> None:
    env = staging(tmp_path, "[{channel: ml-oncall/incidents, events: [rolledBack, failed]}, "
                            "{channel: ml-oncall/mail, events: [rolledBack]}]")
    event = action_event(ActionResult(UPGRADE, "rolled_back", "test ping failed"), "plan-1")
    hook, mail = (notification(event, r, AT) for r in recipients(env, event))
    assert hook.title() == "[ROLLED BACK] staging: recommender 2.8.0 rolled back to 2.7.1"
    assert hook.group_labels == {"model": "recommender", "event": "rolledBack", "apply": "plan-1"}
    [alert] = hook.alerts
    assert (alert.severity, alert.labels["rule"], alert.annotations["description"]) == (
        "critical", "rolledBack", "test ping failed")
    assert hook.dedup_key == mail.dedup_key  # one incident, whichever channel tells it
    keys = {notification(e, recipients(env, e)[0], AT).dedup_key for e in (
        event, action_event(ActionResult(UPGRADE, "rolled_back", "x"), "plan-2"),
        action_event(ActionResult(replace_target(UPGRADE, "model/embedder"), "rolled_back", "x"), "plan-1"),
        action_event(ActionResult(UPGRADE, "failed", "x"), "plan-1"))}
    assert len(keys) == 4  # another apply, another model, another event: another key


def test_drift_is_keyed_by_what_drifted_so_two_applies_finding_it_make_one_incident() -> None:
    one = drift_event("staging", Drift("sentiment", (("traffic.green", 0, 100),)))
    again = drift_event("staging", Drift("sentiment", (("traffic.green", 0, 100),)))
    other = drift_event("staging", Drift("sentiment", (("traffic.green", 0, 50),)))
    assert one.identity == again.identity != other.identity
    assert one.summary == "staging: sentiment changed outside modelops"
    assert one.detail == "traffic.green: 0 -> 100"


def test_notify_delivers_to_a_real_receiver_and_reports_a_failure_without_raising(tmp_path: Path) -> None:
    env = staging(tmp_path, "[{channel: ml-oncall/incidents, events: [failed]}, "
                            "{channel: ml-oncall/slack-ml, events: [failed]}]")
    with recorder() as (url, seen):
        options = SendOptions(environ={"INCIDENT_WEBHOOK_URL": f"{url}/hook"}, retries=0)
        rows = notify(env, [failure_event("staging", "plan-1", "the lock is held")], options, AT)
    assert [(r.channel, r.outcome) for r in rows] == [("ml-oncall/incidents", "sent"), ("ml-oncall/slack-ml", "failed")]
    assert rows[1].describe() == ("staging: could not tell ml-oncall/slack-ml (slack) that the apply failed: not sent: "
                                  "environment variable SLACK_WEBHOOK_URL is not set (needed by "
                                  "${env:SLACK_WEBHOOK_URL})")
    assert [(method, path) for method, path, _ in seen.requests] == [("POST", "/hook")]
    assert rows[0].describe().startswith("staging: told ml-oncall/incidents (webhook) that the apply failed: HTTP 200")
