"""The wait's progress: a line rewritten in place on a terminal, one log line per change elsewhere (never one per
poll), and a summary that says what the cluster decided."""

from __future__ import annotations

import io

from modelops.base.console import Console
from modelops.cli.views.wait import WaitView, summary
from modelops.drivers.cluster.values import ModelRead, Served
from modelops.run.gates import GateResult
from modelops.services.wait import EnvironmentWait, ModelOutcome, WaitOutcome

MOVING = ModelRead("fraud", "Rollout", "fraud", "Progressing", "sha256:new", True,
                   (Served("1.0.0", "sha256:old", 75), Served("1.1.0", "sha256:new", 25)), step="1/4",
                   message="more replicas need to be updated")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_progress_line_is_rewritten_and_events_get_lines_of_their_own() -> None:
    out = Terminal()
    view = WaitView(Console(out=out), human=True)
    view.model("prod", MOVING, 12.0, 900.0)
    view.model("prod", MOVING, 13.0, 900.0)
    view.gate("prod", "fraud", "tests at http://svc/fraud-preview", GateResult("pass", "1 passed (smoke)"))
    view.finished("prod", ModelOutcome("fraud", "healthy", "", MOVING, "1.1.0"))
    text = out.getvalue()
    assert text.count("\r\x1b[2K  prod: fraud Progressing · 1.0.0 75%, 1.1.0 25% · step 1/4") == 2
    assert "(0:13 of 15:00)" in text
    assert text.endswith("\r\x1b[2K  prod/fraud: tests at http://svc/fraud-preview ✓ 1 passed (smoke)\n"
                         "  prod/fraud: ✓ healthy\n")


def test_in_a_log_each_change_is_one_line_and_a_repeated_poll_is_none() -> None:
    out = io.StringIO()
    view = WaitView(Console(out=out), human=False)
    for elapsed in (1.0, 2.0, 3.0):
        view.model("prod", MOVING, elapsed, 900.0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "env=prod model=fraud kind=Rollout phase=Progressing step=1/4" in lines[0]


def test_the_summary_names_what_was_rolled_back_and_why() -> None:
    back = ModelOutcome("fraud", "rolled_back", "Metric \"error-budget\" assessed Failed", MOVING, "1.0.0")
    text = summary(WaitOutcome([EnvironmentWait("prod", [back], written_back=["environments/prod/models/f.yaml"])],
                               committed="c" * 40, pushed="origin/main"), Console())
    assert text.splitlines() == [
        'prod/fraud: rolled back to 1.0.0: Metric "error-budget" assessed Failed',
        "prod: wrote back environments/prod/models/f.yaml",
        "Committed cccccccccccc, pushed to origin/main.",
        "Wait failed! 0 of 1 model Healthy in the cluster."]
