"""Operations maturity: basic / standard / advanced / expert per area, from evidence in config and state.

Five areas are judged per model: deployment, monitoring, scaling, incident management and maintenance. Each model
gets a level (1-4) per area by the criteria in docs/assessment.md; an area's score is the mean of its models'
levels, the environment's score the mean of the area scores (the seed's rule), and a score maps to a
level by the guide's cut-offs (`CUT_OFFS`: 3.5 and above is expert, 2.5 advanced, 1.5 standard, below that
basic). Every criterion a model misses for its next level comes with the YAML change that meets it.

Everything here is a pure function of an environment's configuration and recorded state.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from modelops.base.errors import UsageError
from modelops.config.catalog import METRICS
from modelops.config.scalars.image import reference_parts
from modelops.config.spec.model import Canary
from modelops.config.spec.policies import AlertPolicySpec, AlertRule, EscalationPolicySpec, ScalingPolicySpec
from modelops.core.maintenance import behind, mutable
from modelops.core.model import EnvironmentConfig, ModelConfig
from modelops.ops.incidents import Figures, figures, incidents_of, span
from modelops.ops.lifecycle import alert_labels, route
from modelops.ops.maintenance import Finding, maintenance_of
from modelops.state.format import EnvironmentState
from modelops.state.incidents import Incident
from modelops.workspace import Workspace

LEVELS = ("basic", "standard", "advanced", "expert")
AREAS = ("deployment", "monitoring", "scaling", "incident management", "maintenance")
PERFORMANCE = ("response_time", "error_rate", "throughput")
ADVANCED_COVERAGE = 5  # catalogue metrics with a rule, of 7
LEADING_TARGETS = (("concurrency", "concurrency"), ("rps", "rps"), ("queue_depth", "queueDepth"))
#: The operations guide's cut-offs: the lowest mean score of each level above basic, highest first.
CUT_OFFS = ((3.5, 4), (2.5, 3), (1.5, 2))
SCORE_EPSILON = 1e-9  # a mean such as (3 + 4) / 2 computed as 3.4999999 still reaches its cut-off
#: Expert incident response: over a model's recorded incidents, the mean time from the trouble's start to its
#: detection, and to its resolution, at most these (seconds).
DETECT_TARGET = 300.0
RESOLVE_TARGET = 3600.0


def level_name(level: int) -> str:
    return LEVELS[level - 1]


def level_of(score: float) -> int:
    """The level of a mean score, by the guide's cut-offs: >= 3.5 expert, >= 2.5 advanced, >= 1.5 standard,
    else basic (2.50 is advanced, 3.49 advanced, 1.49 basic)."""
    return next((level for floor, level in CUT_OFFS if score + SCORE_EPSILON >= floor), 1)


@dataclass(frozen=True)
class Step:
    """A criterion of the next level that a model misses, and the change that meets it."""

    criterion: str
    change: str
    file: str


@dataclass(frozen=True)
class ModelLevel:
    """One model's level in one area: what was found, and what the next level needs."""

    model: str
    level: int
    evidence: str
    missing: tuple[Step, ...] = ()

    @property
    def name(self) -> str:
        return level_name(self.level)


@dataclass(frozen=True)
class AreaAssessment:
    area: str
    models: tuple[ModelLevel, ...]

    @property
    def score(self) -> float:
        """The mean level of the models; an environment without models is basic."""
        return statistics.fmean(m.level for m in self.models) if self.models else 1.0

    @property
    def level(self) -> int:
        return level_of(self.score)


@dataclass(frozen=True)
class Recommendation:
    """A change that raises `models` in `area` from `level` to the next, once per (area, criterion, change)."""

    area: str
    level: int
    models: tuple[str, ...]
    criterion: str
    change: str
    file: str

    @property
    def level_name(self) -> str:
        return level_name(self.level)

    @property
    def goal(self) -> str:
        return level_name(self.level + 1)


