"""What `modelops init` did, file by file, and what to do next."""

from __future__ import annotations

from pathlib import Path

from modelops.base.console import Console
from modelops.services.init import Scaffold


def render(done: Scaffold, repo: Path, console: Console) -> str:
    rows = [*(("created", rel, "") for rel in done.written), *(("replaced", rel, "(--force)") for rel in done.replaced),
            *(("kept", rel, "(it holds something else; --force replaces it)") for rel in done.kept)]
    count = len(done.unchanged)
    rows += [("unchanged", f"{count} file{'s' if count != 1 else ''}", "already as init writes them")] if count else []
    width = max(len(verb) for verb, _, _ in rows)
    colours = {"created": "green", "replaced": "yellow", "kept": "yellow"}
    lines = [f"  {console.style(f'{verb:<{width}}', colours.get(verb, 'dim'))}  {rel}" + (f" {why}" if why else "")
             for verb, rel, why in rows]
    lines += [console.style(f"note: {note}", "yellow") for note in done.notes]
    if not done.changed:
        lines.append("\nNothing written: every starter file is already there.")
    lines += ["", "Next:", f"  modelops --repo {repo} validate && modelops --repo {repo} plan",
              "  pre-commit install      # validate the whole configuration on every commit that changes it",
              "  git add -A && git commit -m 'Start a modelops repository'"]
    return "\n".join(lines)
