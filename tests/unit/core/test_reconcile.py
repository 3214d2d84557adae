"""The planner against what serves: drift blocks a model's actions until it is accepted or overridden, renames move
a record, retirements that could take a serving model away wait, a forward move is never a rollback, and every
declared test runs in every strategy. Pure: the desired state comes from the example repository, the recorded
states and what the targets report are values built here."""

from __future__ import annotations

from pathlib import Path

from modelops.core.diff import make_plan
from modelops.core.live import LiveModel, LiveSlot, Observation, Refresh
from modelops.core.plan import ActionKind, Plan, PlanOptions
from modelops.state.format import EnvironmentState, ModelState, Release

from tests.support.plans import SENTIMENT, T0, applied, desired, only_action, sentiment_150, with_model
from tests.support.recording import serving

STAGING = ("staging",)


def as_reported(state: EnvironmentState, **changes: LiveModel | None) -> Refresh:
    """What a target that serves exactly the record reports, with some models reported otherwise."""
    models = {name: LiveModel({str(s): LiveSlot(h.version, h.revision) for s, h in ms.slots.items()},
                              {str(s): w for s, w in ms.traffic.items()}) for name, ms in state.models.items()}
    for name, model in changes.items():
        if model is None:
            models.pop(name, None)
        else:
            models[name] = model
    return Refresh(Observation("the test target", models))


def switched_to_a_new_slot(ms: ModelState, slot: str = "green") -> LiveModel:
    held = next(iter(ms.slots.values()))
    return LiveModel({slot: LiveSlot(held.version, held.revision)}, {slot: 100})


def section(plan: Plan, env: str = "staging"):  # type: ignore[no-untyped-def]
    return next(e for e in plan.environments if e.name == env)


# -- drift -----------------------------------------------------------------------------------------------


def test_a_plan_that_read_the_target_and_found_it_as_recorded_shows_no_drift(tmp_path: Path) -> None:
    want = desired(tmp_path, "same")
    states = applied(want)
    plan = make_plan(want, states, PlanOptions(STAGING), T0, {"staging": as_reported(states["staging"])})
    assert section(plan).drift == () and section(plan).live == "the test target"
    assert not plan.has_changes and plan.options["refresh"] is True


def test_drift_is_shown_per_model_and_blocks_that_models_actions_only(tmp_path: Path) -> None:
    older, newer = desired(tmp_path, "older"), desired(tmp_path, "newer", *sentiment_150("staging"),
                                                      ("environments/staging/models/embedder.yaml", "0.9.0", "0.9.1"))
    states = applied(older)
    staging = states["staging"]
    refresh = as_reported(staging, sentiment=switched_to_a_new_slot(staging.models["sentiment"]))
    plan = make_plan(newer, states, PlanOptions(STAGING), T0, {"staging": refresh})
    (found,) = section(plan).drift
    assert found.model == "sentiment"
    assert [p for p, _, _ in found.changes] == ["slots.blue", "slots.green", "traffic.blue", "traffic.green"]
    kind, _, blocked, _ = only_action(plan, "staging", "model/sentiment")
    assert kind is ActionKind.UPGRADE and blocked is not None
    assert blocked.startswith("changed outside modelops (slots.blue: ")
    assert "`modelops apply --refresh-only --env staging`" in blocked and "--override-drift" in blocked
    assert only_action(plan, "staging", "model/embedder")[2] is None  # the others go ahead
    assert plan.change_summary()["drifted"] == 1


def test_drift_without_any_action_still_makes_a_difference(tmp_path: Path) -> None:
    want = desired(tmp_path, "same")
    states = applied(want)
    staging = states["staging"]
    refresh = as_reported(staging, sentiment=switched_to_a_new_slot(staging.models["sentiment"]))
    plan = make_plan(want, states, PlanOptions(STAGING), T0, {"staging": refresh})
    assert section(plan).actions == () and len(plan.drift) == 1
    assert plan.to_dict()["environments"][0]["drift"][0]["model"] == "sentiment"