@dataclass(frozen=True)
class EnvironmentAssessment:
    environment: str
    areas: tuple[AreaAssessment, ...]
    incidents: Figures | None = None  # the response times of the environment's incidents

    @property
    def score(self) -> float:
        return statistics.fmean(a.score for a in self.areas)

    @property
    def level(self) -> int:
        return level_of(self.score)

    @property
    def recommendations(self) -> list[Recommendation]:
        """Per area, the steps models miss for their next level, lowest levels first, merged across models."""
        found: dict[tuple[str, int, str, str, str], list[str]] = {}
        for area in self.areas:
            for model in sorted(area.models, key=lambda m: (m.level, m.model)):
                for step in model.missing:
                    found.setdefault((area.area, model.level, step.criterion, step.change, step.file),
                                     []).append(model.model)
        return [Recommendation(area, level, tuple(models), criterion, change, file)
                for (area, level, criterion, change, file), models in found.items()]

    def shortfall(self, minimum: int) -> list[str]:
        """Why the environment is below `minimum`: its areas below it and their models' missing criteria."""
        if self.level >= minimum:
            return []
        reasons = [f"{self.environment} is {level_name(self.level)} (score {self.score:.2f}), below "
                   f"{level_name(minimum)}"]
        for area in self.areas:
            if area.level >= minimum:
                continue
            reasons.append(f"{area.area} is {level_name(area.level)} (score {area.score:.2f})")
            for model in area.models:
                if model.level < minimum:
                    needs = "; ".join(step.criterion for step in model.missing)
                    reasons.append(f"{area.area}: {model.model} is {model.name} ({model.evidence})"
                                   + (f"; {level_name(model.level + 1)} needs {needs}" if needs else ""))
        return reasons


@dataclass(frozen=True)
class AssessReport:
    environments: tuple[EnvironmentAssessment, ...]
    minimum: int | None = None

    @property
    def failing(self) -> list[EnvironmentAssessment]:
        return [e for e in self.environments if self.minimum is not None and e.level < self.minimum]


# -- evidence -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What an environment's configuration and state say about one model."""

    env: EnvironmentConfig
    model: ModelConfig
    rollbacks: int  # rollbacks recorded in the environment's state (automatic or `modelops rollback`)
    alert_policies: Mapping[str, AlertPolicySpec] = field(default_factory=dict)
    incidents: tuple[Incident, ...] = ()  # the model's incidents recorded in the environment's state
    findings: tuple[Finding, ...] = ()  # what the maintenance report finds on the model, as of the last state write

    @property
    def escalation(self) -> EscalationPolicySpec | None:
        name = self.model.spec.escalation
        policy = self.env.policies.get(f"EscalationPolicy/{name}") if name else None
        return policy.spec if policy is not None else None

    @property
    def scaling(self) -> ScalingPolicySpec | None:
        name = self.model.spec.scaling
        policy = self.env.policies.get(f"ScalingPolicy/{name}") if name else None
        return policy.spec if policy is not None else None

    def policy_file(self, kind: str, name: str | None) -> str:
        policy = self.env.policies.get(f"{kind}/{name}") if name else None
        return policy.file if policy is not None else f"policies/{kind.removesuffix('Policy').lower()}/"

    def rules(self) -> list[tuple[str, AlertRule]]:
        return self.env.alert_rules(self.model)

    def critical_rules(self) -> list[tuple[str, AlertRule]]:
        return [(p, r) for p, r in self.rules() if _has(r, "critical")]

    def covered(self) -> set[str]:
        return {str(r.metric) for _, r in self.rules() if r.metric is not None}


def _has(rule: AlertRule, severity: str) -> bool:
    return any(block is not None and getattr(block, severity) is not None for block in (rule.above, rule.below))


def _names(items: Sequence[str]) -> str:
    return ", ".join(items)


# -- deployment -----------------------------------------------------------------------------------


def _step_analyses(canary: Canary | None) -> list[str]:
    """The analyses a canary's steps run, by name, in step order."""
    found: list[str] = []
    for step in canary.steps if canary is not None else []:
        names = [step.analysis] if isinstance(step.analysis, str) else (step.analysis or [])
        found += [n for n in names if n not in found]
    return found


