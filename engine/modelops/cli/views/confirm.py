"""The approval step of apply: show the plan, then ask (or refuse to ask, when nobody can answer)."""

from __future__ import annotations

from dataclasses import dataclass

import click

from modelops.base.console import Console
from modelops.base.errors import EngineError
from modelops.cli.views.plan import render_text, summary_line
from modelops.core.plan import Plan


@dataclass
class Confirmation:
    """Called with the plan before anything changes; returns whether to go ahead.

    On a terminal it asks for `yes` (unless --auto-approve). Without a terminal it cannot ask: then an
    environment with `approval: required` needs --auto-approve, and the others proceed.
    """

    console: Console
    auto_approve: bool
    interactive: bool
    shown: str = ""

    def __call__(self, plan: Plan) -> bool:
        self.console.print(render_text(plan, self.console))
        self.shown = summary_line(plan)
        if self.auto_approve:
            return True
        if not self.interactive:
            needs = [env.name for env in plan.environments if env.approval_required and env.runnable]
            if needs:
                raise EngineError(f"{', '.join(needs)} requires approval and no terminal is attached to ask",
                                  hint="pass --auto-approve (after the change was reviewed), or apply a saved plan")
            return True
        answer = click.prompt("\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n"
                              "  Enter a value", default="", show_default=False, err=False)
        return bool(answer.strip() == "yes")
