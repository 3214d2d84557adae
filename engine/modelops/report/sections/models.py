"""Models: what each model should serve (the YAML) beside what it serves (the recorded state)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from modelops.core.model import ModelConfig
from modelops.report.context import ReportContext
from modelops.report.fmt import moment, plural, traffic
from modelops.report.section import Section
from modelops.state.format import ModelState

_OUTCOME_MARKS = {"Promoted": "✅", "RolledBack": "↩️", "Failed": "❌", "Paused": "⏸️", "InProgress": "⏳",
                  "Superseded": "⏭️"}


@dataclass(frozen=True)
class ModelRow:
    """One row of the models table."""

    name: str
    labels: str
    desired: str
    serving: str
    traffic: str  # names the slots: `blue 100%`
    phase: str
    last_change: str
    in_sync: bool
    rejected: str | None
    cluster: str = "-"


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    names = ctx.model_names
    if not names:
        return None
    rows = [_row(name, ctx.desired(name), ctx.recorded(name)) for name in names]
    gitops = ctx.environment.spec.target.gitops
    clustered = gitops is not None and gitops.cluster is not None
    if clustered:
        rows = [replace(row, cluster=cluster_phase(ctx.recorded(row.name))) for row in rows]
    notes = [note for name in names for note in _notes(name, ctx.desired(name), ctx.recorded(name))]
    out_of_sync = sum(not r.in_sync for r in rows)
    rejected = sum(r.rejected is not None for r in rows)
    summary = f"{plural(len(rows), 'model')}: {len(rows) - out_of_sync} in sync, {out_of_sync} out of sync"
    summary += f", {plural(rejected, 'rejected version')}." if rejected else "."
    return {"rows": rows, "notes": notes, "summary": summary, "clustered": clustered}


def _row(name: str, desired: ModelConfig | None, state: ModelState | None) -> ModelRow:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(desired.labels.items())) if desired else ""
    wanted = desired.version if desired is not None else "(removed)"
    rejected = state.desired_rejected.version if state is not None and state.desired_rejected else None
    if state is None or state.version is None:
        return ModelRow(name, labels, wanted, "-", "-", "NotDeployed", "-", False, rejected)
    in_sync = desired is not None and state.version == desired.version and state.rollout is None
    return ModelRow(name, labels, wanted, state.version, traffic(state.traffic), state.phase, last_change(state),
                    in_sync, rejected)


def cluster_phase(state: ModelState | None) -> str:
    """What the cluster said at the last wait, beside the record: `Healthy at 1.5.0`, `Degraded (serves 1.4.2): …`,
    or `unconfirmed` when the record moved since (an apply without --wait) or no wait has read it."""
    if state is None or state.version is None:
        return "-"
    seen = state.cluster
    if seen is None:
        return "unconfirmed (no wait has read it)"
    if seen.revision != state.revision and seen.phase == "Healthy":
        return f"unconfirmed (last seen Healthy at {seen.version})"
    if seen.phase == "Healthy":
        return f"Healthy at {seen.version}"
    serves = f" (serves {seen.version})" if seen.version else ""
    why = f": {seen.message[:100]}" if seen.message else ""
    return f"{seen.phase}{serves}{why}"


def last_change(state: ModelState) -> str:
    """The latest attempt in one short phrase: `✅ upgrade 2026-03-03 10:00` (the mark says how it ended; the
    versions are beside it, the rollout history has the rest)."""
    if not state.history:
        return "-"
    last = state.history[-1]
    mark = _OUTCOME_MARKS.get(last.outcome, "")
    return f"{mark} {last.kind} {moment(last.ended or last.started)}".strip()


def outcome_mark(outcome: str) -> str:
    return _OUTCOME_MARKS.get(outcome, "")


def _notes(name: str, desired: ModelConfig | None, state: ModelState | None) -> list[dict[str, str]]:
    if state is None:
        return []
    notes = []
    if state.desired_rejected is not None:
        r = state.desired_rejected
        still = desired is not None and desired.version == r.version
        hint = " The YAML still asks for it: change the version, or apply again with --retry-rejected." if still else ""
        text = f"{r.version} was rejected at {moment(r.at)}: {r.reason.rstrip('.')}.{hint}"
        notes.append({"model": name, "kind": "rejected", "text": text})
    warm = state.warm_slot
    if warm is not None:
        until = f" until {moment(warm.warm_until)}" if warm.warm_until else ""
        notes.append({"model": name, "kind": "warm",
                      "text": f"slot {state.idle_slot} keeps {warm.version} warm{until} (instant rollback)."})
    if state.rollout is not None:
        r2 = state.rollout
        pause = f" ({r2.pause_reason})" if r2.pause_reason else ""
        notes.append({"model": name, "kind": "rollout",
                      "text": f"{r2.kind} to {r2.version} in flight, step {r2.next_step + 1} of {len(r2.steps)}"
                              f"{pause}."})
    return notes


SECTION = Section("models", "Models", collect)
