"""Alert rules per model: metric, warning and critical thresholds, and how long the condition must hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops.config.catalog import METRICS
from modelops.config.spec.policies import AlertRule, Thresholds
from modelops.report.context import ReportContext
from modelops.report.fmt import measure
from modelops.report.section import Section


@dataclass(frozen=True)
class RuleRow:
    model: str
    policy: str
    rule: str
    metric: str | None
    query: str | None
    warning: str
    critical: str
    for_: str
    runbook: str | None


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    rows = []
    for model in ctx.configured():
        rows += [_row(model.name, policy_name, rule) for policy_name, rule in ctx.environment.alert_rules(model)]
    if not rows:
        return None
    return {"rows": rows}


def _row(model: str, policy: str, rule: AlertRule) -> RuleRow:
    unit = METRICS[rule.metric].unit if rule.metric else ""
    held = str(rule.for_)
    if rule.keep_firing_for is not None:
        held += f" (keeps firing {rule.keep_firing_for})"
    return RuleRow(model, policy, rule.name, rule.metric, rule.query, _level(rule, "warning", unit),
                   _level(rule, "critical", unit), held, rule.runbook)


def _level(rule: AlertRule, severity: str, unit: str) -> str:
    """`above 500ms`, `below 1`, or both joined with "or"; `-` when the rule has no threshold of that severity."""
    parts = []
    for sign, thresholds in (("above", rule.above), ("below", rule.below)):
        value = _threshold(thresholds, severity)
        if value is not None:
            parts.append(f"{sign} {measure(value, unit)}")
    return " or ".join(parts) or "-"


def _threshold(thresholds: Thresholds | None, severity: str) -> Any:
    return getattr(thresholds, severity) if thresholds is not None else None


SECTION = Section("alerts", "Alert rules", collect)