def test_override_plans_from_what_serves_and_blocks_nothing(tmp_path: Path) -> None:
    want = desired(tmp_path, "want", *sentiment_150("staging"))
    states = applied(want)
    staging = states["staging"]
    served = staging.models["sentiment"]
    # someone put 1.4.2 back by hand: a slot the record does not have, with all the traffic
    release = Release(version="1.4.2", revision="sha256:old", spec={"version": "1.4.2"}, at="2026-11-01T00:00:00Z")
    recorded = with_model(staging, "sentiment", served.model_copy(update={"releases": [release, *served.releases]}))
    live = LiveModel({"green": LiveSlot("1.4.2", "sha256:old"), "blue": LiveSlot(served.version or "", served.revision
                                                                                  or "")}, {"green": 100})
    refresh = as_reported(recorded, sentiment=live)
    plan = make_plan(want, {**states, "staging": recorded}, PlanOptions(STAGING, override_drift=True), T0,
                     {"staging": refresh})
    kind, reason, blocked, steps = only_action(plan, "staging", "model/sentiment")
    assert blocked is None and kind is ActionKind.UPGRADE  # 1.4.2 -> 1.5.0 again, with its gates
    assert reason.startswith("upgrade 1.4.2 -> 1.5.0") and "test" in steps


def test_a_target_that_could_not_be_read_blocks_model_actions_not_policies(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    newer = desired(tmp_path, "newer", *sentiment_150("staging"),
                    ("policies/alerts/model-slo.yaml", "for: 5m", "for: 6m"))
    refresh = Refresh(Observation("the platform", {}, "connection refused"))
    plan = make_plan(newer, applied(older), PlanOptions(STAGING), T0, {"staging": refresh})
    blocked = only_action(plan, "staging", "model/sentiment")[2]
    assert blocked == ("the target could not be read (connection refused), so what it serves is unknown; fix that "
                       "and plan again")
    assert only_action(plan, "staging", "AlertPolicy/model-slo")[2] is None
    assert section(plan).live_error == "connection refused"


def test_a_plan_from_the_record_alone_says_so(tmp_path: Path) -> None:
    want = desired(tmp_path, "want")
    plan = make_plan(want, applied(want), PlanOptions(), T0)
    assert plan.options["refresh"] is False and all(e.live is None for e in plan.environments)


# -- renames and retirements ---------------------------------------------------------------------------------------


def test_previous_names_move_the_record_with_no_redeploy(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    renamed = _renamed(tmp_path, "renamed", previous=True)
    plan = make_plan(renamed, applied(older), PlanOptions(STAGING), T0)
    section_ = section(plan)
    assert [(a.kind.value, a.target) for a in section_.actions] == [("move", "model/search-sentiment")]
    (move,) = section_.actions
    assert [(s.op, dict(s.args)) for s in move.steps] == [("rename", {"from": "sentiment"})]
    assert move.reason.startswith("renamed from sentiment (serving 1.4.2) (metadata.previousNames)")


def test_a_move_and_an_upgrade_of_the_renamed_model_plan_together(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    renamed = _renamed(tmp_path, "renamed", previous=True, version="1.5.0")
    plan = make_plan(renamed, applied(older), PlanOptions(STAGING), T0)
    assert [(a.kind.value, a.target) for a in section(plan).actions] == [
        ("move", "model/search-sentiment"), ("upgrade", "model/search-sentiment")]


def test_a_rename_without_previous_names_does_not_retire_the_serving_model(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    renamed = _renamed(tmp_path, "renamed", previous=False)
    plan = make_plan(renamed, applied(older), PlanOptions(STAGING), T0)
    kind, _, blocked, _ = only_action(plan, "staging", "model/sentiment")
    assert kind is ActionKind.RETIRE and blocked is not None
    assert blocked.startswith("it reappears as search-sentiment (the same version and artifact): for a rename, add "
                              "`previousNames: [sentiment]`")
    assert only_action(plan, "staging", "model/search-sentiment")[2] is None  # the new name may deploy
    forced = make_plan(renamed, applied(older), PlanOptions(STAGING, allow_retire=True), T0)
    assert only_action(forced, "staging", "model/sentiment")[2] is None


def test_a_retirement_whose_replacement_is_blocked_is_blocked_too(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    renamed = _renamed(tmp_path, "renamed", previous=False, env="production")
    states = applied(older)
    plan = make_plan(renamed, states, PlanOptions(("production",), allow_retire=True), T0)
    replacement = only_action(plan, "production", "model/search-sentiment")[2]
    assert replacement is not None and replacement.startswith("1.4.2 must be Healthy in staging first")
    blocked = only_action(plan, "production", "model/sentiment")[2]
    assert blocked is not None and blocked.startswith(
        "its replacement search-sentiment (the same revision) is blocked: retiring it now would leave nothing serving")


def test_retiring_in_an_environment_that_requires_approval_needs_consent(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    gone = desired(tmp_path, "gone", delete=("environments/production/models/embedder.yaml",))
    plan = make_plan(gone, applied(older), PlanOptions(("production",)), T0)
    blocked = only_action(plan, "production", "model/embedder")[2]
    assert blocked == ("production requires approval, and retiring takes embedder away from its users: list it in "
                       "spec.retire of environments/production/environment.yaml, or apply with --allow-retire")
    declared = desired(tmp_path, "declared", ("environments/production/environment.yaml", "  approval: required",
                                              "  approval: required\n  retire: [embedder]"),
                       delete=("environments/production/models/embedder.yaml",))
    assert only_action(make_plan(declared, applied(older), PlanOptions(("production",)), T0), "production",
                       "model/embedder")[2] is None
    assert only_action(make_plan(gone, applied(older), PlanOptions(("production",), allow_retire=True), T0),
                       "production", "model/embedder")[2] is None


# -- direction ---------------------------------------------------------------------------------------------


def test_a_newer_version_still_warm_is_an_upgrade_with_its_gates_not_a_rollback(tmp_path: Path) -> None:
    v142, v150 = desired(tmp_path, "v142"), desired(tmp_path, "v150", *sentiment_150("staging"))
    ms_142 = serving(v142.environments["staging"].models["sentiment"])
    ms_150 = serving(v150.environments["staging"].models["sentiment"])
    # rolled back to 1.4.2 while 1.5.0 stayed warm in the other slot
    warm = ms_150.slots["blue"].model_copy(update={"status": "warm"})
    back = ms_142.model_copy(update={"active_slot": "green", "slots": {"green": ms_142.slots["blue"], "blue": warm},
                                     "traffic": {"green": 100},
                                     "releases": [*ms_150.releases, *ms_142.releases]})
    state = with_model(applied(v142)["staging"], "sentiment", back)
    kind, reason, _, steps = only_action(make_plan(v150, {**applied(v142), "staging": state}, PlanOptions(STAGING),
                                                   T0), "staging", "model/sentiment")
    assert kind is ActionKind.UPGRADE and reason.startswith("upgrade 1.4.2 -> 1.5.0")
    assert "test" in steps and "analysis" in steps  # not a switch-only rollback


def test_the_same_version_with_a_revision_that_served_before_is_a_rollback(tmp_path: Path) -> None:
    base = desired(tmp_path, "base")
    other = desired(tmp_path, "image", (SENTIMENT.format(env="staging"), "v0.6.3", "v0.6.4"))  # a new revision
    first = serving(base.environments["staging"].models["sentiment"])
    second = serving(other.environments["staging"].models["sentiment"])
    assert first.version == second.version and first.revision != second.revision
    now_serving = second.model_copy(update={"releases": [*first.releases, *second.releases]})
    state = with_model(applied(base)["staging"], "sentiment", now_serving)
    kind, _, _, _ = only_action(make_plan(base, {**applied(base), "staging": state}, PlanOptions(STAGING), T0),
                                "staging", "model/sentiment")
    assert kind is ActionKind.ROLLBACK


# -- every declared test runs -----------------------------------------------------------------------------------


def test_recreate_tests_the_replacement_before_it_takes_traffic(tmp_path: Path) -> None:
    older = desired(tmp_path, "older")
    newer = desired(tmp_path, "newer", ("environments/staging/models/summarizer.yaml", "0.3.0-rc.1", "0.3.0"))
    _, _, _, steps = only_action(make_plan(newer, applied(older), PlanOptions(STAGING), T0), "staging",
                                 "model/summarizer")
    assert steps.index("deploy") < steps.index("test") < steps.index("traffic")


def _renamed(tmp_path: Path, name: str, *, previous: bool, version: str | None = None, env: str = "staging"):  # type: ignore[no-untyped-def]
    """The example with `sentiment` of `env` renamed to `search-sentiment` (same file, new name)."""
    rel = SENTIMENT.format(env=env)
    metadata = "  name: search-sentiment\n" + ("  previousNames: [sentiment]\n" if previous else "")
    edits = [(rel, "  name: sentiment\n", metadata)]
    if version is not None:
        edits.append((rel, "1.4.2", version))
    return desired(tmp_path, name, *edits)