def deployment(ev: Evidence) -> ModelLevel:
    """basic: recreate, or no automatic rollback; standard: a progressive strategy whose gate rolls back on
    its own; advanced: blue-green (or canary) with preview tests; expert: canary with analysis steps that
    missing metrics stop (an analysis with `onNoData: pass` passes a canary nobody measures) and rollback on
    analysis failure."""
    spec, name, file = ev.model.spec, ev.model.name, ev.model.file
    strategy, rollback = spec.strategy, spec.auto_rollback
    tests = [t.name for t in spec.tests]
    previews: list[str] = []
    stepped = _step_analyses(strategy.canary if strategy is not None else None)
    analysis_steps = bool(stepped)
    # An analysis the model does not define is refused by validation; here it simply does not count.
    guarded = [n for n in stepped if n in spec.analysis and spec.analysis[n].on_no_data != "pass"]
    if strategy is not None:
        chosen = strategy.blue_green or strategy.canary or strategy.rolling
        previews = list(chosen.preview_tests) if chosen is not None else []
    bg_analysis = strategy is not None and strategy.blue_green is not None and bool(
        strategy.blue_green.pre_promotion_analysis or strategy.blue_green.post_promotion_analysis)
    tested = bool(previews) and rollback.on_test_failure
    analysed = (analysis_steps or bg_analysis) and rollback.on_analysis_failure
    kind = strategy.name if strategy is not None else "recreate"
    gates = ([f"preview tests {_names(previews)}"] if previews else []) + (["analysis steps"] if analysis_steps else [])
    found = f"{kind}" + (f" with {' and '.join(gates)}" if gates else " without gates")
    test_hint = f"[{tests[0]}]" if tests else "[smoke] (add a test named smoke to spec.tests)"
    analysis = next(iter(spec.analysis), None)
    if guarded and rollback.on_analysis_failure:
        return ModelLevel(name, 4, f"{found} that missing metrics stop, rolled back when an analysis fails")
    if analysis_steps and not guarded:
        found += " that pass without metrics (onNoData: pass)"
        expert = Step("a canary analysis that missing metrics stop (onNoData: inconclusive pauses, fail rolls "
                      "back; with pass, a canary nobody measures passes)",
                      f"onNoData: inconclusive on analysis {stepped[0]}"
                      + ("" if rollback.on_analysis_failure else "; autoRollback.onAnalysisFailure: true"), file)
    else:
        expert = Step("a canary whose traffic steps are gated by analysis, rolled back automatically",
                      "spec.strategy: canary: {steps: [{setWeight: 10}, {analysis: " + (analysis or "slo")
                      + "}, {setWeight: 50}, {analysis: " + (analysis or "slo") + "}]}"
                      + ("" if analysis else " with spec.analysis.slo: {metric: error_rate, max: 0.02}")
                      + ("" if rollback.on_analysis_failure else "; autoRollback.onAnalysisFailure: true"), file)
    if strategy is not None and (strategy.blue_green or strategy.canary) and tested:
        return ModelLevel(name, 3, f"{found}, rolled back when a test fails", (expert,))
    listed = f"[{_names(previews)}]" if previews else test_hint
    advanced = Step("blue-green with preview tests: a new version is tested before it takes traffic",
                    f"spec.strategy: blueGreen: {{previewTests: {listed}}}"
                    + ("" if rollback.on_test_failure else "; autoRollback.onTestFailure: true"), file)
    if strategy is not None and (tested or analysed or rollback.on_alerts):
        return ModelLevel(name, 2, f"{found}, with automatic rollback", (advanced,))
    if strategy is None:
        standard = Step("an automated progressive rollout with automatic rollback (not recreate)",
                        f"spec.strategy: rolling: {{maxUnavailable: 0, maxSurge: 1, previewTests: {test_hint}}}", file)
    else:
        standard = Step("a gate that rolls back automatically", f"previewTests: {test_hint} under spec.strategy."
                        f"{kind} (with autoRollback.onTestFailure: true)", file)
    return ModelLevel(name, 1, found if strategy is not None else "recreate: the old version stops before the new "
                      "one starts", (standard,))


# -- monitoring -----------------------------------------------------------------------------------


