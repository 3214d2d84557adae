"""modelops.cli.views.monitor: the summary line of a monitor run."""

from __future__ import annotations

from modelops.cli.views.monitor import NOTIFICATION_OUTCOMES, summary
from modelops.notify.base import Outcome
from modelops.ops.lifecycle import Decision
from modelops.ops.monitor import MonitorReport, NotificationRow


def report(*outcomes: str) -> MonitorReport:
    rows = [NotificationRow("g", "p", f"c{i}", "slack", "trigger", o, "t") for i, o in enumerate(outcomes)]
    return MonitorReport("production", "2026-11-27T12:00:00Z", "file", False, [], rows, state_written=True)


def test_notification_counts_come_in_one_order_whichever_row_came_first() -> None:
    # channels are sent to concurrently: which delivery failed is not the same from run to run
    first = summary(report("failed", "sent", "sent", "muted", "failed", "held"))
    second = summary(report("held", "sent", "muted", "failed", "sent", "failed"))
    assert first == second == "Models: none. Notifications: 2 sent, 2 failed, 1 muted, 1 held. State recorded."


def test_every_outcome_a_row_can_have_is_counted() -> None:
    decisions = set(Decision.__args__) - {"send"}  # a "send" row ends as a delivery's outcome, or would send
    assert decisions | set(Outcome.__args__) | {"would send"} == set(NOTIFICATION_OUTCOMES)
