"""Where CI reads a plan or an apply: the pull-request Markdown, the job summary and step outputs.

Under GitHub Actions (`GITHUB_ACTIONS=true`) plan and apply append their Markdown to the job summary by
themselves; `plan --github-output` also sets the step outputs `has_changes`, `plan_path`, `summary` and
`environments`.
Outside Actions these functions do nothing unless asked explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from modelops.cli import github
from modelops.cli.views import markdown
from modelops.cli.views.plan import summary_line
from modelops.core.plan import Plan
from modelops.validate.repo import validate_repo

if TYPE_CHECKING:  # apply (and its drivers) is not loaded by commands that only plan
    from modelops.services.apply import ApplyOutcome


def plan_markdown(root: Path, plan: Plan, limit: int = markdown.COMMENT_LIMIT) -> list[str]:
    """The PR comment parts of a plan, with the configuration's guardrail warnings listed.

    The warnings come from validating again: the plan service keeps only the valid configuration, and
    validation is cheap next to what a reviewer loses when a warning is not shown.
    """
    warnings = [d for d in validate_repo(root).diagnostics if not d.is_error]
    return markdown.render_plan(plan, warnings, limit)


def plan_comment(root: Path, plan: Plan) -> Callable[[], str]:
    """The plan's pull-request Markdown, every part joined, computed on first use and then kept: printing it
    and the job summary share one validation, and a plan that needs neither runs none."""
    return cache(lambda: markdown.join_parts(plan_markdown(root, plan)))


def publish_plan(plan: Plan, comment: Callable[[], str], out: Path | None, github_output: bool) -> None:
    """The comment on the job summary (in GitHub Actions); with `github_output`, the step outputs."""
    if github.in_actions():
        github.append_step_summary(comment())
    if github_output:
        github.set_outputs({"has_changes": "true" if plan.has_changes else "false",
                            "plan_path": str(out.resolve()) if out is not None else "",
                            "summary": summary_line(plan),
                            # what an apply of this plan would change, for the PR comment's "on merge" line
                            "environments": " ".join(env.name for env in plan.environments if env.runnable)})


def publish_apply(outcome: ApplyOutcome) -> None:
    if github.in_actions():
        github.append_step_summary(markdown.render_apply(outcome))
