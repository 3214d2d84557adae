"""The files of an environment: one per model (its objects, with notes) and `prometheusrule.yaml`.

`export` renders the desired state as a finished apply would leave it; `rendered` renders the recorded state, for
the gitops driver's `rendered/`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelops.base.errors import EngineError
from modelops.core.model import EnvironmentConfig
from modelops.core.strategies import preview_tests
from modelops.export import prometheus as prom
from modelops.export.files import ExportFile
from modelops.export.kubernetes.kserve import inference_service
from modelops.export.kubernetes.objects import metadata
from modelops.export.kubernetes.plain import blue_green_deployments, single_deployment
from modelops.export.kubernetes.rollouts import rollout_objects
from modelops.export.kubernetes.views import ModelView, desired_views, kserve_pending, state_views
from modelops.export.yamlout import dump_all, header
from modelops.state.format import EnvironmentState
from modelops.validate.kubernetes import FLAVORS, Refused, Settings, check_model, settings_for

#: The environment's PrometheusRule; every other file renders one model
RULE_FILE = "prometheusrule.yaml"


def model_objects(env: EnvironmentConfig, view: ModelView, settings: Settings, notes: list[str]
                  ) -> list[dict[str, Any]]:
    """A model's objects in the flavor (refused first, with what to change, when they cannot be rendered)."""
    check_model(env, view.name, view.config, settings, [s.weight for s in view.slots.values()] if view.split else [])
    strategy = view.config.strategy
    if settings.flavor == "kserve":
        return inference_service(env, view, settings, notes)
    if strategy is None or strategy.rolling is not None:
        gates = [f"previewTests {', '.join(preview_tests(view.config))}"] if preview_tests(view.config) else []
        gates += ["autoRollback.onAlerts"] if view.config.auto_rollback.on_alerts else []
        if gates and settings.flavor == "argo-rollouts":
            notes.append(f"{view.name}: {' and '.join(gates)} are not rendered: a Deployment's "
                         f"{'rolling update' if strategy else 'recreate'} has no gates; use blueGreen or canary")
        return single_deployment(env, view, settings)
    if settings.flavor == "argo-rollouts":
        return rollout_objects(env, view, settings, notes)
    return blue_green_deployments(env, view, settings)


def prometheus_rule(env: EnvironmentConfig, models: Sequence[str], settings: Settings) -> dict[str, Any] | None:
    rule_groups = prom.groups(env, models)
    if not rule_groups:
        return None
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": metadata(f"modelops-{env.name}", settings, {"app.kubernetes.io/managed-by": "modelops",
                                                                 "modelops.dev/environment": env.name}),
            "spec": {"groups": rule_groups}}


def render(env: EnvironmentConfig, views: Sequence[ModelView], settings: Settings) -> list[ExportFile]:
    """One file per model (its objects) plus `prometheusrule.yaml`; every file starts with the header."""
    if settings.flavor not in FLAVORS:
        raise EngineError(f'unknown flavor "{settings.flavor}"', hint=f"flavors: {', '.join(FLAVORS)}")
    files = []
    head = header("kubernetes", env.name) + f"# flavor {settings.flavor}, namespace {settings.namespace}\n"
    built, failed = _model_objects(env, views, settings)
    for view, docs, notes in built:
        kinds = ", ".join(f"{d['kind']} {d['metadata']['name']}" for d in docs)
        text = head + "".join(f"# note: {n}\n" for n in notes) + dump_all(docs)
        files.append(ExportFile(f"{view.name}.yaml", text, kinds))
    refused = [exc.message + (f" ({exc.hint})" if exc.hint else "") for _, exc in failed]
    if refused:  # each says whether another flavor would do; some limits are Kubernetes' own, in every flavor
        raise Refused(f"cannot render {'this' if len(refused) == 1 else 'these'} for Kubernetes ({settings.flavor} "
                      "flavor):\n  " + "\n  ".join(refused))
    rule = prometheus_rule(env, [v.name for v in views if v.name in env.models], settings)
    if rule is not None:
        files.append(ExportFile(RULE_FILE, head + dump_all([rule]),
                                f"PrometheusRule {rule['metadata']['name']} ({len(rule['spec']['groups'])} groups)"))
    return files


def _model_objects(env: EnvironmentConfig, views: Sequence[ModelView], settings: Settings
                   ) -> tuple[list[tuple[ModelView, list[dict[str, Any]], list[str]]], list[tuple[str, Refused]]]:
    """Each model's objects and notes, and the refusal of each model that cannot be rendered."""
    built, refused = [], []
    for view in views:
        notes = list(view.notes)
        try:
            built.append((view, model_objects(env, view, settings, notes), notes))
        except Refused as exc:
            refused.append((view.name, exc))
    return built, refused


def export(env: EnvironmentConfig, state: EnvironmentState | None, flavor: str | None = None) -> list[ExportFile]:
    """`modelops export kubernetes`: the desired state, as a finished apply would leave it; on KServe, whose one
    object cannot hold both revisions, a model that does not serve its desired revision yet starts its rollout."""
    settings = settings_for(env, flavor)
    views = desired_views(env, state)
    if settings.flavor == "kserve":
        views = [kserve_pending(env, view, state) for view in views]
    return render(env, views, settings)


def rendered(env: EnvironmentConfig, state: EnvironmentState) -> list[ExportFile]:
    """What the gitops driver keeps in `environments/<env>/rendered/` for this recorded state."""
    return render(env, state_views(env, state), settings_for(env, driver=True))
