"""The apply views: progress on a terminal and in logs, and the confirmation prompt."""

from __future__ import annotations

import io

import pytest
from modelops.base.console import Console
from modelops.cli.views.apply import ProgressView
from modelops.cli.views.confirm import Confirmation
from modelops.core.plan import Action, ActionKind, Plan, Step
from modelops.run.executor import StepOutcome


def test_progress_is_human_on_a_terminal_and_structured_otherwise() -> None:
    action = Action(ActionKind.UPGRADE, "staging", "model/m", None, {}, "upgrade 1 -> 2")
    step = Step("deploy", "prepare", {"slot": "green", "version": "2.0.0", "role": "preview", "replicas": 1})
    structured = "env=staging target=model/m step=1/3 op=deploy status=ok duration=0.250s msg=done"
    for human, expected in ((True, "  [1/3] deploy 2.0.0 to slot green (preview, 1 replica)  ✓ done (250ms)"),
                            (False, structured)):
        out = io.StringIO()
        ProgressView(Console(out=out), human=human).step_finished(action, 0, 3, step, StepOutcome("ok", "done",
                                                                                                  seconds=0.25))
        assert expected in out.getvalue()


def test_confirmation_accepts_only_yes(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = Plan("id", "0", "t", ())
    for answer, expected in (("yes", True), ("y", False), ("", False)):
        monkeypatch.setattr("click.prompt", lambda *a, _answer=answer, **k: _answer)
        assert Confirmation(Console(out=io.StringIO()), auto_approve=False, interactive=True)(plan) is expected