def monitoring(ev: Evidence) -> ModelLevel:
    """standard: rules on latency, errors and throughput; advanced: critical alerts page someone and at least
    5 of the 7 catalogue metrics have a rule; expert: all 7, and every critical rule links a runbook."""
    name = ev.model.name
    covered = ev.covered()
    missing_perf = [m for m in PERFORMANCE if m not in covered]
    coverage = f"rules cover {len(covered & set(METRICS))} of {len(METRICS)} catalogue metrics"
    if missing_perf:
        return ModelLevel(name, 1, coverage, (_coverage_step(ev, missing_perf, "performance metrics"),))
    critical = ev.critical_rules()
    paged = bool(critical) and all(_pages(ev, rule) for _, rule in critical)
    steps = []
    if not paged:
        steps.append(_pager_step(ev))
    if len(covered) < ADVANCED_COVERAGE:
        absent = [m for m in METRICS if m not in covered]
        steps.append(_coverage_step(ev, absent, f"at least {ADVANCED_COVERAGE} of the catalogue metrics"))
    if steps:
        return ModelLevel(name, 2, f"{coverage}, latency, errors and throughput included", tuple(steps))
    absent = [m for m in METRICS if m not in covered]
    bare = [(p, r.name) for p, r in critical if not r.runbook]
    steps = [_coverage_step(ev, absent, "every catalogue metric")] if absent else []
    by_policy: dict[str, list[str]] = {}
    for policy, rule in bare:
        by_policy.setdefault(policy, []).append(rule)
    steps += [Step("a runbook on every critical rule", f"runbook: <URL> on rules {_names(rules)}",
                   ev.policy_file("AlertPolicy", policy)) for policy, rules in by_policy.items()]
    if steps:
        return ModelLevel(name, 3, f"{coverage}; critical alerts page", tuple(steps))
    return ModelLevel(name, 4, f"{coverage}; critical alerts page; every critical rule has a runbook")


def _pages(ev: Evidence, rule: AlertRule) -> bool:
    policy = ev.escalation
    if policy is None:
        return False
    labels = {**alert_labels(ev.env.name, ev.model.name, ev.model.labels, rule), "severity": "critical"}
    return any(policy.channels[c].type == "pagerduty" for c in route(policy, labels) if c in policy.channels)


def _pager_step(ev: Evidence) -> Step:
    name = ev.model.spec.escalation
    policy = ev.escalation
    if policy is None:
        return Step("a pager for critical alerts", "spec.escalation: <an EscalationPolicy with a pagerduty route "
                    "for severity critical>", ev.model.file)
    pagers = [c for c, ch in policy.channels.items() if ch.type == "pagerduty"]
    change = "routes: - {match: {severity: critical}, channels: [" + (pagers[0] if pagers else "pager") + "]} first"
    if not pagers:
        change = ("channels: pager: {type: pagerduty, routingKey: \"${env:PAGERDUTY_ROUTING_KEY}\"}; " + change)
    return Step("a pager for critical alerts", change, ev.policy_file("EscalationPolicy", name))


def _coverage_step(ev: Evidence, metrics: Sequence[str], what: str) -> Step:
    """Reference an AlertPolicy of the environment that covers the metrics, or add rules to one in use."""
    wanted = set(metrics)
    used = set(ev.model.spec.alerts)
    for policy_name, spec in sorted(ev.alert_policies.items()):
        if policy_name in used:
            continue
        offered = {str(r.metric) for r in spec.rules if r.metric is not None} & wanted
        if offered:
            refs = _names([*ev.model.spec.alerts, policy_name])
            return Step(f"rules on {what} (missing: {_names(sorted(wanted))}; AlertPolicy {policy_name} covers "
                        f"{_names(sorted(offered))})", f"spec.alerts: [{refs}]", ev.model.file)
    target = ev.model.spec.alerts[0] if ev.model.spec.alerts else None
    if target is None:
        return Step(f"rules on {what} (missing: {_names(sorted(wanted))})",
                    f"spec.alerts: [<an AlertPolicy with rules on {_names(sorted(wanted))}>]", ev.model.file)
    return Step(f"rules on {what} (missing: {_names(sorted(wanted))})",
                f"rules on {_names(sorted(wanted))} in AlertPolicy {target}", ev.policy_file("AlertPolicy", target))


# -- scaling --------------------------------------------------------------------------------------


