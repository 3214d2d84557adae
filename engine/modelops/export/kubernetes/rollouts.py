"""The argo-rollouts flavor: a Rollout (blueGreen, or canary steps mapped field by field), one AnalysisTemplate per
analysis (prometheus provider), the generated gates (preview tests as Jobs, the alert watch) and the Services.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from string import Template
from typing import Any

from modelops.config.catalog import METRICS
from modelops.config.scalars.duration import Duration
from modelops.config.spec.model import Analysis, PauseSpec
from modelops.core.model import EnvironmentConfig
from modelops.core.strategies import preview_tests
from modelops.export import prometheus as prom
from modelops.export.kubernetes.jobs import test_template, unmappable
from modelops.export.kubernetes.objects import NAME_KEY, go_duration, metadata, object_labels, pod_template, service
from modelops.export.kubernetes.scaling import autoscaler
from modelops.export.kubernetes.views import ModelView
from modelops.export.yamlout import number
from modelops.validate.kubernetes import Settings, fixed_replicas, scaling_policy


def _analysis_query(env: EnvironmentConfig, view: ModelView, analysis: Analysis) -> str:
    overrides = prom.env_overrides(env)
    if analysis.metric is not None:
        return METRICS[analysis.metric].promql(view.name, env.name, str(prom.DEFAULT_WINDOW),
                                               overrides.get(analysis.metric))
    return Template(analysis.query or "").safe_substitute(model=view.name, env=env.name,
                                                          window=str(prom.DEFAULT_WINDOW))


def analysis_conditions(analysis: Analysis) -> tuple[str, str]:
    """Argo success/failure conditions; with neither true the measurement is Inconclusive (a pause)."""
    bounds = []
    if analysis.min is not None:
        bounds.append(f"result[0] >= {number(analysis.min)}")
    if analysis.max is not None:
        bounds.append(f"result[0] <= {number(analysis.max)}")
    good = " && ".join(bounds)
    data, no_data = "(len(result) > 0 && !isNaN(result[0]))", "(len(result) == 0 || isNaN(result[0]))"
    if analysis.on_no_data == "pass":
        return f"{no_data} || ({good})", f"{data} && !({good})"
    if analysis.on_no_data == "fail":
        return f"{data} && ({good})", f"{no_data} || !({good})"
    return f"{data} && ({good})", f"{data} && !({good})"


def analysis_template(env: EnvironmentConfig, view: ModelView, name: str, analysis: Analysis,
                      settings: Settings) -> dict[str, Any]:
    success, failure = analysis_conditions(analysis)
    metric = {"name": name, "interval": go_duration(analysis.interval), "count": analysis.count,
              "failureLimit": analysis.max_failures, "successCondition": success, "failureCondition": failure,
              "provider": {"prometheus": {"address": settings.prometheus,
                                          "query": _analysis_query(env, view, analysis)}}}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
            "metadata": metadata(f"{view.name}-{name}", settings, object_labels(view, env.name)),
            "spec": {"metrics": [metric]}}


def _templates(view: ModelView, names: Sequence[str]) -> dict[str, Any]:
    return {"templates": [{"templateName": f"{view.name}-{n}"} for n in names]}


def alert_query(env: EnvironmentConfig, view: ModelView, severities: Sequence[str]) -> str | None:
    """How many of the model's alert conditions of these severities hold now (0 when none), over the
    recorded series of `prometheusrule.yaml`; None when the model has no such rule."""
    model = env.models.get(view.name)
    bound = prom.bindings(env, model) if model is not None else []
    exprs = [b.expr(severity) for b in bound for severity in b.severities if severity in severities]
    if not exprs:
        return None
    return f"count({' or '.join(f'({e})' for e in exprs)}) or vector(0)"


def alerts_template(env: EnvironmentConfig, view: ModelView, query: str, settings: Settings, *,
                    background: bool) -> dict[str, Any]:
    """`autoRollback.onAlerts` as an analysis: any alert condition holding fails it. In the background (canary)
    it measures every minute until the rollout ends; after a blue-green switch it measures once, as the
    engine checks once after each traffic change."""
    metric: dict[str, Any] = {"name": "alerts", "interval": "1m"}
    if not background:
        metric["count"] = 1
    metric |= {"failureLimit": 0, "successCondition": "result[0] == 0", "failureCondition": "result[0] > 0",
               "provider": {"prometheus": {"address": settings.prometheus, "query": query}}}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
            "metadata": metadata(f"{view.name}-alerts", settings, object_labels(view, env.name)),
            "spec": {"metrics": [metric]}}


@dataclass(frozen=True)
class Gates:
    """The gates a Rollout gets beyond the model's analyses: preview tests and the alert watch."""

    templates: list[dict[str, Any]]
    tests: list[str]  # analysis names (`test-<name>`) for prePromotionAnalysis
    alerts: bool  # an `alerts` analysis watches the rollout
    manual: bool  # a preview test cannot run in the cluster: promotion waits for a person


