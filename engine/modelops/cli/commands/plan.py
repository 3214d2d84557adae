"""`modelops plan`."""

from __future__ import annotations

from pathlib import Path

import click

from modelops.base.errors import EXIT_CHANGES, EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config
from modelops.cli.render import emit
from modelops.cli.views import plan as view


@click.command("plan")
@options.environments("Plan only this environment (repeatable).")
@options.output_format(view.RENDERERS,
                       help="markdown: the pull-request comment; over 65,535 characters it is split into parts, each "
                            "starting with a <!-- modelops-plan part N/M --> line.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan for `modelops apply FILE`.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there are no changes, 2 when there are (blocked ones too).")
@click.option("--changed-since", metavar="GIT_REF", help="Plan only what changed since GIT_REF (and its dependents).")
@click.option("--retry-rejected", is_flag=True, help="Plan versions that were rolled back before.")
@options.refresh("Read what each target serves first and show drift; false plans from the recorded state alone "
                 "(a pull request's CI, which cannot reach the targets), and the plan says so.")
@options.override_drift()
@options.allow_retire()
@click.option("--github-output", is_flag=True, envvar="MODELOPS_GITHUB_OUTPUT",
              help="Set step outputs has_changes, plan_path (the --out file) and summary in $GITHUB_OUTPUT.")
@click.option("--notify", is_flag=True,
              help="Tell the channels subscribed to driftDetected (spec.notifications) of each model that drifted: a "
                   "scheduled drift check. Said on stderr; a channel that cannot be told is a warning.")
@pass_app
def command(app: App, environments: tuple[str, ...], fmt: str, out: Path | None, detailed_exitcode: bool,
            changed_since: str | None, retry_rejected: bool, refresh: bool, override_drift: bool, allow_retire: bool,
            github_output: bool, notify: bool) -> int:
    """Show what apply would do: actions per environment, with reasons and steps."""
    from modelops.base.gitdiff import GitDiff

    diff = GitDiff(app.repo, changed_since) if changed_since is not None else None  # git runs while we import
    from modelops.cli import publish
    from modelops.services.plan import PlanRequest, run_plan

    with reporting_invalid_config(app):
        plan = run_plan(app.repo, PlanRequest(environments, changed_since, retry_rejected, out, diff, refresh,
                                              override_drift, allow_retire))
    comment = publish.plan_comment(app.repo, plan)
    emit(app.console, view.RENDERERS, fmt, view.PlanOutput(plan, out, comment))
    publish.publish_plan(plan, comment, out, github_output)  # job summary and step outputs in GitHub Actions
    if notify:
        from modelops.services.plan import notify_drift

        for row in notify_drift(app.repo, plan):
            app.console.print(row.describe() if row.ok else app.console.style(f"warning: {row.describe()}", "yellow"),
                              err=True)
    # a blocked action, or drift, is a difference between Git and what serves, as much as a runnable action
    return EXIT_CHANGES if detailed_exitcode and (plan.actions or plan.drift) else EXIT_OK