def scaling(ev: Evidence) -> ModelLevel:
    """basic: a static replica count; standard: scheduled floors; advanced: autoscaled between minReplicas and
    maxReplicas; expert: predictive, autoscaled on a leading metric (concurrency, rps, queue depth) with
    scheduled floors ahead of known peaks."""
    name, policy_name = ev.model.name, ev.model.spec.scaling
    spec = ev.scaling
    if spec is None:
        fixed = ev.model.spec.serving.replicas or 1
        return ModelLevel(name, 1, f"static: {fixed} replica(s), no ScalingPolicy", (
            Step("replicas that follow the load or the clock (a ScalingPolicy" + _policy_hint(ev) + ")",
                 "spec.scaling: <a ScalingPolicy>", ev.model.file),))
    file = ev.policy_file("ScalingPolicy", policy_name)
    autoscaled = spec.min_replicas < spec.max_replicas
    leading = [yaml for attr, yaml in LEADING_TARGETS if getattr(spec.targets, attr) is not None]
    if not autoscaled:
        level = 2 if spec.schedule else 1
        found = f"{spec.min_replicas} replica(s)" + (", with scheduled floors" if spec.schedule else ", static")
        return ModelLevel(name, level, found, (Step("autoscaling between minReplicas and maxReplicas",
                                                    f"maxReplicas above minReplicas ({spec.min_replicas})", file),))
    found = f"autoscaled {spec.min_replicas}–{spec.max_replicas}"
    steps = []
    if not leading:
        steps.append(Step("a leading metric rather than utilisation alone (concurrency, rps or queueDepth)",
                          "targets: {concurrency: <requests in flight per replica>}", file))
    if not spec.schedule:
        steps.append(Step("scheduled floors ahead of known peaks",
                          'schedule: [{cron: "0 8 * * 1-5", duration: 10h, minReplicas: '
                          f"{min(spec.min_replicas * 2, spec.max_replicas)}}}]", file))
    if steps:
        return ModelLevel(name, 3, found, tuple(steps))
    return ModelLevel(name, 4, f"{found} on {_names(leading)} with scheduled floors")


def _policy_hint(ev: Evidence) -> str:
    names = sorted({p.name for p in ev.env.policies.values() if p.kind == "ScalingPolicy"})
    return f"; this environment uses {_names(names)}" if names else ""


# -- incident management --------------------------------------------------------------------------


def _routed(ev: Evidence, policy: EscalationPolicySpec, rule: AlertRule, severity: str) -> bool:
    """Whether this model's alert of `rule` at `severity` reaches a channel of its EscalationPolicy."""
    labels = {**alert_labels(ev.env.name, ev.model.name, ev.model.labels, rule), "severity": severity}
    return any(c in policy.channels for c in route(policy, labels))


def _inhibition_step(ev: Evidence, policy: EscalationPolicySpec, graded: list[tuple[str, AlertRule]],
                     file: str) -> Step:
    """What makes a critical alert inhibit its warning: a graded rule, then both severities routed."""
    criterion = ("graded alerts: a rule with warning and critical thresholds, both routed, so the critical "
                 "inhibits the warning of the same rule")
    if not graded:
        first = ev.rules()[0] if ev.rules() else None
        return Step(criterion, f"above: {{warning: …, critical: …}} on rule {first[1].name}" if first else
                    "spec.alerts: [<an AlertPolicy with warning and critical thresholds>]",
                    ev.policy_file("AlertPolicy", first[0]) if first else ev.model.file)
    rule = graded[0][1]
    severity = "critical" if not _routed(ev, policy, rule, "critical") else "warning"
    channel = next(iter(policy.channels), "<a channel>")
    if severity == "critical":
        channel = next((c for c, ch in policy.channels.items() if ch.type == "pagerduty"), channel)
    return Step(criterion, f"routes: - {{match: {{severity: {severity}}}, channels: [{channel}]}} (rule {rule.name}"
                f"'s {severity} alert reaches no channel)", file)


def incident_management(ev: Evidence) -> ModelLevel:
    """The levels of `_incident_routing`, with the model's recorded incidents as evidence: an expert's incidents
    are detected within DETECT_TARGET of their start and resolved within RESOLVE_TARGET, on average (a model
    without incidents has nothing held against it)."""
    level = _incident_routing(ev)
    if not ev.incidents:
        return level
    found = figures(ev.incidents)
    count = f"{found.count} incident{'s' if found.count != 1 else ''}"
    evidence = f"{level.evidence}; {count}: mean time to detect {span(found.detect)}, to resolve {span(found.resolve)}"
    steps = []
    if found.detect is not None and found.detect > DETECT_TARGET:
        critical = ev.critical_rules()
        steps.append(Step(f"incidents detected within {span(DETECT_TARGET)} of their start on average (now "
                          f"{span(found.detect)} over {count})", "for: 1m or less on its critical rules, and "
                          "`modelops monitor` run every minute", ev.policy_file("AlertPolicy", critical[0][0])
                          if critical else ev.model.file))
    if found.resolve is not None and found.resolve > RESOLVE_TARGET:
        steps.append(Step(f"incidents resolved within {span(RESOLVE_TARGET)} on average (now {span(found.resolve)} "
                          f"over {count})", "runbooks on its critical rules; the actions of the reviews' Causes and "
                          "actions done", f"environments/{ev.env.name}/incidents/"))
    if level.level == 4 and steps:
        return ModelLevel(level.model, 3, evidence, tuple(steps))
    return ModelLevel(level.model, level.level, evidence, level.missing + (tuple(steps) if level.level == 3 else ()))