def argo_gates(env: EnvironmentConfig, view: ModelView, settings: Settings, notes: list[str]) -> Gates:
    """Map preview tests and `autoRollback.onAlerts` to Argo Rollouts analysis; note whatever cannot be."""
    strategy = view.config.strategy
    assert strategy is not None and (strategy.blue_green or strategy.canary)
    templates: list[dict[str, Any]] = []
    tests: list[str] = []
    manual = False
    by_name = {t.name: t for t in view.config.tests}
    if strategy.canary is not None and preview_tests(view.config):
        notes.append(f"{view.name}: previewTests {', '.join(preview_tests(view.config))} are not run: a canary "
                     "without traffic routing has no pods of the new version before its first setWeight; run them "
                     "with modelops, or add an analysis step with a Job after the first setWeight")
    for name in preview_tests(view.config) if strategy.blue_green is not None else []:
        why = unmappable(by_name[name])
        if why is None:
            templates.append(test_template(env, view, by_name[name], settings))
            tests.append(f"test-{name}")
        else:
            manual = True
            notes.append(f"{view.name}: preview test {name} is not rendered: it is {why}; autoPromotionEnabled is "
                         f"false, so run it against {view.name}-preview and then `kubectl argo rollouts promote "
                         f"{view.name}`")
    severities = list(view.config.auto_rollback.on_alerts)
    query = alert_query(env, view, severities) if severities else None
    if query is not None:
        templates.append(alerts_template(env, view, query, settings, background=strategy.canary is not None))
        notes.append(f"{view.name}: autoRollback.onAlerts ({', '.join(severities)}) is the analysis alerts: the "
                     "alert conditions (thresholds, without `for`) over the recorded series of "
                     "prometheusrule.yaml, measured for the whole model, not only the new version")
    elif severities:
        notes.append(f"{view.name}: autoRollback.onAlerts ({', '.join(severities)}) is not rendered: the model has "
                     "no alert rule of these severities")
    return Gates(templates, tests, query is not None, manual)


def _pause(pause: Duration | PauseSpec) -> dict[str, Any]:
    duration = pause if isinstance(pause, Duration) else pause.duration
    return {"pause": {"duration": go_duration(duration)} if duration is not None else {}}


def rollout_strategy(view: ModelView, gates: Gates) -> dict[str, Any]:
    strategy = view.config.strategy
    assert strategy is not None
    alerts = ["alerts"] if gates.alerts else []
    if strategy.blue_green is not None:
        bg = strategy.blue_green
        found: dict[str, Any] = {"activeService": view.name, "previewService": f"{view.name}-preview",
                                 "autoPromotionEnabled": bg.auto_promote and not gates.manual,
                                 "scaleDownDelaySeconds": math.ceil(bg.scale_down_delay.seconds)}
        if bg.preview_replicas:
            found["previewReplicaCount"] = bg.preview_replicas
        pre, post = [*gates.tests, *bg.pre_promotion_analysis], [*bg.post_promotion_analysis, *alerts]
        if pre:
            found["prePromotionAnalysis"] = _templates(view, pre)
        if post:  # the engine checks alerts once the new version has traffic: after the switch
            found["postPromotionAnalysis"] = _templates(view, post)
        return {"blueGreen": found}
    canary = strategy.canary
    assert canary is not None
    steps: list[dict[str, Any]] = []
    for step in canary.steps:
        if step.set_weight is not None:
            steps.append({"setWeight": step.set_weight})
        elif step.pause is not None:
            steps.append(_pause(step.pause))
        else:
            names = [step.analysis] if isinstance(step.analysis, str) else list(step.analysis or [])
            steps.append({"analysis": _templates(view, names)})
    # scaleDownDelaySeconds is only valid with trafficRouting, which plain Services do not have.
    found = {"canaryService": f"{view.name}-preview", "stableService": view.name, "steps": steps}
    if gates.alerts:  # a background analysis from the first step that gives the new version traffic to the end
        first = next((i for i, step in enumerate(canary.steps) if step.set_weight), len(canary.steps))
        found["analysis"] = {**_templates(view, alerts), "startingStep": first}
    return {"canary": found}


def rollout_objects(env: EnvironmentConfig, view: ModelView, settings: Settings, notes: list[str]
                    ) -> list[dict[str, Any]]:
    labels = object_labels(view, env.name)
    selector = {NAME_KEY: view.name}
    slot = view.current
    gates = argo_gates(env, view, settings, notes)
    spec: dict[str, Any] = {}
    if scaling_policy(env, view.config) is None:
        spec["replicas"] = fixed_replicas(view.config)
    spec |= {"revisionHistoryLimit": 3, "selector": {"matchLabels": selector},
             "template": pod_template(view, slot, env.name, {**labels, **selector}),
             "strategy": rollout_strategy(view, gates)}
    annotations = {"modelops.dev/revision": slot.revision, "modelops.dev/version": str(slot.spec.version)}
    docs: list[dict[str, Any]] = [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                   "metadata": metadata(view.name, settings, labels, annotations), "spec": spec}]
    docs += [analysis_template(env, view, name, a, settings) for name, a in sorted(view.config.analysis.items())]
    docs += gates.templates
    docs += [service(view.name, view, settings, labels, selector),
             service(f"{view.name}-preview", view, settings, labels, selector)]
    scaler = autoscaler(env, view, settings, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                              "name": view.name})
    return docs + ([scaler] if scaler else [])
