"""modelops.services.plan: a plan saved with `out`, a plan scoped to what changed since a git revision (which
reads only what that change touches), and the notes an interrupted apply leaves on the next plan."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
from modelops.core.plan import Plan
from modelops.services.plan import PlanRequest, resume_notes, run_plan
from modelops.state.journal import open_journal
from modelops.state.store import write_state
from modelops.workspace import InvalidConfig, Workspace

from tests.support.recording import serving_state
from tests.support.repo import bump, write

NOW = "2026-11-27T12:30:00Z"


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", NOW)


@pytest.fixture
def applied(repo: Path) -> Path:
    """The example repository, committed, with every environment recorded as serving what it declares."""
    ws = Workspace.load(repo)
    for env in ws.desired.environments.values():
        write_state(repo, serving_state(env))
    with git.Repo.init(repo) as handle:
        handle.git.add(A=True)
        handle.index.commit("applied")
    return repo


def targets(plan: Plan) -> list[tuple[str, str, str]]:
    return [(a.environment, a.kind.value, a.target) for a in plan.actions]


def test_a_plan_is_saved_where_out_says(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "plans" / "first.json"
    out.parent.mkdir()
    plan = run_plan(repo, PlanRequest(environments=("staging",), out=out))
    assert out.read_text(encoding="utf-8") == plan.to_json()
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert (saved["id"], saved["created"], [e["name"] for e in saved["environments"]]) == (plan.id, NOW, ["staging"])
    assert saved["change_summary"] == {"models": {"deploy": 5, "change": 0, "retire": 0, "rollback": 0},
                                         "policies": {"add": 6, "change": 0, "remove": 0}, "blocked": 0, "drifted": 0}
    assert Plan.from_dict(saved).to_dict() == plan.to_dict()


def test_a_plan_since_a_revision_covers_only_what_changed(applied: Path) -> None:
    bump(applied, "environments/staging/models/sentiment.yaml", "1.4.2", "1.5.0")
    plan = run_plan(applied, PlanRequest(changed_since="HEAD"))
    assert [e.name for e in plan.environments] == ["staging"]
    assert targets(plan) == [("staging", "upgrade", "model/sentiment")]
    assert plan.options["changed_since"] == "HEAD"


def test_a_plan_since_a_revision_does_not_read_the_files_the_change_does_not_touch(applied: Path) -> None:
    write(applied, "environments/production/models/recommender.yaml", "spec: [this is not a model\n")
    with git.Repo(applied) as handle:
        handle.git.add(A=True)
        handle.index.commit("a broken file the next change does not touch")
    with pytest.raises(InvalidConfig):
        run_plan(applied, PlanRequest())  # the whole repository is read: the broken file stops the plan
    bump(applied, "environments/staging/models/summarizer.yaml", "0.3.0-rc.1", "0.3.0")
    plan = run_plan(applied, PlanRequest(changed_since="HEAD"))
    assert targets(plan) == [("staging", "upgrade", "model/summarizer")]


def test_a_policy_change_since_a_revision_plans_it_in_every_environment_that_uses_it(applied: Path) -> None:
    bump(applied, "policies/scaling/gpu-standard.yaml", "maxReplicas: 20", "maxReplicas: 24")
    plan = run_plan(applied, PlanRequest(changed_since="HEAD"))
    assert targets(plan) == [("staging", "policy.change", "ScalingPolicy/gpu-standard"),
                             ("production", "policy.change", "ScalingPolicy/gpu-standard")]


def test_a_change_that_touches_no_environment_plans_nothing(applied: Path) -> None:
    write(applied, "docs/notes.md", "nothing the engine reads\n")
    plan = run_plan(applied, PlanRequest(changed_since="HEAD"))
    assert plan.environments == () and plan.options == {"changed_since": "HEAD"}


def interrupt(root: Path) -> None:
    """Leave the journal of an apply that began and was stopped while summarizer's deploy step ran."""
    journal = open_journal(root, "staging")
    journal.record("begin", plan="plan-1", serial=1, lineage="lineage-1")
    journal.record("started", model="summarizer", step=1, op="deploy", key="lineage-1/staging/summarizer/1/1")
    journal.close(remove=False)


def test_an_interrupted_apply_is_noted_on_the_next_plan(applied: Path) -> None:
    ws = Workspace.load(applied)
    assert resume_notes(ws) == {}
    interrupt(applied)
    ws.forget("staging")
    note = (f"an apply started at {NOW} was interrupted; the next apply resumes it; step 2 of summarizer (deploy) "
            "will run again")
    assert resume_notes(ws) == {"staging": (note,)}
    assert resume_notes(ws, ("production",)) == {}
    plan = run_plan(applied, PlanRequest())
    assert [(e.name, e.notes) for e in plan.environments] == [("staging", (note,)), ("production", ())]
