"""modelops.core.diff and modelops.core.checks: desired state against recorded state, into an ordered plan whose
actions the plan-time checks may block. Pure: the desired state comes from copies of the example repository,
the recorded states are values built here."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from modelops.core.diff import make_plan, spec_changes
from modelops.core.model import dump
from modelops.core.plan import ActionKind, Plan, PlanOptions, Step
from modelops.state.format import ModelState, Rejection, Rollout, Slot
from modelops.workspace import Workspace

from tests.support.plans import (
    BLUE_GREEN_OPS,
    SENTIMENT,
    T0,
    applied,
    desired,
    empty,
    listed,
    only_action,
    sentiment_150,
    with_model,
)
from tests.support.recording import AT, serving

# -- what each difference plans ----------------------------------------------------------------------------


def test_a_first_plan_deploys_every_model_after_the_policies_it_uses(repo: Path) -> None:
    want = Workspace.load(repo).desired
    plan = make_plan(want, empty(want), PlanOptions(), T0)
    assert [e.name for e in plan.environments] == ["staging", "production"]  # upstream first
    policies = [("policy.add", p) for p in ("AlertPolicy/infrastructure", "AlertPolicy/model-slo",
                                            "EscalationPolicy/growth-oncall", "EscalationPolicy/ml-oncall",
                                            "ScalingPolicy/cpu-burst", "ScalingPolicy/gpu-standard")]
    models = ["embedder", "fraud-detector", "recommender", "sentiment"]
    assert listed(plan, "staging") == [*policies, *(("deploy", f"model/{m}") for m in [*models, "summarizer"])]
    assert listed(plan, "production") == [*policies, *(("deploy", f"model/{m}") for m in models)]
    assert plan.change_summary() == {"models": {"deploy": 9, "change": 0, "retire": 0, "rollback": 0},
                                     "policies": {"add": 12, "change": 0, "remove": 0}, "blocked": 0, "drifted": 0}
    staging, production = plan.environments
    assert (staging.lineage, staging.serial, staging.approval_required) == (None, 0, False)
    assert production.approval_required
    deploy = next(a for a in staging.actions if a.target == "model/sentiment")
    assert deploy.reason == "sentiment 1.4.2 is not deployed yet" and deploy.before is None
    revision = want.environments["staging"].models["sentiment"].revision
    assert deploy.after is not None and deploy.after["revision"] == revision
    assert deploy.steps[1] == Step("deploy", "prepare", {"slot": "blue", "version": "1.4.2", "revision": revision,
                                                          "role": "preview", "replicas": 2})  # gpu-standard minimum
    # a first version is judged like the next one: the alert watch and the post-promotion analysis after its switch
    assert [s.op for s in deploy.steps] == ["verify", "deploy", "test", "traffic", "alerts", "analysis"]
    assert deploy.steps[3].args == {"weights": {"blue": 100}, "switch": True}
    assert deploy.steps[5].args == {"analyses": ["slo"], "slot": "blue", "when": "post"}


def test_environments_come_in_promotion_order_whatever_order_they_are_asked_in(repo: Path) -> None:
    want = Workspace.load(repo).desired
    plan = make_plan(want, empty(want), PlanOptions(("production", "staging")), T0)
    assert [e.name for e in plan.environments] == ["staging", "production"]
    alone = make_plan(want, empty(want), PlanOptions(("production",)), T0)
    assert [e.name for e in alone.environments] == ["production"]


def test_nothing_is_planned_when_the_recorded_state_serves_what_is_declared(repo: Path) -> None:
    want = Workspace.load(repo).desired
    plan = make_plan(want, applied(want), PlanOptions(), T0)
    assert plan.actions == [] and not plan.has_changes
    assert [(e.name, e.lineage, e.serial) for e in plan.environments] == [("staging", "lineage-1", 1),
                                                                           ("production", "lineage-1", 1)]


def test_a_newer_version_is_an_upgrade_through_its_strategy(tmp_path: Path) -> None:
    before = desired(tmp_path, "before")
    after = desired(tmp_path, "after", *sentiment_150("staging"))
    plan = make_plan(after, applied(before), PlanOptions(("staging",)), T0)
    assert listed(plan, "staging") == [("upgrade", "model/sentiment")]
    action = plan.actions[0]
    assert action.reason == "upgrade 1.4.2 -> 1.5.0 (blueGreen)"
    assert [s.op for s in action.steps] == BLUE_GREEN_OPS
    assert action.steps[1].args["slot"] == "green"  # the idle slot takes the new version
    old = before.environments["staging"].models["sentiment"]
    assert action.before == {"version": "1.4.2", "revision": old.revision, "config": old.config, "slot": "blue",
                             "phase": "Healthy"}
    assert action.after is not None and action.after["version"] == "1.5.0"
    assert ("version", "1.4.2", "1.5.0") in action.changes
    assert action.symbol == "~"


def test_an_older_version_no_longer_warm_is_rolled_back_through_the_whole_pipeline(tmp_path: Path) -> None:
    newer = desired(tmp_path, "newer", *sentiment_150("staging"))
    older = desired(tmp_path, "older")
    plan = make_plan(older, applied(newer), PlanOptions(("staging",)), T0)
    kind, reason, blocked, ops = only_action(plan, "staging", "model/sentiment")
    assert kind is ActionKind.ROLLBACK and blocked is None
    assert reason == ("roll back 1.5.0 -> 1.4.2 (blueGreen; the old version is no longer warm, so it is deployed and "
                      "tested again)")
    assert ops == BLUE_GREEN_OPS
    assert plan.change_summary()["models"]["rollback"] == 1


def test_an_older_version_still_warm_in_the_idle_slot_is_a_fast_rollback(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    newer = desired(tmp_path, "newer", *sentiment_150("staging"))
    old, new = (d.environments["staging"].models["sentiment"] for d in (older, newer))
    slots = {"blue": Slot(version="1.4.2", revision=old.revision, status="warm", since=AT,
                          warm_until="2026-11-27T12:40:00Z"),
             "green": Slot(version="1.5.0", revision=new.revision, status="active", since=AT)}
    switched = serving(new).model_copy(update={"active_slot": "green", "slots": slots, "traffic": {"green": 100}})
    states = {**applied(older), "staging": with_model(applied(older)["staging"], "sentiment", switched)}
    plan = make_plan(older, states, PlanOptions(("staging",)), T0)
    action = plan.actions[0]
    assert action.kind is ActionKind.ROLLBACK
    assert action.reason == "roll back 1.5.0 -> 1.4.2: 1.4.2 is still warm in slot blue (fast: switch only)"
    assert action.steps == (Step("traffic", "release", {"weights": {"green": 0, "blue": 100}, "switch": True}),
                            Step("bake", "bake", {"slot": "green", "duration_ms": 600_000}),
                            Step("retire", "retire", {"slot": "green"}))


def test_a_warm_window_that_ended_and_a_config_change_are_reconfigurations(tmp_path: Path) -> None:
    before = desired(tmp_path, "before")
    relabelled = desired(tmp_path, "after", (SENTIMENT.format(env="staging"), "tier: gold", "tier: platinum"))
    model = relabelled.environments["staging"].models["sentiment"]
    assert model.revision == before.environments["staging"].models["sentiment"].revision  # labels are config
    plan = make_plan(relabelled, applied(before), PlanOptions(("staging",)), T0)
    assert only_action(plan, "staging", "model/sentiment") == (
        ActionKind.RECONFIGURE, "configuration changed without a new revision", None, ["configure"])
    assert plan.actions[0].steps[0].args == {"config": model.config}

    warm = Slot(version="1.3.0", revision="sha256:old", status="warm", since=AT, warm_until="2026-11-27T12:10:00Z")
    baked = serving(model).model_copy(update={"slots": {**serving(model).slots, "green": warm}})
    states = {**applied(relabelled), "staging": with_model(applied(relabelled)["staging"], "sentiment", baked)}
    assert make_plan(relabelled, states, PlanOptions(("staging",)), datetime(2026, 11, 27, 12, 9, tzinfo=UTC)
                     ).actions == []  # still inside the window
    ended = make_plan(relabelled, states, PlanOptions(("staging",)), T0)
    assert only_action(ended, "staging", "model/sentiment") == (
        ActionKind.RECONFIGURE, "warm window of slot green (1.3.0) ended at 2026-11-27T12:10:00Z", None, ["retire"])


def test_a_model_that_leaves_the_configuration_is_retired(tmp_path: Path) -> None:
    before = desired(tmp_path, "before")
    after = desired(tmp_path, "after", delete=("environments/staging/models/summarizer.yaml",))
    plan = make_plan(after, applied(before), PlanOptions(), T0)
    assert listed(plan, "staging") == [("retire", "model/summarizer")]
    action = plan.actions[0]
    assert action.reason == "no longer in the configuration (serving 0.3.0-rc.1)"
    assert action.after is None and action.symbol == "-"
    assert action.steps == (Step("remove", "retire", {"slots": ["blue"]}),)
    assert listed(plan, "production") == []


def test_policies_are_added_changed_and_removed_by_digest(repo: Path) -> None:
    want = Workspace.load(repo).desired
    staging = want.environments["staging"]
    recorded = applied(want)["staging"]
    policies = {k: v for k, v in recorded.policies.items() if k != "ScalingPolicy/gpu-standard"}
    policies |= {"AlertPolicy/model-slo": "sha256:older", "AlertPolicy/retired-rules": "sha256:gone"}
    states = {**applied(want), "staging": recorded.model_copy(update={"policies": policies})}
    plan = make_plan(want, states, PlanOptions(), T0)
    assert listed(plan, "staging") == [("policy.change", "AlertPolicy/model-slo"),
                                       ("policy.add", "ScalingPolicy/gpu-standard"),
                                       ("policy.remove", "AlertPolicy/retired-rules")]
    change, add, remove = plan.environments[0].actions
    # the recorded spec is not the one the recorded digest names: no field is shown rather than a wrong one
    assert change.reason == ("policy changed, used by embedder, fraud-detector, recommender, sentiment, summarizer "
                             "(its fields are not shown: the state holds only its digest, as engines before state "
                             "format 3 recorded it; the next apply records them)")
    assert change.changes == ()
    assert change.before == {"digest": "sha256:older"}
    assert change.after == {"digest": staging.policies["AlertPolicy/model-slo"].digest,
                            "file": "policies/alerts/model-slo.yaml",
                            "spec": dump(staging.policies["AlertPolicy/model-slo"].spec)}
    assert add.reason == "new policy, used by embedder, sentiment" and add.before is None
    assert remove.reason == "no longer used by any model" and remove.after is None
    assert remove.steps == (Step("policy", "config", {"policy": "AlertPolicy/retired-rules", "digest": None}),)
    assert listed(plan, "production") == []


MODEL_SLO, GPU, ONCALL = ("policies/alerts/model-slo.yaml", "policies/scaling/gpu-standard.yaml",
                          "policies/escalation/ml-oncall.yaml")


def test_a_changed_policy_lists_every_changed_field_against_the_spec_it_was_applied_with(tmp_path: Path) -> None:
    before = desired(tmp_path, "before")
    after = desired(tmp_path, "after",
                    (MODEL_SLO, "above: {warning: 500ms, critical: 2s}", "above: {warning: 500ms, critical: 2500ms}"),
                    (GPU, "maxReplicas: 20", "maxReplicas: 24"),
                    (ONCALL, "channels: [slack-ml]\n", "channels: [slack-ml, mail]\n"),
                    (ONCALL, "wait: 30s", "wait: 1m30s"),
                    (ONCALL, "${env:PAGERDUTY_ROUTING_KEY}", "${env:PAGERDUTY_KEY_V2}"))
    plan = make_plan(after, applied(before), PlanOptions(("staging",)), T0)
    changes = {a.target: a.changes for a in plan.actions}
    assert changes == {
        "AlertPolicy/model-slo": (("rules[high-latency].above.critical", "2s", "2s500ms"),),
        "ScalingPolicy/gpu-standard": (("maxReplicas", 20, 24),),
        "EscalationPolicy/ml-oncall": (("channels.pager.routingKey", "${env:PAGERDUTY_ROUTING_KEY}",
                                        "${env:PAGERDUTY_KEY_V2}"),  # references only: never a secret's value
                                       ("routes[2].channels", ["slack-ml"], ["slack-ml", "mail"]),
                                       ("grouping.wait", "30s", "1m30s"))}
    assert {a.kind for a in plan.actions} == {ActionKind.POLICY_CHANGE}
    assert plan.change_summary()["policies"] == {"add": 0, "change": 3, "remove": 0}
    assert plan.change_summary()["models"] == {"deploy": 0, "change": 0, "retire": 0, "rollback": 0}


def test_spec_changes_compare_records_in_lists_by_name_else_by_position() -> None:
    rules = [{"name": "latency", "for": "5m"}, {"name": "errors", "for": "2m"}]
    assert spec_changes({"rules": rules}, {"rules": [{"name": "errors", "for": "3m"}, {"name": "cost", "for": "1h"},
                                                     {"name": "latency", "for": "5m"}]}) == [
        ("rules[errors].for", "2m", "3m"), ("rules[cost]", None, {"name": "cost", "for": "1h"})]
    routes = [{"channels": ["a"]}, {"channels": ["b"]}]
    assert spec_changes({"routes": routes}, {"routes": [{"channels": ["a", "c"]}]}) == [
        ("routes[0].channels", ["a"], ["a", "c"]), ("routes[1]", {"channels": ["b"]}, None)]
    assert spec_changes({"alerts": ["a", "b"]}, {"alerts": ["b"]}) == [("alerts", ["a", "b"], ["b"])]  # plain values
    assert spec_changes({"x": {"y": 1}}, {"x": {"y": 1}}) == []


def test_a_version_and_its_artifact_digest_move_together_or_the_plan_warns(tmp_path: Path) -> None:
    sha = "9f2c1d7a4b3e8f6a5c0d2e1f4a7b9c3d6e8f0a1b2c3d4e5f6a7b8c9d0e1f2a3b"
    before = desired(tmp_path, "before")
    staging = SENTIMENT.format(env="staging")
    kept = make_plan(desired(tmp_path, "kept", *sentiment_150("staging")), applied(before), PlanOptions(("staging",)),
                     T0)
    (warned,) = kept.actions[0].warnings
    assert (warned.code, warned.file, warned.path) == ("MO233", staging, "/spec/artifact/sha256")
    assert warned.message == ("sentiment 1.5.0 keeps the artifact digest of 1.4.2 (sha256:9f2c1d7a4b3e): the new "
                              "version would serve the old artifact")
    assert kept.actions[0].blocked is None  # a warning never stops the plan
    rebuilt = make_plan(desired(tmp_path, "rebuilt", (staging, sha, "a" * 64)), applied(before),
                        PlanOptions(("staging",)), T0)
    assert [w.code for w in rebuilt.actions[0].warnings] == ["MO234"]
    assert "sentiment 1.4.2 changes its artifact digest (sha256:9f2c1d7a4b3e -> sha256:aaaaaaaaaaaa)" in (
        rebuilt.actions[0].warnings[0].message)
    bumped = desired(tmp_path, "bumped", *sentiment_150("staging"), (staging, sha, "b" * 64))
    assert make_plan(bumped, applied(before), PlanOptions(("staging",)), T0).actions[0].warnings == ()
    # a rollback to a version that served keeps its own digest: nothing to say
    assert make_plan(before, applied(bumped), PlanOptions(("staging",)), T0).actions[0].warnings == ()
    # the warnings travel with a saved plan
    assert Plan.from_dict(kept.to_dict()).actions[0].warnings == kept.actions[0].warnings


def test_a_policy_edit_plans_a_change_in_every_environment_that_uses_it_and_a_comment_plans_nothing(
        tmp_path: Path) -> None:
    before = desired(tmp_path, "before")
    edited = desired(tmp_path, "edited", ("policies/scaling/cpu-burst.yaml", "maxReplicas: 40", "maxReplicas: 50"))
    plan = make_plan(edited, applied(before), PlanOptions(), T0)
    assert [(a.environment, a.kind.value, a.target) for a in plan.actions] == [
        ("staging", "policy.change", "ScalingPolicy/cpu-burst"),
        ("production", "policy.change", "ScalingPolicy/cpu-burst")]
    commented = desired(tmp_path, "commented", ("policies/scaling/cpu-burst.yaml", "maxReplicas: 40",
                                                "maxReplicas: 40  # reviewed"))
    assert make_plan(commented, applied(before), PlanOptions(), T0).actions == []


def test_within_an_environment_actions_follow_kind_order_then_name(tmp_path: Path) -> None:
    before = desired(tmp_path, "before")
    newer = desired(tmp_path, "newer", *sentiment_150("staging"))
    after = desired(tmp_path, "after", ("environments/staging/models/embedder.yaml", "0.9.0", "0.9.1"),
                    ("environments/staging/models/fraud-detector.yaml", "tier: gold", "tier: platinum"),
                    delete=("environments/staging/models/summarizer.yaml",))
    recorded = applied(before)["staging"]
    recorded = with_model(recorded, "sentiment", serving(newer.environments["staging"].models["sentiment"]))
    recorded = with_model(recorded, "recommender", None)
    policies = {k: v for k, v in recorded.policies.items() if k != "ScalingPolicy/gpu-standard"}
    recorded = recorded.model_copy(update={"policies": policies | {"AlertPolicy/retired-rules": "sha256:gone"}})
    plan = make_plan(after, {**applied(before), "staging": recorded}, PlanOptions(("staging",)), T0)
    assert listed(plan, "staging") == [
        ("rollback", "model/sentiment"),  # restoring service comes first
        ("policy.add", "ScalingPolicy/gpu-standard"),  # policies before the models that use them
        ("deploy", "model/recommender"),
        ("upgrade", "model/embedder"),
        ("reconfigure", "model/fraud-detector"),
        ("retire", "model/summarizer"),
        ("policy.remove", "AlertPolicy/retired-rules"),  # after the models that referenced it changed
    ]


def test_only_narrows_the_plan_to_the_named_targets(repo: Path) -> None:
    want = Workspace.load(repo).desired
    only = frozenset({"staging/model/sentiment", "production/AlertPolicy/model-slo"})
    plan = make_plan(want, empty(want), PlanOptions(only=only), T0)
    assert listed(plan, "staging") == [("deploy", "model/sentiment")]
    assert listed(plan, "production") == [("policy.add", "AlertPolicy/model-slo")]
    assert make_plan(want, empty(want), PlanOptions(only=frozenset()), T0).actions == []


def test_the_same_inputs_give_the_same_plan_apart_from_its_id_and_creation_time(tmp_path: Path) -> None:
    before = desired(tmp_path, "before")
    after = desired(tmp_path, "after", *sentiment_150("staging", "production"),
                    delete=("environments/staging/models/summarizer.yaml",))
    first = make_plan(after, applied(before), PlanOptions(), T0)
    second = make_plan(after, applied(before), PlanOptions(), T0)
    assert first.id != second.id
    assert replace(first, id=second.id) == second
    assert first.to_json().replace(first.id, second.id) == second.to_json()
    later = make_plan(after, applied(before), PlanOptions(), datetime(2026, 11, 28, tzinfo=UTC))
    assert later.created == "2026-11-28T00:00:00Z" and first.created == "2026-11-27T12:30:00Z"
    assert later.environments == first.environments


# -- plan-time checks ---------------------------------------------------------------------------------------


FROZEN = datetime(2027, 12, 24, tzinfo=UTC)  # the example's production freeze: 2027-12-20 to 2028-01-04


def test_an_open_freeze_window_blocks_an_upgrade_but_not_a_rollback(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    newer = desired(tmp_path, "newer", *sentiment_150("staging", "production"))
    upgrade = make_plan(newer, {**applied(older), "staging": applied(newer)["staging"]}, PlanOptions(), FROZEN)
    assert only_action(upgrade, "production", "model/sentiment")[2] == (
        "production is frozen until 2028-01-04T00:00:00Z (year-end change freeze)")
    assert not upgrade.has_changes
    assert upgrade.change_summary() == {"models": {"deploy": 0, "change": 0, "retire": 0, "rollback": 0},
                                       "policies": {"add": 0, "change": 0, "remove": 0}, "blocked": 1, "drifted": 0}
    thawed = make_plan(newer, {**applied(older), "staging": applied(newer)["staging"]}, PlanOptions(),
                       datetime(2028, 1, 4, tzinfo=UTC))  # the window's end is not in it
    assert only_action(thawed, "production", "model/sentiment")[2] is None

    rollback = make_plan(older, {**applied(older), "production": applied(newer)["production"]}, PlanOptions(),
                         FROZEN)
    kind, _, blocked, _ = only_action(rollback, "production", "model/sentiment")
    assert kind is ActionKind.ROLLBACK and blocked is None  # restoring service is never frozen


def test_promotes_from_blocks_until_the_version_is_healthy_upstream(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    newer = desired(tmp_path, "newer", *sentiment_150("production"))  # staging still declares 1.4.2
    serves_150 = serving(desired(tmp_path, "both", *sentiment_150("staging")).environments["staging"]
                         .models["sentiment"])

    def blocked(upstream: ModelState | None) -> str | None:
        states = {**applied(older), "staging": with_model(applied(older)["staging"], "sentiment", upstream)}
        return only_action(make_plan(newer, states, PlanOptions(("production",)), T0),
                           "production", "model/sentiment")[2]

    assert blocked(serving(older.environments["staging"].models["sentiment"])) == (
        "1.5.0 must be Healthy in staging first; staging serves 1.4.2, Healthy")
    assert blocked(serves_150.model_copy(update={"phase": "Degraded"})) == (
        "1.5.0 must be Healthy in staging first; staging serves 1.5.0, Degraded")
    assert blocked(None) == "1.5.0 must be Healthy in staging first; staging does not serve it"
    assert blocked(serves_150) is None
    assert blocked(serves_150.model_copy(update={"phase": "RolledBack"})) is None  # the stable version serves


def test_promotes_from_passes_a_version_planned_upstream_earlier_in_the_same_run(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    newer = desired(tmp_path, "newer", *sentiment_150("staging", "production"))
    whole = make_plan(newer, applied(older), PlanOptions(), T0)
    assert [(a.environment, a.kind.value, a.blocked) for a in whole.actions] == [
        ("staging", "upgrade", None), ("production", "upgrade", None)]
    alone = make_plan(newer, applied(older), PlanOptions(("production",)), T0)
    assert only_action(alone, "production", "model/sentiment")[2] == (
        "1.5.0 must be Healthy in staging first; staging serves 1.4.2, Healthy")

    # an upstream action that is itself blocked does not count
    revision = newer.environments["staging"].models["sentiment"].revision
    rejected = serving(older.environments["staging"].models["sentiment"]).model_copy(update={
        "phase": "RolledBack", "desired_rejected": Rejection(version="1.5.0", revision=revision, at=AT,
                                                             reason="test eval failed")})
    states = {**applied(older), "staging": with_model(applied(older)["staging"], "sentiment", rejected)}
    held = make_plan(newer, states, PlanOptions(), T0)
    assert only_action(held, "staging", "model/sentiment")[2] is not None
    assert only_action(held, "production", "model/sentiment")[2] == (
        "1.5.0 must be Healthy in staging first; staging serves 1.4.2, RolledBack")


def test_a_rejected_revision_is_blocked_unless_retry_rejected(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    newer = desired(tmp_path, "newer", *sentiment_150("staging"))
    revision = newer.environments["staging"].models["sentiment"].revision
    rolled_back = serving(older.environments["staging"].models["sentiment"]).model_copy(update={
        "phase": "RolledBack", "desired_rejected": Rejection(version="1.5.0", revision=revision, at=AT,
                                                             reason="test eval failed")})
    states = {**applied(older), "staging": with_model(applied(older)["staging"], "sentiment", rolled_back)}
    plan = make_plan(newer, states, PlanOptions(("staging",)), T0)
    assert only_action(plan, "staging", "model/sentiment")[2] == (
        "1.5.0 was rolled back at 2026-11-27T12:00:00Z (test eval failed); fix it and bump the version, roll back the "
        "YAML (`modelops rollback`), or re-apply with --retry-rejected")
    retried = make_plan(newer, states, PlanOptions(("staging",), retry_rejected=True), T0)
    assert only_action(retried, "staging", "model/sentiment")[:3:2] == (ActionKind.UPGRADE, None)
    assert retried.options["retry_rejected"] is True
    fixed = desired(tmp_path, "fixed", (SENTIMENT.format(env="staging"), "1.4.2", "1.5.1"))
    assert only_action(make_plan(fixed, states, PlanOptions(("staging",)), T0),
                       "staging", "model/sentiment")[2] is None  # another revision is not the rejected one


def test_a_rollout_paused_at_a_manual_gate_waits_for_promote(tmp_path: Path) -> None:
    embedder = "environments/staging/models/embedder.yaml"
    before = desired(tmp_path, "before", (embedder, "- analysis: quality", "- pause: {}\n        - analysis: quality"))
    after = desired(tmp_path, "after", (embedder, "- analysis: quality", "- pause: {}\n        - analysis: quality"),
                    (embedder, "0.9.0", "0.9.1"))
    fresh = make_plan(after, applied(before), PlanOptions(("staging",)), T0).actions[0]
    pause = next(i for i, s in enumerate(fresh.steps) if s.op == "pause")
    assert fresh.steps[pause].args == {"duration_ms": None, "reason": "canary pause"}
    model = after.environments["staging"].models["embedder"]
    rollout = Rollout(attempt=2, kind="upgrade", version="0.9.1", revision=model.revision, config=model.config,
                      spec=dump(model.spec), slot="green", steps=[s.to_dict() for s in fresh.steps], next_step=pause,
                      pause_reason="manual gate: canary pause")
    paused = serving(before.environments["staging"].models["embedder"]).model_copy(
        update={"rollout": rollout, "phase": "Paused"})
    states = {**applied(before), "staging": with_model(applied(before)["staging"], "embedder", paused)}

    waiting = make_plan(after, states, PlanOptions(("staging",)), T0).actions[0]
    total = len(fresh.steps)
    assert (waiting.kind, waiting.resume_from) == (ActionKind.UPGRADE, pause)
    assert waiting.reason == f"resume upgrade to 0.9.1 at step {pause + 1}/{total} (manual gate: canary pause)"
    assert waiting.blocked == (f"paused at step {pause + 1}/{total} (manual gate: canary pause); continue with "
                               "`modelops promote embedder --env staging`")
    promoted = make_plan(after, states, PlanOptions(("staging",), promote=frozenset({"embedder"})), T0).actions[0]
    assert promoted.blocked is None and promoted.resume_from == pause