def _incident_routing(ev: Evidence) -> ModelLevel:
    """standard: an EscalationPolicy routes alerts and groups duplicates; advanced: plus escalation when alerts
    pile up, and a graded rule whose warning and critical alerts both reach a channel, so that the exported
    Alertmanager inhibition (a critical alert silences the warning of the same model and rule) replaces the
    warning rather than silencing the rule, or having nothing to silence; expert: plus alerts that roll back
    (autoRollback.onAlerts: [critical]) and a rollback recorded in the environment's state (the path has been
    exercised)."""
    name, model_file = ev.model.name, ev.model.file
    policy = ev.escalation
    if policy is None:
        return ModelLevel(name, 1, "no EscalationPolicy: alerts notify nobody", (
            Step("an EscalationPolicy that routes alerts and groups duplicates",
                 "spec.escalation: <an EscalationPolicy>", model_file),))
    file = ev.policy_file("EscalationPolicy", ev.model.spec.escalation)
    if not policy.grouping.by:
        return ModelLevel(name, 1, "alerts are routed but never grouped", (
            Step("duplicates grouped into one notification", "grouping: {by: [model, rule]}", file),))
    graded = [(p, r) for p, r in ev.rules() if _has(r, "warning") and _has(r, "critical")]
    inhibiting = [r.name for _, r in graded if all(_routed(ev, policy, r, s) for s in ("warning", "critical"))]
    found = f"routed by {ev.model.spec.escalation}, grouped by {_names(policy.grouping.by)}"
    steps = []
    if not policy.escalate:
        # the guide escalates to the pager and a webhook; without `when`, the guide's triggers per alert type
        pager = next((c for c, ch in policy.channels.items() if ch.type == "pagerduty"), "<a pagerduty channel>")
        hook = [c for c, ch in policy.channels.items() if ch.type == "webhook"][:1]
        steps.append(Step("escalation when similar alerts pile up (the guide's table: N alerts of one rule on one "
                          "model within a window)", f"escalate: [{{channels: [{_names([pager, *hook])}]}}]", file))
    if not inhibiting:
        steps.append(_inhibition_step(ev, policy, graded, file))
    if steps:
        return ModelLevel(name, 2, found, tuple(steps))
    found += f"; escalates; {len(inhibiting)} graded rule(s) whose critical alert inhibits the warning"
    if "critical" not in ev.model.spec.auto_rollback.on_alerts:
        steps.append(Step("rollback on critical alerts during a rollout", "autoRollback: {onAlerts: [critical]}",
                          model_file))
    if ev.rollbacks == 0:
        # Environment-wide evidence: one drill exercises the rollback path every model of it uses.
        steps.append(Step("a rollback recorded in state (the rollback path has been exercised)",
                          f"modelops rollback MODEL --env {ev.env.name} (a drill), then apply again",
                          f"environments/{ev.env.name}/state.json"))
    if steps:
        return ModelLevel(name, 3, found, tuple(steps))
    return ModelLevel(name, 4, f"{found}; critical alerts roll back; {ev.rollbacks} rollback(s) recorded")


# -- maintenance ----------------------------------------------------------------------------------


