"""`modelops promote MODEL --from ENV --to ENV` and `modelops promote MODEL --env ENV`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_FAILED, EXIT_OK, UsageError
from modelops.cli.app import App, pass_app, reporting_invalid_config


@click.command("promote")
@click.argument("model")
@click.option("--from", "source", metavar="ENV", help="Environment where the version is Healthy.")
@click.option("--to", "target", metavar="ENV", help="Environment whose YAML gets that version.")
@click.option("--env", "environment", metavar="ENV", help="Resume MODEL's paused rollout in ENV instead.")
@click.option("--no-write", is_flag=True, help="With --from/--to: only check, do not edit the YAML.")
@click.option("--commit", is_flag=True, help="With --from/--to: commit the YAML edit.")
@pass_app
def command(app: App, model: str, source: str | None, target: str | None, environment: str | None,
            no_write: bool, commit: bool) -> int:
    """Promote MODEL's Healthy version from one environment to the next (edits YAML, applies nothing),
    or, with --env, pass the manual gate or inconclusive analysis its rollout is paused at."""
    from modelops.workspace import Workspace

    if environment is None and not (source and target):
        raise UsageError("give --from and --to (promote between environments) or --env (resume a pause)")
    with reporting_invalid_config(app):
        ws = Workspace.load(app.repo)
    if environment is not None:
        return _resume(app, ws, model, environment)
    from modelops.services.rollback import run_promotion

    assert source is not None and target is not None
    done = run_promotion(ws, model, source, target, not no_write, commit)
    if not done.edited:
        verb = "would be promoted" if no_write else "already matches"
        app.console.print(f"{model} in {target} {verb} {source}'s {done.version}." if not no_write else
                          f"{model} {done.version} is Healthy in {source} and can be promoted to {target}.")
        return EXIT_OK
    then = f"Committed {done.committed[:12]}" if done.committed else "Review and commit it"
    app.console.print(f"Promoted {model} {done.version} from {source} to {target}: edited {done.file} "
                      f"({', '.join(done.edited)}).\n{then}, then: modelops plan --env {target}")
    return EXIT_OK


def _resume(app: App, ws: object, model: str, environment: str) -> int:
    from modelops.cli.views import apply as view
    from modelops.cli.views.confirm import Confirmation
    from modelops.cli.views.lock import noting_takeovers
    from modelops.core.diff import target_key
    from modelops.services.apply import ApplyRequest, run_apply
    from modelops.workspace import Workspace

    assert isinstance(ws, Workspace)
    state = ws.state(ws.environment(environment).name).models.get(model)
    if state is None or state.rollout is None or state.phase != "Paused":
        raise UsageError(f"{model} has no paused rollout in {environment}")
    request = ApplyRequest((environment,), promote=frozenset({model}),
                           only=frozenset({target_key(environment, f"model/{model}")}))
    outcome = run_apply(ws, request, Confirmation(app.console, True, False),
                        view.ProgressView(app.console, app.console.interactive_out), app.console.print,
                        on_takeover=noting_takeovers(app.console))
    app.console.print("\n" + view.summary(outcome, app.console))
    return EXIT_FAILED if outcome.failed else EXIT_OK
