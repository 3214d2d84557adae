"""Running inside GitHub Actions: annotations, the job summary and step outputs.

GitHub sets `GITHUB_ACTIONS=true` in every step, `GITHUB_STEP_SUMMARY` to a Markdown file shown on the
run's page, `GITHUB_OUTPUT` to a file of `name=value` step outputs, and `GITHUB_WORKSPACE` to the checkout.
Annotations are workflow commands on stdout (`::error file=...,line=...::message`); their paths are
relative to the checkout, so the ops root's offset inside it (`--repo ops/`) is added.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from modelops.base.diagnostics import Diagnostic
from modelops.base.errors import UsageError
from modelops.cli.views.diagnostics import github_annotation

Environ = Mapping[str, str]


def _env(environ: Environ | None) -> Environ:
    return os.environ if environ is None else environ


def in_actions(environ: Environ | None = None) -> bool:
    return _env(environ).get("GITHUB_ACTIONS") == "true"


def workspace_prefix(root: Path, environ: Environ | None = None) -> str:
    """The ops root relative to its checkout (`ops/`), or "" when it is the checkout or outside the workspace.

    The checkout is the innermost folder from the ops root up to the workspace that holds `.git`: the plan
    workflow checks the pull request out into a folder of the workspace (`pr/`), and GitHub places annotations
    by their path in the repository, not in the workspace."""
    workspace = _env(environ).get("GITHUB_WORKSPACE")
    if not workspace:
        return ""
    here, top = root.resolve(), Path(workspace).resolve()
    if here != top and top not in here.parents:
        return ""
    checkout = next((p for p in (here, *here.parents) if p == top or (p / ".git").exists()), top)
    rel = here.relative_to(checkout).as_posix()
    return "" if rel == "." else rel + "/"


def annotate(diagnostics: Sequence[Diagnostic], root: Path, environ: Environ | None = None) -> str:
    """One workflow command per diagnostic, on the file and line GitHub shows in the pull request."""
    prefix = workspace_prefix(root, environ)
    return "\n".join(github_annotation(replace(d, file=prefix + d.file) if d.file and prefix else d)
                     for d in diagnostics)


def append_step_summary(markdown: str, environ: Environ | None = None) -> bool:
    """Append Markdown to the job summary; False when there is no summary file (not in Actions)."""
    path = _env(environ).get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(markdown.rstrip("\n") + "\n\n")
    return True


def set_outputs(values: Mapping[str, str], environ: Environ | None = None) -> None:
    """Write step outputs to `$GITHUB_OUTPUT`, in the multi-line form (`name<<DELIMITER`) that any value fits."""
    path = _env(environ).get("GITHUB_OUTPUT")
    if not path:
        raise UsageError("--github-output needs $GITHUB_OUTPUT, which GitHub Actions sets in every step",
                         hint="run it inside a workflow step, or set GITHUB_OUTPUT to a file")
    lines = []
    for name, value in values.items():
        delimiter = f"ghadelimiter_{uuid.uuid4()}"  # random, so no value can end the block early
        lines += [f"{name}<<{delimiter}", value, delimiter]
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
