"""The plan as text: a summary that counts models and policies apart, a line per changed field (old -> new, durations
as a person reads them), warnings above the action, and steps by the phase they belong to."""

from __future__ import annotations

import pytest
from modelops.base.console import Console
from modelops.base.diagnostics import warning
from modelops.cli.views.plan import APPLIED, counted, render_text, summary_line, value_text
from modelops.core.live import Drift
from modelops.core.plan import Action, ActionKind, EnvironmentPlan, Plan, Step, tally


def plan(*actions: Action, drift: tuple[Drift, ...] = ()) -> Plan:
    return Plan("id", "0", "2026-01-01T00:00:00Z",
                (EnvironmentPlan("dev", "local", "lin", 3, "sha256:x", False, actions, drift=drift),))


def model(kind: ActionKind, name: str, blocked: str | None = None) -> Action:
    return Action(kind, "dev", f"model/{name}", None, {"version": "1.0.0", "strategy": "canary"}, "why", (),
                  blocked)


def policy(kind: ActionKind, key: str, *changes: tuple[str, object, object]) -> Action:
    return Action(kind, "dev", key, None, None, "policy changed, used by m", (Step("policy", "config", {}),), None,
                  0, changes)


@pytest.mark.parametrize(("actions", "line"), [
    ([model(ActionKind.DEPLOY, "a"), model(ActionKind.DEPLOY, "b"), model(ActionKind.DEPLOY, "c"),
      model(ActionKind.RETIRE, "d"), policy(ActionKind.POLICY_CHANGE, "AlertPolicy/x"),
      policy(ActionKind.POLICY_CHANGE, "ScalingPolicy/y")],
     "Plan: 3 models to deploy, 1 to retire; 2 policies to change."),
    ([policy(ActionKind.POLICY_ADD, "AlertPolicy/x")], "Plan: 1 policy to add."),
    ([model(ActionKind.UPGRADE, "a"), model(ActionKind.ROLLBACK, "b"),
      policy(ActionKind.POLICY_REMOVE, "AlertPolicy/x")], "Plan: 2 models to change; 1 policy to remove."),
    ([model(ActionKind.UPGRADE, "a"), model(ActionKind.UPGRADE, "b", blocked="frozen")],
     "Plan: 1 model to change. 1 blocked."),
])
def test_the_summary_counts_models_and_policies_apart(actions: list[Action], line: str) -> None:
    assert summary_line(plan(*actions)) == line


def test_a_policy_record_is_never_counted_as_a_deployment() -> None:
    the_plan = plan(model(ActionKind.DEPLOY, "a"), *(policy(ActionKind.POLICY_ADD, f"AlertPolicy/p{i}")
                                                     for i in range(12)))
    assert the_plan.change_summary() == {"models": {"deploy": 1, "change": 0, "retire": 0, "rollback": 0},
                                         "policies": {"add": 12, "change": 0, "remove": 0}, "blocked": 0,
                                         "drifted": 0}
    assert counted(tally(the_plan.actions), APPLIED) == "1 model deployed; 12 policies added"


def test_values_show_durations_as_a_person_reads_them_and_everything_else_as_json() -> None:
    assert [value_text(v) for v in ("2s", "2s500ms", "1m30s", "1h0m", "1000ms")] == [
        "2s", "2.5s", "1m30s", '"1h0m"', '"1000ms"']  # only the canonical form of a duration is one
    assert value_text(None) == "(none)"
    assert value_text(0.05) == "0.05" and value_text(["slack-ml", "mail"]) == '["slack-ml", "mail"]'
    assert value_text("${env:SLACK_WEBHOOK_URL}") == '"${env:SLACK_WEBHOOK_URL}"'  # a reference, never its value
    assert value_text("9f2c1d7a4b3e8f6a5c0d2e1f4a7b9c3d6e8f0a1b2c3d4e5f6a7b8c9d0e1f2a3b") == "sha256:9f2c1d7a4b3e"
    long = value_text("s3://models/sentiment/1.4.2/a-very-long-path/to/the/model/artifact.tar.gz")
    assert len(long) == 60 and long.startswith('"s3://') and long.endswith('..."')


def test_a_policy_change_shows_each_field_old_and_new() -> None:
    text = render_text(plan(policy(ActionKind.POLICY_CHANGE, "AlertPolicy/llm-slo",
                                   ("rules[latency].above.warning", "2s", "2s500ms"),
                                   ("routes[2]", None, {"channels": ["mail"]}),
                                   ("channels.pager", {"type": "pagerduty"}, None))), Console())
    assert '  ~ AlertPolicy "llm-slo"\n' in text
    assert "      ~ rules[latency].above.warning: 2s -> 2.5s\n" in text
    assert '      + routes[2]: (none) -> {"channels": ["mail"]}\n' in text
    assert '      - channels.pager: {"type": "pagerduty"} -> (none)\n' in text
    assert "2s500ms" not in text


def test_steps_are_labelled_by_what_they_do_in_any_environment() -> None:
    upgrade = Action(ActionKind.UPGRADE, "dev", "model/m", {"version": "1"}, {"version": "2", "strategy": "canary"},
                     "upgrade 1 -> 2 (canary)", tuple(Step.from_dict(s) for s in (
                         {"op": "verify", "stage": "validation", "args": {}},  # as engines before named them
                         {"op": "pause", "stage": "production",
                          "args": {"duration_ms": 2500, "reason": "canary pause"}},
                         {"op": "bake", "stage": "bake", "args": {"slot": "blue", "duration_ms": 90_000}})))
    text = render_text(plan(upgrade), Console())
    assert "        1. [validate]  verify artifact (no digest)\n" in text
    assert "        2. [release]   pause 2.5s (canary pause)\n" in text
    assert "        3. [bake]      keep slot blue warm for 1m30s (instant rollback)\n" in text
    assert "[staging]" not in text and "[production]" not in text


def test_a_warning_stands_above_its_action_with_its_hint() -> None:
    warned = Action(ActionKind.UPGRADE, "dev", "model/m", {"version": "1.0.0"}, {"version": "1.1.0"},
                    "upgrade 1.0.0 -> 1.1.0", (), None, 0, (),
                    (warning("MO233", "m 1.1.0 keeps the artifact digest of 1.0.0", hint="update artifact.sha256"),))
    lines = render_text(plan(warned), Console()).splitlines()
    at = lines.index("  # warning[MO233]: m 1.1.0 keeps the artifact digest of 1.0.0")
    assert lines[at - 1].startswith('  # model "m" will be upgraded')
    assert lines[at + 1:at + 3] == ["  #   = hint: update artifact.sha256", '  ~ model "m"']
