"""The Attention section: each kind of finding from the recorded state, most urgent first, and one line when
there is nothing to say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelops.report.context import ReportContext
from modelops.report.fmt import NBSP
from modelops.report.render import render_report
from modelops.report.sections import attention

from tests.support.report import report_context as context

AT = "2026-03-04T11:30:00Z"
SERVING: dict[str, Any] = {"version": "0.9.0", "revision": "r1", "active_slot": "blue",
                           "slots": {"blue": {"version": "0.9.0", "revision": "r1", "status": "active", "since": AT}},
                           "traffic": {"blue": 100}}


def healthy(version: str) -> dict[str, Any]:
    slot = SERVING["slots"]["blue"] | {"version": version}
    return SERVING | {"version": version, "slots": {"blue": slot}}


def everything_served() -> dict[str, Any]:
    return {"embedder": healthy("0.9.0"), "fraud-detector": healthy("3.2.0"), "recommender": healthy("2.7.1"),
            "sentiment": healthy("1.4.2"), "summarizer": healthy("0.3.0-rc.1")}


def findings(ctx: ReportContext) -> list[tuple[str, tuple[str, ...]]]:
    data = attention.collect(ctx)
    assert data is not None
    return [(f.kind, f.models) for f in data["findings"]]


def test_nothing_to_say_is_one_line(tmp_path: Path) -> None:
    ctx = context(tmp_path, everything_served())
    assert findings(ctx) == []
    text = render_report(ctx, (attention.SECTION,))
    assert text.split("## Attention\n\n", 1)[1] == (
        "✅ Nothing needs attention: no critical alert is firing, no rollout is blocked, every model serves the "
        "version its YAML asks for, no slot is kept warm, and the capacity plan has no high-priority finding.\n")


def test_the_findings_come_most_urgent_first(tmp_path: Path) -> None:
    served = everything_served()
    served["sentiment"] = healthy("1.4.2") | {
        "version": "1.3.0", "desired_rejected": {"version": "1.4.2", "revision": "r2", "at": AT,
                                                 "reason": "test smoke failed."}}
    served["embedder"] |= {"slots": {**SERVING["slots"], "green": {"version": "0.8.0", "revision": "r0",
                                                                    "status": "warm", "since": AT,
                                                                    "warm_until": "2026-03-04T12:30:00Z"}}}
    served["recommender"] = healthy("2.7.0")  # the YAML asks for 2.7.1: not applied yet
    served["fraud-detector"] |= {"phase": "Paused", "rollout": {
        "attempt": 2, "kind": "upgrade", "version": "3.3.0", "revision": "r3", "config": "c", "spec": {},
        "slot": "green", "steps": [{}, {}, {}], "next_step": 1, "pause_reason": "manual approval"}}
    del served["summarizer"]  # never applied
    monitor = {"alerts": {"fraud-detector/model-slo/high-error-rate": {
        "model": "fraud-detector", "rule": "high-error-rate", "policy": "model-slo", "status": "firing",
        "severity": "critical", "firing_since": AT, "escalated": True}}}
    ctx = context(tmp_path, served, monitor)
    assert findings(ctx) == [("Critical alert", ("fraud-detector",)), ("Blocked", ("fraud-detector",)),
                             ("Rejected", ("sentiment",)), ("Not deployed", ("summarizer",)),
                             ("Not applied", ("recommender",)), ("Warm slot", ("embedder",))]
    text = render_report(ctx, (attention.SECTION,)).split("## Attention\n\n", 1)[1]
    assert text.splitlines()[0] == "6 findings need a person, most urgent first:"
    assert ("- 🔴 **Critical alert** `fraud-detector`: high-error-rate (model-slo) firing since "
            f"2026-03-04{NBSP}11:30, escalated → [Recent alerts](#recent-alerts)") in text
    assert ("- ⏸️ **Blocked** `fraud-detector`: upgrade to 3.3.0 paused at step 2 of 3: manual approval "
            "→ [Rollout history](#rollout-history)") in text
    assert (f"- ⛔ **Rejected** `sentiment`: 1.4.2 was rejected at 2026-03-04{NBSP}11:30: test smoke failed. The YAML "
            "still asks for it; 1.3.0 serves → [Models](#models)") in text
    assert "- 🕓 **Not applied** `recommender`: the YAML asks for 2.7.1; 2.7.0 serves" in text
    assert (f"- ♨️ **Warm slot** `embedder`: slot green keeps 0.8.0 running until 2026-03-04{NBSP}12:30 for instant "
            "rollback: a second fleet that costs money") in text


def test_a_cluster_that_disagrees_with_the_record_is_named(tmp_path: Path) -> None:
    served = everything_served()
    served["embedder"] |= {"cluster": {"phase": "Degraded", "version": "0.8.0", "revision": "r0",
                                       "message": "RolloutAborted", "at": AT}}
    ctx = context(tmp_path, served)
    assert findings(ctx) == [("Cluster", ("embedder",))]
    assert "the cluster reports Degraded (serves 0.8.0): RolloutAborted" in render_report(ctx, (attention.SECTION,))