def maintenance(ev: Evidence) -> ModelLevel:
    """basic: an artifact without sha256 or an image with a mutable tag; standard: both pinned (a release tag or a
    digest); advanced: plus housekeeping in maintenance windows and, as of the last state write, a serving version
    younger than maxVersionAge and no stale warm slot; expert: plus an image pinned by digest, at the release of the
    channel the environment declares for it."""
    name, file, env_file = ev.model.name, ev.model.file, ev.env.file
    spec = ev.model.spec
    repository, tag, digest = reference_parts(spec.serving.image)
    loose = []
    if spec.artifact.sha256 is None:
        loose.append(Step("a pinned artifact: what serves cannot change under the same version",
                          "spec.artifact.sha256: <64 hex digits of the artifact>", file))
    if mutable(tag, digest):
        loose.append(Step("an image pinned by a release tag or a digest", f"spec.serving.image: {repository}:<release "
                          "tag>", file))
    if loose:
        unpinned = [what for what, bad in (("artifact", spec.artifact.sha256 is None), ("image", mutable(tag, digest)))
                    if bad]
        return ModelLevel(name, 1, f"unpinned {' and '.join(unpinned)}", tuple(loose))
    found = f"artifact pinned by sha256, image by {'digest' if digest else f'tag {tag}'}"
    settings = ev.env.spec.maintenance
    steps = []
    if settings is None or not settings.windows:
        steps.append(Step("maintenance windows: housekeeping (retiring warm slots) at planned times",
                          'spec.maintenance: {windows: [{cron: "0 2 * * SAT", duration: 4h}]}', env_file))
    criteria = {"old-version": "a serving version younger than maxVersionAge", "stale-warm-slot": "no stale warm slot"}
    steps += [Step(f"{criteria[f.kind]} ({f.detail})", f.fix, f.file) for f in ev.findings
              if f.model == name and f.kind in criteria]
    if steps:
        return ModelLevel(name, 2, found, tuple(steps))
    found += "; housekeeping in maintenance windows; its version is current"
    if digest is None:
        steps.append(Step("an image pinned by digest (the tag names the release, the digest its bytes)",
                          f"spec.serving.image: {repository}:{tag}@sha256:<digest>", file))
    channel = settings.channels.get(repository) if settings is not None else None
    late = behind(tag, channel) if channel is not None else None
    if channel is None:
        steps.append(Step("a channel for its image (the release the platform follows), so that falling behind shows",
                          f"spec.maintenance.channels: {{{repository}: <release>}}", env_file))
    elif late is not False:
        wanted = "an image at its channel's release" if late else "an image tag comparable with its channel"
        steps.append(Step(f"{wanted} ({repository} {channel})", f"spec.serving.image: {repository}:{channel}", file))
    if steps:
        return ModelLevel(name, 3, found, tuple(steps))
    return ModelLevel(name, 4, f"{found}; pinned by digest, at its channel {channel}")


AREA_RULES: dict[str, Callable[[Evidence], ModelLevel]] = {
    "deployment": deployment, "monitoring": monitoring, "scaling": scaling, "incident management": incident_management,
    "maintenance": maintenance}


# -- the assessment -------------------------------------------------------------------------------


def rollbacks_recorded(state: EnvironmentState) -> int:
    """Automatic rollbacks and `modelops rollback` runs in the environment's recorded history."""
    return sum(1 for model in state.models.values() for a in model.history
               if a.kind == "rollback" or a.outcome == "RolledBack")


def assess_environment(env: EnvironmentConfig, state: EnvironmentState) -> EnvironmentAssessment:
    alert_policies = {p.name: p.spec for p in env.policies.values() if p.kind == "AlertPolicy"}
    rollbacks = rollbacks_recorded(state)
    recorded = incidents_of(state)
    report = maintenance_of(env, state)
    findings = tuple(report.findings) if report is not None else ()
    evidence = [Evidence(env, env.models[name], rollbacks, alert_policies,
                         tuple(i for i in recorded if i.model == name), findings) for name in sorted(env.models)]
    areas = tuple(AreaAssessment(area, tuple(rule(ev) for ev in evidence)) for area, rule in AREA_RULES.items())
    return EnvironmentAssessment(env.name, areas, figures(recorded))


def parse_level(text: str) -> int:
    if text not in LEVELS:
        raise UsageError(f"unknown level {text!r}: use {', '.join(LEVELS)}")
    return LEVELS.index(text) + 1


def run_assess(root: Path, environments: tuple[str, ...], minimum: str | None) -> AssessReport:
    floor = parse_level(minimum) if minimum is not None else None
    ws = Workspace.load(root)
    names = ws.select(environments) or tuple(ws.desired.environments)
    return AssessReport(tuple(assess_environment(ws.environment(n), ws.state(n)) for n in names), floor)
