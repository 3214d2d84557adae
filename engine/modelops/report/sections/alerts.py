"""Alert rules per AlertPolicy (a rule is the same for every model that uses its policy): the models, and per rule
its metric, warning and critical thresholds, and how long the condition must hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops.base.clock import readable
from modelops.config.catalog import GROUPS, Metric, environment_metrics
from modelops.config.spec.policies import AlertRule, Thresholds
from modelops.report.context import ReportContext
from modelops.report.fmt import measure
from modelops.report.section import Section


@dataclass(frozen=True)
class RuleRow:
    rule: str
    group: str  # the metric's group (performance, infrastructure, business), or "query"
    metric: str | None
    query: str | None
    warning: str
    critical: str
    for_: str
    runbook: str | None


@dataclass(frozen=True)
class PolicyRules:
    """The rules of one AlertPolicy and the models that use it: a rule is the same for every one of them."""

    policy: str
    models: list[str]
    rows: list[RuleRow]


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    catalogue = environment_metrics(ctx.environment.spec.business_metrics)
    users: dict[str, list[str]] = {}
    for model in ctx.configured():
        for name in dict.fromkeys(policy for policy, _ in ctx.environment.alert_rules(model)):
            users.setdefault(name, []).append(model.name)
    if not users:
        return None
    policies = []
    for name, models in sorted(users.items()):
        rows = [_row(rule, catalogue.get(rule.metric or "")) for rule in ctx.policy_spec("AlertPolicy", name).rules]
        # the guide's groups in order (performance, infrastructure, business), raw queries last
        rows.sort(key=lambda r: GROUPS.index(r.group) if r.group in GROUPS else len(GROUPS))
        policies.append(PolicyRules(name, models, rows))
    return {"policies": policies}


def _row(rule: AlertRule, metric: Metric | None) -> RuleRow:
    unit = metric.unit if metric is not None else ""
    held = readable(rule.for_.ms, exact=True)
    if rule.keep_firing_for is not None:
        held += f" (keeps firing {readable(rule.keep_firing_for.ms, exact=True)})"
    return RuleRow(rule.name, metric.family if metric is not None else "query", rule.metric, rule.query,
                   _level(rule, "warning", unit), _level(rule, "critical", unit), held, rule.runbook)


def _level(rule: AlertRule, severity: str, unit: str) -> str:
    """`above 500ms`, `below 1`, or both joined with "or"; a critical threshold is inclusive (`at or above
    2s`); `-` when the rule has no threshold of that severity."""
    parts = []
    reach = "at or " if severity == "critical" else ""
    for sign, thresholds in (("above", rule.above), ("below", rule.below)):
        value = _threshold(thresholds, severity)
        if value is not None:
            parts.append(f"{reach}{sign} {measure(value, unit)}")
    return " or ".join(parts) or "-"


def _threshold(thresholds: Thresholds | None, severity: str) -> Any:
    return getattr(thresholds, severity) if thresholds is not None else None


SECTION = Section("alerts", "Alert rules", collect)
