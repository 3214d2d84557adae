"""modelops.core.scope: what a change since a git revision touches (targets, the files to read, the environments
whose state is needed), and how `env/*` and `env/model-file:PATH` expand into models and policies."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
from modelops.base.gitdiff import GitDiff
from modelops.core.scope import Scope, changed_targets, expand, scope_of, upstreams
from modelops.workspace import Workspace

from tests.support.recording import serving_state
from tests.support.repo import bump, write

STAGING_SENTIMENT = "environments/staging/models/sentiment.yaml"
PRODUCTION_MODELS = [f"environments/production/models/{m}.yaml"
                     for m in ("embedder", "fraud-detector", "recommender", "sentiment")]


@pytest.fixture
def tracked(repo: Path) -> Path:
    """The example repository, committed: the revision the changes are measured against is HEAD."""
    with git.Repo.init(repo) as handle:
        handle.git.add(A=True)
        handle.index.commit("example")
    return repo


def scope(root: Path) -> Scope:
    return scope_of(root, GitDiff(root, "HEAD"), upstreams(root))


def test_the_environments_upstreams_are_read_from_their_files(tracked: Path) -> None:
    assert upstreams(tracked) == {"production": "staging", "staging": None}


def test_a_changed_model_file_selects_its_model_its_file_and_its_environment(tracked: Path) -> None:
    bump(tracked, STAGING_SENTIMENT, "1.4.2", "1.5.0")
    found = scope(tracked)
    assert found.targets == {"staging/model/sentiment"}
    assert found.files == {STAGING_SENTIMENT}
    assert found.environments == {"staging"}
    assert found.references == {"gpu-standard", "model-slo", "infrastructure", "ml-oncall"}  # the policies to read


def test_a_change_downstream_also_needs_the_upstream_state(tracked: Path) -> None:
    bump(tracked, "environments/production/models/recommender.yaml", "2.7.1", "2.8.0")
    found = scope(tracked)
    assert found.targets == {"production/model/recommender"}
    assert found.environments == {"production", "staging"}  # promotesFrom reads staging's recorded state


def test_a_changed_policy_selects_it_everywhere_with_the_model_files_that_mention_it(tracked: Path) -> None:
    bump(tracked, "policies/scaling/cpu-burst.yaml", "maxReplicas: 40", "maxReplicas: 50")
    found = scope(tracked)
    users = [f"environments/{env}/models/{m}.yaml" for env in ("production", "staging")
             for m in ("fraud-detector", "recommender")]
    assert found.files == set(users)
    assert found.targets == {"staging/ScalingPolicy/cpu-burst", "production/ScalingPolicy/cpu-burst",
                             *(f"{path.split('/')[1]}/model-file:{path}" for path in users)}
    assert found.environments == {"staging", "production"}
    assert found.references is None  # every policy is read

    ws = Workspace.load(tracked)
    assert expand(found.targets, ws.desired, ws.states(), ws.validation.documents) == {
        "staging/ScalingPolicy/cpu-burst", "production/ScalingPolicy/cpu-burst",
        "staging/model/fraud-detector", "staging/model/recommender",
        "production/model/fraud-detector", "production/model/recommender"}


def test_a_changed_environment_file_selects_everything_in_that_environment(tracked: Path) -> None:
    bump(tracked, "environments/production/environment.yaml", "approval: required", "approval: none")
    found = scope(tracked)
    assert found.targets == {"production/*"}
    assert found.files == set(PRODUCTION_MODELS)
    assert found.environments == {"production", "staging"}
    assert found.references is None


def test_a_deleted_model_is_selected_from_the_old_revision_and_no_file_is_read_for_it(tracked: Path) -> None:
    (tracked / "environments/staging/models/summarizer.yaml").unlink()
    found = scope(tracked)
    assert found.targets == {"staging/model/summarizer"}  # planned from its state: a retirement
    assert found.files == set() and found.environments == {"staging"}


def test_a_new_untracked_model_file_is_selected(tracked: Path) -> None:
    text = (tracked / "environments/staging/models/summarizer.yaml").read_text()
    write(tracked, "environments/staging/models/digest.yaml", text.replace("name: summarizer", "name: digest"))
    found = scope(tracked)
    assert found.targets == {"staging/model/digest"}
    assert found.files == {"environments/staging/models/digest.yaml"}


def test_files_outside_the_configuration_select_nothing(tracked: Path) -> None:
    write(tracked, "README.md", "# notes\n")
    write(tracked, "environments/staging/state.json", "{}\n")
    bump(tracked, "examples/checks/eval.py", "0.94", "0.95")
    found = scope(tracked)
    assert (found.targets, found.files, found.environments) == (set(), set(), set())


def test_expand_turns_an_environment_into_its_models_and_policies_desired_or_recorded(tracked: Path) -> None:
    ws = Workspace.load(tracked)
    production = ws.desired.environments["production"]
    recorded = serving_state(production)
    recorded = recorded.model_copy(update={"models": {**recorded.models, "legacy": recorded.models["sentiment"]},
                                           "policies": {**recorded.policies, "AlertPolicy/retired-rules": "sha256:x"}})
    states = {"staging": ws.state("staging"), "production": recorded}
    expanded = expand({"production/*"}, ws.desired, states, ws.validation.documents)
    assert expanded == {
        *(f"production/model/{m}" for m in ("embedder", "fraud-detector", "recommender", "sentiment", "legacy")),
        *(f"production/{p}" for p in production.policies), "production/AlertPolicy/retired-rules"}


def test_expand_turns_a_model_file_into_the_models_it_defines_and_keeps_plain_targets(tracked: Path) -> None:
    ws = Workspace.load(tracked)
    targets = {"staging/model-file:environments/staging/models/recommender.yaml", "production/model/sentiment",
               "staging/model-file:environments/staging/models/nowhere.yaml"}
    assert expand(targets, ws.desired, ws.states(), ws.validation.documents) == {
        "staging/model/recommender", "production/model/sentiment"}


def test_changed_targets_expands_the_scope_of_a_change_for_a_whole_repository_plan(tracked: Path) -> None:
    bump(tracked, "environments/staging/environment.yaml", "approval: none", "approval: required")
    ws = Workspace.load(tracked)
    assert changed_targets(tracked, GitDiff(tracked, "HEAD"), ws.desired, ws.states(), ws.validation.documents) == {
        *(f"staging/model/{m}" for m in ("embedder", "fraud-detector", "recommender", "sentiment", "summarizer")),
        *(f"staging/{p}" for p in ws.desired.environments["staging"].policies)}
