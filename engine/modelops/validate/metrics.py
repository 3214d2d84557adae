"""Layer 3 for metrics: business metrics an Environment declares, the metrics alert rules name, and the alert
types an EscalationPolicy's `thresholds` name.

A rule's `metric` is a catalogue metric or a business metric of the environment of every model that uses the
rule's AlertPolicy: a policy shared by two environments must find it declared in both. Each problem is
reported once, at the place to fix.
"""

from __future__ import annotations

from collections.abc import Iterable

from modelops.base.diagnostics import pointer, suggestion
from modelops.config.catalog import METRICS
from modelops.config.documents import Document
from modelops.config.scalars.duration import Duration
from modelops.validate.findings import Findings
from modelops.validate.promql import promql_problem


def check_metrics(documents: Iterable[Document], findings: Findings, complete: bool = True) -> None:
    """`complete`: every document loaded and passed its schema. Otherwise an escalation threshold's alert type
    may belong to a model or policy that failed (which is the error to fix), and is not reported."""
    docs = list(documents)
    environments = {d.name: d for d in docs if d.kind == "Environment"}
    policies = {(d.kind, d.name): d for d in docs if d.kind in ("AlertPolicy", "EscalationPolicy")}
    models = [d for d in docs if d.kind == "Model"]
    for env in environments.values():
        _declarations(env, findings)
    _rule_metrics(models, environments, policies, findings)
    users: dict[str, list[Document]] = {}  # grouped once: a policy's models, not every model for every policy
    for model in models:
        users.setdefault(str(model.spec.escalation), []).append(model)
    for (kind, name), policy in sorted(policies.items()):
        if kind == "EscalationPolicy":
            _escalation_types(policy, users.get(name, []), environments, policies, findings, complete)


def _business(env: Document | None) -> dict[str, object]:
    return dict(env.spec.business_metrics) if env is not None else {}


def _declarations(env: Document, findings: Findings) -> None:
    """A business metric must not shadow a catalogue metric, and must be readable by the environment's
    source: Prometheus needs its query (a file source reads its column, by default its name)."""
    source = env.spec.metrics.source if env.spec.metrics is not None else None
    for name, metric in env.spec.business_metrics.items():
        where = pointer("spec", "businessMetrics", name)
        if name in METRICS:
            findings.error("MO130", f'business metric "{name}" has the name of a catalogue metric', env.source, where,
                           at_key=True, hint="rename it: the catalogue's own metric is already collected")
        if source == "prometheus" and metric.query is None:
            findings.error("MO130", f'business metric "{name}" has no query, and {env.name} reads Prometheus',
                           env.source, where, at_key=True,
                           hint="add query: 'avg(my_metric{model=\"$model\",env=\"$env\"})'")
        if metric.query is not None:
            problem = promql_problem(metric.query)
            if problem is not None:
                findings.error("MO105", f"invalid PromQL: {problem}", env.source,
                               pointer("spec", "businessMetrics", name, "query"),
                               hint="check the query's brackets and quotes")


def _rule_metrics(models: list[Document], environments: dict[str, Document],
                  policies: dict[tuple[str, str], Document], findings: Findings) -> None:
    """Every rule's metric, in the environment of every model that uses its policy (once per rule)."""
    reported: set[tuple[str, int]] = set()
    for model in sorted(models, key=lambda m: (m.environment or "", m.name)):
        env = environments.get(model.environment or "")
        if env is None:
            continue  # an environment that failed to load or validate: its business metrics are not known
        business = env.spec.business_metrics
        for name in model.spec.alerts:
            policy = policies.get(("AlertPolicy", name))
            if policy is None:
                continue  # an unknown policy is MO201
            for i, rule in enumerate(policy.spec.rules):
                if rule.metric is None or (policy.name, i) in reported:
                    continue
                ptr = pointer("spec", "rules", i, "metric")
                if rule.metric in METRICS:
                    continue
                if rule.metric not in business:
                    reported.add((policy.name, i))
                    known = [*METRICS, *business]
                    findings.error(
                        "MO220", f'unknown metric "{rule.metric}" for model {model.name} in environment '
                        f"{model.environment}" + suggestion(rule.metric, known), policy.source, ptr,
                        hint=f"use a catalogue metric, or declare it under spec.businessMetrics in "
                             f"environments/{model.environment}/environment.yaml")
                    continue
                unit = business[rule.metric].unit
                for direction in ("above", "below"):
                    block = getattr(rule, direction)
                    for severity in ("warning", "critical"):
                        raw = getattr(block, severity) if block is not None else None
                        if isinstance(raw, Duration) and unit != "seconds" and (policy.name, i) not in reported:
                            reported.add((policy.name, i))
                            findings.error("MO212", f'{rule.metric} is measured in {unit}, not time: "{raw}" does '
                                           "not fit", policy.source, pointer("spec", "rules", i, direction, severity),
                                           hint="give a plain number")


def _escalation_types(policy: Document, users: list[Document], environments: dict[str, Document],
                      policies: dict[tuple[str, str], Document], findings: Findings, complete: bool) -> None:
    """`thresholds` keys name an alert type its models (`users`) have: a rule name or a metric; only counting per
    alert."""
    known: set[str] = set(METRICS)
    for model in users:
        known |= set(_business(environments.get(model.environment or "")))
        for name in model.spec.alerts:
            alert_policy = policies.get(("AlertPolicy", name))
            known |= {r.name for r in alert_policy.spec.rules} if alert_policy is not None else set()
    for i, rule in enumerate(policy.spec.escalate):
        if rule.per == "policy" and rule.thresholds:
            findings.error("MO222", "thresholds are triggers per alert type, but this rule counts per policy",
                           policy.source, pointer("spec", "escalate", i, "thresholds"), at_key=True,
                           hint="remove per: policy (count the alerts of one rule on one model), or give one "
                                "`when` for the whole policy")
        for key in rule.thresholds:
            if complete and key not in known:
                findings.error("MO221", f'thresholds name "{key}", neither a rule of the models that use '
                               f"{policy.name} nor a metric" + suggestion(key, sorted(known)), policy.source,
                               pointer("spec", "escalate", i, "thresholds", key), at_key=True,
                               hint="name a rule (high-latency) or a metric (response_time)")
