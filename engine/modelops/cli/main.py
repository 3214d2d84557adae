"""Entry point: `modelops [--repo DIR] [--color auto|always|never] [--debug] COMMAND`.

Commands are imported only when they run, so `modelops --help` starts fast. Every exception is
handled here, once: usage errors exit 64 (never click's 2, which `plan --detailed-exitcode` uses for
"changes present"), engine errors exit with their own code, and anything unexpected exits 70 with a
log file holding the traceback.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from modelops import __version__
from modelops.base.errors import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, EngineError, Terminated
from modelops.base.layout import logs_dir
from modelops.cli.terminate import raise_on_sigterm

#: name -> one-line help; the command lives in `modelops.cli.commands.<name>`. The help is here so listing
#: commands imports nothing.
COMMANDS: dict[str, str] = {
    "validate": "Check the configuration: syntax, schema, references, guardrails.",
    "plan": "Show what apply would do, per environment, with reasons and steps.",
    "apply": "Deploy, test, switch traffic, roll back on failure, record state.",
    "wait": "Wait for the cluster to run the commit; record its real outcome.",
    "rollback": "Roll a model back (instantly when warm) and write the YAML back.",
    "promote": "Promote a version to the next environment, or resume a pause.",
    "status": "What each environment serves: versions, slots, traffic, phase.",
    "history": "Rollout attempts and traffic switches of a model.",
    "unlock": "Break a lock held on another host, stuck, or unreadable.",
    "local": "The local target's processes: local up, down, status.",
    "monitor": "Evaluate alert rules, keep alert state, notify channels.",
    "report": "Render environments/<env>/REPORT.md from config and state.",
    "export": "Prometheus rules and tests, Alertmanager routes, Kubernetes manifests.",
    "capacity": "Utilisation, growth, replicas and cost ahead; recommendations.",
    "assess": "Operations maturity per area, with the changes that raise it.",
    "incident": "Incidents from critical alerts and rollbacks: list, show, reviews.",
    "maintenance": "Old versions, images behind their channel, unpinned artifacts.",
    "schema": "Print the JSON Schema of a kind (for editors and CI).",
    "init": "Start an ops repository (never overwrites a file).",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"modelops.cli.commands.{cmd_name}")
        return module.command  # type: ignore[no-any-return]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(list(COMMANDS.items()))

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                           list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            from modelops.base.diagnostics import suggestion

            raise click.UsageError(f'unknown command "{name}"{suggestion(name, COMMANDS)}', ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="Root of the ops repository.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour output (auto: on a terminal, unless NO_COLOR is set).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.version_option(__version__, "--version", prog_name="modelops")
@click.pass_context
def cli(ctx: click.Context, repo: Path, color: str, debug: bool) -> None:
    """modelops: a declarative GitOps engine for operating AI models.

    Exit codes: 0 success or no changes, 1 invalid configuration or failed operation, 2 changes present
    (plan --detailed-exitcode), 3 conflict (lock held, stale plan, newer state), 64 usage error, 70
    internal error.
    """
    from modelops.base.console import Console, wants_color
    from modelops.cli.app import App

    console = Console(color=wants_color(color, sys.stdout))
    ctx.obj = App(repo=repo.resolve(), console=console, debug=debug)
    if ctx.invoked_subcommand not in (None, *NO_REPOSITORY):
        _require_repository(ctx.obj.repo)
    _crash_dir[:] = [logs_dir(ctx.obj.repo)]


#: commands that work without an ops repository (`init` makes one)
NO_REPOSITORY = ("init", "schema")


def _require_repository(root: Path) -> None:
    """A mistyped --repo (or a job run from the wrong directory) must not pass as an empty, valid repository."""
    if not root.is_dir():
        raise click.UsageError(f"Invalid value for '--repo': directory {root} does not exist")
    if not any((root / top).is_dir() for top in ("environments", "policies")):
        raise EngineError(f"{root} is not a modelops repository: it has no environments/ or policies/ directory",
                          hint="pass --repo with the root of the ops repository, or start one with `modelops init`")


#: where an internal error's traceback goes: inside the repository (the engine writes nowhere else) once
#: --repo is known, the temporary directory before that
_crash_dir: list[Path] = []


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and turn every outcome into an exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    _crash_dir.clear()
    restore = raise_on_sigterm()  # SIGTERM unwinds like Ctrl-C: locks released, the journal kept
    try:
        result = cli.main(args=argv, prog_name="modelops", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        exc.show()
        return EXIT_USAGE
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except EngineError as exc:
        _report_engine_error(exc)
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_FAILED
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Terminated as exc:
        click.echo("Terminated (SIGTERM), locks released; an apply it stopped resumes from its journal on the next "
                   "apply.", err=True)
        return exc.exit_code
    except Exception as exc:
        return _internal_error(exc, debug)
    finally:
        restore()
    return result if isinstance(result, int) else EXIT_OK


def _report_engine_error(exc: EngineError) -> None:
    click.echo(f"Error: {exc.message}", err=True)
    if exc.hint:
        click.echo(f"Hint: {exc.hint}", err=True)


def _internal_error(exc: Exception, debug: bool) -> int:
    from modelops.cli.crash import report

    report(exc, debug, _crash_dir[0] if _crash_dir else None)  # scrubbed of secrets; the log never follows a link
    return EXIT_INTERNAL
