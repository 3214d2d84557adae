"""Operations maturity of purpose-built repositories at each level, the scoring, and the criteria at their edges."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.base.errors import UsageError
from modelops.ops.assess import (
    AREAS,
    EnvironmentAssessment,
    assess_environment,
    level_name,
    level_of,
    parse_level,
    rollbacks_recorded,
)
from modelops.state.format import Attempt, EnvironmentState, ModelState
from modelops.state.incidents import Incident
from modelops.state.store import write_state
from modelops.workspace import Workspace

from tests.support.repo import write

SHA = "ab" * 32
HEAD = "apiVersion: modelops.dev/v1\n"


def model_yaml(name: str, body: str) -> str:
    return (f"{HEAD}kind: Model\nmetadata: {{name: {name}, labels: {{team: t}}}}\nspec:\n  version: 1.0.0\n"
            f"  artifact: {{uri: \"s3://m/{name}\", sha256: \"{SHA}\"}}\n"
            "  serving: {runtime: custom, image: \"m:1\", resources: {cpu: \"1\", memory: 1Gi}}\n"
            "  tests:\n    - {name: ping, http: {path: /ping}}\n"
            "  analysis:\n    slo: {metric: error_rate, max: 0.02}\n" + body)


def policy(kind: str, name: str, spec: str) -> str:
    return f"{HEAD}kind: {kind}\nmetadata: {{name: {name}}}\nspec:\n{spec}"


SLACK = "    slack: {type: slack, webhookUrl: \"${env:SLACK_URL}\"}\n"
PAGER = "    pager: {type: pagerduty, routingKey: \"${env:PD_KEY}\"}\n"
PAGED = (f"  channels:\n{SLACK}{PAGER}  routes:\n    - {{match: {{severity: critical}}, channels: [pager]}}\n"
         "    - {match: {}, channels: [slack]}\n  escalate: [{when: {count: 3, within: 10m}, channels: [pager]}]\n")

LEVELS: dict[str, dict[str, str]] = {
    "basic": {  # an image without a tag: what serves may change under the same configuration
        "model": "  serving: {runtime: custom, image: \"m\", replicas: 2, resources: {cpu: \"1\", memory: 1Gi}}\n",
    },
    "standard": {
        "model": ("  strategy: {rolling: {previewTests: [ping]}}\n  alerts: [slo]\n  scaling: steady\n"
                  "  escalation: team\n"),
        "alerts": ("  rules:\n    - {name: latency, metric: response_time, above: {warning: 1s}}\n"
                   "    - {name: errors, metric: error_rate, above: {warning: 0.05}}\n"
                   "    - {name: traffic, metric: throughput, below: {warning: 1}}\n"),
        "scaling": ("  minReplicas: 3\n  maxReplicas: 3\n  targets: {cpuUtilization: 70}\n"
                    "  schedule: [{cron: \"0 8 * * 1-5\", minReplicas: 3}]\n"),
        "escalation": f"  channels:\n{SLACK}  routes: [{{match: {{}}, channels: [slack]}}]\n",
    },
    "advanced": {
        "model": ("  strategy: {blueGreen: {previewTests: [ping]}}\n  alerts: [slo]\n  scaling: elastic\n"
                  "  escalation: team\n"),
        "alerts": ("  rules:\n    - {name: latency, metric: response_time, above: {warning: 1s, critical: 2s}}\n"
                   "    - {name: errors, metric: error_rate, above: {warning: 0.05, critical: 0.1}}\n"
                   "    - {name: traffic, metric: throughput, below: {warning: 1}}\n"
                   "    - {name: cpu, metric: cpu_usage, above: {warning: 80}}\n"
                   "    - {name: memory, metric: memory_usage, above: {warning: 85}}\n"),
        "scaling": "  minReplicas: 2\n  maxReplicas: 10\n  targets: {cpuUtilization: 70}\n",
        "escalation": PAGED,
        "environment": "  maintenance: {windows: [{cron: \"0 2 * * SAT\", duration: 4h}]}\n",
    },
    "expert": {
        "model": ("  strategy:\n    canary: {steps: [{setWeight: 20}, {analysis: slo}, {setWeight: 60}]}\n"
                  "  autoRollback: {onAlerts: [critical]}\n  alerts: [slo]\n  scaling: predictive\n"
                  "  escalation: team\n"),
        "alerts": "  rules:\n" + "".join(
            f"    - {{name: {m.replace('_', '-')}, metric: {m}, above: {{warning: 1, critical: 2}}, "
            f"runbook: \"https://runbooks.example.com/{m}\"}}\n"
            for m in ("response_time", "error_rate", "throughput", "cpu_usage", "memory_usage", "disk_usage",
                      "cost_per_request")),
        "scaling": ("  minReplicas: 2\n  maxReplicas: 10\n  targets: {cpuUtilization: 70, concurrency: 4}\n"
                    "  schedule: [{cron: \"0 8 * * 1-5\", minReplicas: 4}]\n"),
        "escalation": PAGED,
        "environment": "  maintenance: {windows: [{cron: \"0 2 * * SAT\", duration: 4h}], channels: {m: \"1\"}}\n",
        "image": f"m:1@sha256:{SHA}",
    },
}
POLICY_KINDS = {"alerts": ("AlertPolicy", "alerts", "slo"), "escalation": ("EscalationPolicy", "escalation", "team")}
SCALING_NAMES = {"standard": "steady", "advanced": "elastic", "expert": "predictive"}


def build(root: Path, level: str, models: tuple[str, ...] = ("m",)) -> Path:
    spec = LEVELS[level]
    write(root, "environments/prod/environment.yaml",
          f"{HEAD}kind: Environment\nmetadata: {{name: prod}}\nspec:\n  target: {{driver: local}}\n"
          + spec.get("environment", ""))
    for name in models:
        body = spec["model"]
        if level == "basic":  # a fixed replica count replaces the default serving line
            text = model_yaml(name, "").replace(
                "  serving: {runtime: custom, image: \"m:1\", resources: {cpu: \"1\", memory: 1Gi}}\n", body)
        else:
            text = model_yaml(name, body).replace('image: "m:1"', f'image: "{spec.get("image", "m:1")}"')
        write(root, f"environments/prod/models/{name}.yaml", text)
    for key, (kind, folder, name) in POLICY_KINDS.items():
        if key in spec:
            write(root, f"policies/{folder}/{name}.yaml", policy(kind, name, spec[key]))
    if "scaling" in spec:
        name = SCALING_NAMES[level]
        write(root, f"policies/scaling/{name}.yaml", policy("ScalingPolicy", name, spec["scaling"]))
    return root


def record_rollback(root: Path, model: str = "m") -> None:
    attempt = Attempt(id=1, kind="upgrade", version="1.1.0", from_version="1.0.0", strategy="canary",
                      started="2026-11-01T10:00:00Z", ended="2026-11-01T10:05:00Z", outcome="RolledBack",
                      reason="analysis slo failed")
    write_state(root, EnvironmentState(lineage="00000000-0000-4000-8000-000000000000", serial=3, environment="prod",
                                       models={model: ModelState(version="1.0.0", history=[attempt])}))


def assess(root: Path) -> EnvironmentAssessment:
    ws = Workspace.load(root)
    return assess_environment(ws.environment("prod"), ws.state("prod"))


def levels(found: EnvironmentAssessment) -> dict[str, str]:
    return {a.area: level_name(a.level) for a in found.areas}


@pytest.mark.parametrize("level", ["basic", "standard", "advanced", "expert"])
def test_a_repository_built_for_each_level_is_assessed_at_it(tmp_path: Path, level: str) -> None:
    root = build(tmp_path, level)
    if level == "expert":
        record_rollback(root)
    found = assess(root)
    assert levels(found) == dict.fromkeys(AREAS, level)
    assert level_name(found.level) == level
    assert found.score == pytest.approx(["basic", "standard", "advanced", "expert"].index(level) + 1)
    assert bool(found.recommendations) == (level != "expert")  # expert has nothing left to raise


def test_the_basic_repository_is_told_what_to_change(tmp_path: Path) -> None:
    found = assess(build(tmp_path, "basic"))
    changes = {(r.area, r.goal): (r.change, r.file) for r in found.recommendations}
    model = "environments/prod/models/m.yaml"
    assert changes[("deployment", "standard")] == (
        "spec.strategy: rolling: {maxUnavailable: 0, maxSurge: 1, previewTests: [ping]}", model)
    assert changes[("monitoring", "standard")][1] == model
    assert changes[("scaling", "standard")] == ("spec.scaling: <a ScalingPolicy>", model)
    assert changes[("incident management", "standard")] == ("spec.escalation: <an EscalationPolicy>", model)
    deployment = found.areas[0].models[0]
    assert deployment.evidence == "recreate: the old version stops before the new one starts"


def test_the_advanced_repository_needs_exactly_the_expert_criteria(tmp_path: Path) -> None:
    found = assess(build(tmp_path, "advanced"))
    missing = {area.area: [s.criterion for s in area.models[0].missing] for area in found.areas}
    assert missing == {
        "deployment": ["a canary whose traffic steps are gated by analysis, rolled back automatically"],
        "monitoring": ["rules on every catalogue metric (missing: cost_per_request, disk_usage)",
                       "a runbook on every critical rule"],
        "scaling": ["a leading metric rather than utilisation alone (concurrency, rps or queueDepth)",
                    "scheduled floors ahead of known peaks"],
        "incident management": ["rollback on critical alerts during a rollout",
                                "a rollback recorded in state (the rollback path has been exercised)"],
        "maintenance": ["an image pinned by digest (the tag names the release, the digest its bytes)",
                        "a channel for its image (the release the platform follows), so that falling behind shows"],
    }
    changes = {r.criterion: (r.change, r.file) for r in found.recommendations}
    assert changes["a runbook on every critical rule"] == ("runbook: <URL> on rules latency, errors",
                                                          "policies/alerts/slo.yaml")
    assert changes["scheduled floors ahead of known peaks"] == (
        'schedule: [{cron: "0 8 * * 1-5", duration: 10h, minReplicas: 4}]', "policies/scaling/elastic.yaml")
    assert changes["a canary whose traffic steps are gated by analysis, rolled back automatically"][0] == (
        "spec.strategy: canary: {steps: [{setWeight: 10}, {analysis: slo}, {setWeight: 50}, {analysis: slo}]}")


def test_the_expert_repository_without_a_recorded_rollback_is_advanced_in_incidents(tmp_path: Path) -> None:
    found = assess(build(tmp_path, "expert"))
    assert levels(found)["incident management"] == "advanced"
    assert level_name(found.level) == "expert"  # 3.8 >= 3.5, the guide's cut-off, though one area is advanced
    assert found.score == pytest.approx((4 + 4 + 4 + 3 + 4) / 5)
    (drill,) = [r for r in found.recommendations if r.area == "incident management"]
    assert drill.change == "modelops rollback MODEL --env prod (a drill), then apply again"
    assert drill.file == "environments/prod/state.json"


def test_areas_average_their_models(tmp_path: Path) -> None:
    root = build(tmp_path, "expert", models=("a", "b"))
    record_rollback(root, "a")
    # b deploys by recreate: deployment is (4 + 1) / 2 = 2.5, advanced by the guide's cut-off (>= 2.5); the
    # rollback of a counts for both
    text = (root / "environments/prod/models/b.yaml").read_text()
    start = text.index("  strategy:")
    (root / "environments/prod/models/b.yaml").write_text(text[:start] + text[text.index("  autoRollback"):])
    found = assess(root)
    deployment = found.areas[0]
    assert [(m.model, m.name) for m in deployment.models] == [("a", "expert"), ("b", "basic")]
    assert deployment.score == 2.5 and level_name(deployment.level) == "advanced"
    # (2.5 + 4 + 4 + 4 + 4) / 5 = 3.7 >= 3.5: expert overall, though deployment is advanced
    assert found.score == pytest.approx((2.5 + 4 + 4 + 4 + 4) / 5) and level_name(found.level) == "expert"
    assert found.shortfall(4) == []
    record = (root / "environments/prod/models/a.yaml").read_text()
    (root / "environments/prod/models/a.yaml").write_text(record.replace("  escalation: ", "  # escalation: "))
    # a loses its EscalationPolicy: incident management (1 + 4) / 2 = 2.5 and, without a pager, monitoring
    # (2 + 4) / 2 = 3: the environment is (2.5 + 3 + 4 + 2.5 + 4) / 5 = 3.2, advanced
    found = assess(root)
    assert [a.score for a in found.areas] == [2.5, 3.0, 4.0, 2.5, 4.0]
    assert found.shortfall(4)[:2] == ["prod is advanced (score 3.20), below expert",
                                      "deployment is advanced (score 2.50)"]
    assert found.shortfall(4)[2].startswith("deployment: b is basic (recreate")
    assert found.shortfall(3) == []


def test_applying_a_recommended_change_raises_the_level(tmp_path: Path) -> None:
    root = build(tmp_path, "standard")
    (step,) = [r for r in assess(root).recommendations if r.area == "deployment"]
    assert step.change == "spec.strategy: blueGreen: {previewTests: [ping]}"
    model = root / step.file
    model.write_text(model.read_text().replace("{rolling: {previewTests: [ping]}}",
                                               "{blueGreen: {previewTests: [ping]}}"))
    assert levels(assess(root))["deployment"] == "advanced"


@pytest.mark.parametrize(("change", "expected"), [
    (("{steps: [{setWeight: 20}, {analysis: slo}, {setWeight: 60}]}",
      "{previewTests: [ping], steps: [{setWeight: 50}]}"), "advanced"),  # tested before traffic, no analysis
    (("  autoRollback: {onAlerts: [critical]}\n",
      "  autoRollback: {onAlerts: [critical], onAnalysisFailure: false}\n"), "standard"),  # alerts still roll back
    (("  autoRollback: {onAlerts: [critical]}\n", "  autoRollback: {onAnalysisFailure: false}\n"),
     "basic"),  # nothing rolls back on its own
    (("max: 0.02}", "max: 0.02, onNoData: pass}"), "standard"),  # its analysis passes a canary nobody measures
    (("max: 0.02}", "max: 0.02, onNoData: fail}"), "expert"),  # no metrics fail it
])
def test_deployment_criteria_at_their_edges(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    root = build(tmp_path, "expert")
    model = root / "environments/prod/models/m.yaml"
    assert change[0] in model.read_text()
    model.write_text(model.read_text().replace(*change))
    assert levels(assess(root))["deployment"] == expected


def test_an_analysis_that_passes_without_metrics_is_not_expert_and_the_fix_is_named(tmp_path: Path) -> None:
    root = build(tmp_path, "expert")
    model = root / "environments/prod/models/m.yaml"
    model.write_text(model.read_text().replace("max: 0.02}", "max: 0.02, onNoData: pass}").replace(
        "canary: {steps:", "canary: {previewTests: [ping], steps:"))
    deployment = assess(root).areas[0].models[0]
    assert (deployment.name, deployment.evidence) == (
        "advanced", "canary with preview tests ping and analysis steps that pass without metrics (onNoData: pass), "
                    "rolled back when a test fails")
    [step] = deployment.missing
    assert (step.change, step.file) == ("onNoData: inconclusive on analysis slo", "environments/prod/models/m.yaml")
    model.write_text(model.read_text().replace("onNoData: pass", "onNoData: inconclusive"))
    assert levels(assess(root))["deployment"] == "expert"


def test_monitoring_needs_the_pager_for_every_critical_rule(tmp_path: Path) -> None:
    root = build(tmp_path, "advanced")
    team = root / "policies/escalation/team.yaml"
    team.write_text(team.read_text().replace("{match: {severity: critical}, channels: [pager]}",
                                             "{match: {severity: critical, rule: latency}, channels: [pager]}"))
    found = assess(root)
    monitoring = found.areas[1].models[0]
    assert monitoring.name == "standard"  # errors is critical too, and reaches only slack
    assert [s.criterion for s in monitoring.missing] == ["a pager for critical alerts"]
    assert monitoring.missing[0].file == "policies/escalation/team.yaml"


def test_monitoring_coverage_counts_catalogue_metrics(tmp_path: Path) -> None:
    root = build(tmp_path, "advanced")
    slo = root / "policies/alerts/slo.yaml"
    slo.write_text(slo.read_text().replace("    - {name: memory, metric: memory_usage, above: {warning: 85}}\n", ""))
    monitoring = assess(root).areas[1].models[0]
    assert (monitoring.name, monitoring.evidence) == ("standard", "rules cover 4 of 7 catalogue metrics, latency, "
                                                                  "errors and throughput included")


def test_a_scheduled_fixed_policy_is_standard_and_a_plain_fixed_one_basic(tmp_path: Path) -> None:
    root = build(tmp_path, "standard")
    assert levels(assess(root))["scaling"] == "standard"
    steady = root / "policies/scaling/steady.yaml"
    steady.write_text(steady.read_text().replace("  schedule: [{cron: \"0 8 * * 1-5\", minReplicas: 3}]\n", ""))
    found = assess(root).areas[2].models[0]
    assert (found.name, found.evidence) == ("basic", "3 replica(s), static")
    assert found.missing[0].change == "maxReplicas above minReplicas (3)"


def test_incident_management_needs_grouping_escalation_and_graded_rules(tmp_path: Path) -> None:
    root = build(tmp_path, "advanced")
    team = root / "policies/escalation/team.yaml"
    team.write_text(team.read_text() + "  grouping: {by: []}\n")
    assert levels(assess(root))["incident management"] == "basic"
    team.write_text(team.read_text().replace("  grouping: {by: []}\n", "").replace(
        "  escalate: [{when: {count: 3, within: 10m}, channels: [pager]}]\n", ""))
    found = assess(root).areas[3].models[0]
    assert found.name == "standard"
    assert [s.change for s in found.missing] == ["escalate: [{channels: [pager]}]"]


def test_incident_management_needs_a_graded_rule_where_critical_inhibits_warning(tmp_path: Path) -> None:
    root = build(tmp_path, "advanced")
    assert levels(assess(root))["incident management"] == "advanced"
    slo = root / "policies/alerts/slo.yaml"
    slo.write_text(slo.read_text().replace(", critical: 2s}", "}").replace(", critical: 0.1}", "}"))
    found = assess(root).areas[3].models[0]
    assert found.name == "standard"  # grouped and escalating, but no rule has a warning and a critical threshold
    assert [(s.criterion, s.change, s.file) for s in found.missing] == [
        (INHIBITION, "above: {warning: …, critical: …} on rule latency", "policies/alerts/slo.yaml")]


INHIBITION = ("graded alerts: a rule with warning and critical thresholds, both routed, so the critical inhibits the "
              "warning of the same rule")


@pytest.mark.parametrize(("routes", "change"), [
    # warnings reach nobody: the exported inhibition has nothing to silence
    ("    - {match: {severity: critical}, channels: [pager]}\n",
     "routes: - {match: {severity: warning}, channels: [slack]} (rule latency's warning alert reaches no channel)"),
    # criticals reach nobody: the inhibition would silence the warning and leave the rule unheard
    ("    - {match: {severity: warning}, channels: [slack]}\n",
     "routes: - {match: {severity: critical}, channels: [pager]} (rule latency's critical alert reaches no channel)"),
])
def test_inhibition_counts_only_when_both_severities_are_routed(tmp_path: Path, routes: str, change: str) -> None:
    root = build(tmp_path, "advanced")
    team = root / "policies/escalation/team.yaml"
    both = "    - {match: {severity: critical}, channels: [pager]}\n    - {match: {}, channels: [slack]}\n"
    assert both in team.read_text()
    team.write_text(team.read_text().replace(both, routes))
    found = assess(root).areas[3].models[0]
    assert found.name == "standard"  # graded rules exist, but a critical alert cannot take the warning's place
    assert [(s.criterion, s.change, s.file) for s in found.missing] == [
        (INHIBITION, change, "policies/escalation/team.yaml")]


def test_rollbacks_recorded_count_automatic_and_manual_ones() -> None:
    auto = Attempt(id=1, kind="upgrade", version="2", from_version="1", strategy="canary", started="t",
                   outcome="RolledBack")
    manual = Attempt(id=2, kind="rollback", version="1", from_version="2", strategy="blueGreen", started="t",
                     outcome="Promoted")
    fine = Attempt(id=3, kind="upgrade", version="3", from_version="1", strategy="canary", started="t",
                   outcome="Promoted")
    state = EnvironmentState(environment="prod", models={"a": ModelState(history=[auto, fine]),
                                                         "b": ModelState(history=[manual])})
    assert rollbacks_recorded(state) == 2
    assert rollbacks_recorded(EnvironmentState(environment="prod")) == 0


def test_scores_map_to_levels_by_the_guides_cut_offs() -> None:
    # >= 3.5 expert, >= 2.5 advanced, >= 1.5 standard, else basic; the cut-offs themselves belong to the level
    scores = (1.0, 1.49, 1.5, 1.99, 2.0, 2.49, 2.5, 8 / 3, 2.8, 3.49, 3.5, 3.75, 4.0)
    assert [level_name(level_of(s)) for s in scores] == [
        "basic", "basic", "standard", "standard", "standard", "standard", "advanced", "advanced", "advanced",
        "advanced", "expert", "expert", "expert"]
    assert level_name(level_of((3 + 4 + 3 + 4) / 4 - 1e-12)) == "expert"  # a float a hair under 3.5 still counts
    assert parse_level("advanced") == 3
    with pytest.raises(UsageError, match="unknown level 'pro'"):
        parse_level("pro")


def test_an_environment_without_models_is_basic(tmp_path: Path) -> None:
    write(tmp_path, "environments/prod/environment.yaml",
          f"{HEAD}kind: Environment\nmetadata: {{name: prod}}\nspec: {{}}\n")
    found = assess(tmp_path)
    assert found.score == 1.0 and found.recommendations == []


@pytest.mark.parametrize(("change", "expected"), [
    ((f', sha256: "{SHA}"', ""), "basic"),  # the artifact may change under the same version
    ((f"m:1@sha256:{SHA}", "m:latest"), "basic"),  # so may the image
    ((f"m:1@sha256:{SHA}", "m:1"), "advanced"),  # a release tag, no digest
    (("channels: {m: \"1\"}", "channels: {m: \"2\"}"), "advanced"),  # behind its channel
    (("channels: {m: \"1\"}", "channels: {}"), "advanced"),  # no channel: falling behind would not show
    (("windows: [{cron: \"0 2 * * SAT\", duration: 4h}], ", ""), "standard"),  # housekeeping at any time
])
def test_maintenance_criteria_at_their_edges(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    root = build(tmp_path, "expert")
    for rel in ("environments/prod/models/m.yaml", "environments/prod/environment.yaml"):
        path = root / rel
        path.write_text(path.read_text().replace(*change))
    assert levels(assess(root))["maintenance"] == expected


def test_maintenance_names_the_change_for_an_image_behind_its_channel(tmp_path: Path) -> None:
    root = build(tmp_path, "expert")
    env = root / "environments/prod/environment.yaml"
    env.write_text(env.read_text().replace('channels: {m: "1"}', 'channels: {m: "1.2"}'))
    found = assess(root).areas[4].models[0]
    assert (found.name, found.evidence) == ("advanced", "artifact pinned by sha256, image by digest; housekeeping in "
                                                        "maintenance windows; its version is current")
    assert [(s.criterion, s.change, s.file) for s in found.missing] == [
        ("an image at its channel's release (m 1.2)", "spec.serving.image: m:1.2", "environments/prod/models/m.yaml")]


def test_an_old_serving_version_keeps_maintenance_standard(tmp_path: Path) -> None:
    from modelops.state.format import Slot

    root = build(tmp_path, "advanced")
    # first served on 1 January, the state last written 120 days later: over the default maxVersionAge of 90 days
    served = ModelState(version="1.0.0", revision="r1", active_slot="blue", slots={
        "blue": Slot(version="1.0.0", revision="r1", status="active", since="2026-01-01T00:00:00Z")})
    write_state(root, EnvironmentState(lineage="00000000-0000-4000-8000-000000000000", serial=2, environment="prod",
                                       updated="2026-05-01T00:00:00Z", models={"m": served}))
    found = assess(root).areas[4].models[0]
    assert found.name == "standard"
    assert [s.criterion for s in found.missing] == [
        "a serving version younger than maxVersionAge (serves 1.0.0 since 2026-01-01T00:00:00Z (120 days, over "
        "maxVersionAge 90d))"]


def _incident(opened: str, detected: str, resolved: str | None) -> Incident:
    stamp = opened[:16].replace("-", "").replace(":", "")  # 2026-11-01T10:00 -> 20261101T1000
    return Incident(id=f"prod-m-{stamp}", model="m", trigger="critical alert slo/latency", opened=opened,
                    detected=detected, mitigated=resolved, resolved=resolved)


@pytest.mark.parametrize(("incidents", "level", "missing"), [
    # opened at 10:00, detected at 10:02, resolved at 10:30: within 5m and 1h
    ([("2026-11-01T10:00:00Z", "2026-11-01T10:02:00Z", "2026-11-01T10:30:00Z")], "expert", []),
    # a second one detected after 12m: the mean of 2m and 12m is 7m
    ([("2026-11-01T10:00:00Z", "2026-11-01T10:02:00Z", "2026-11-01T10:30:00Z"),
      ("2026-11-02T10:00:00Z", "2026-11-02T10:12:00Z", "2026-11-02T10:30:00Z")], "advanced",
     ["incidents detected within 5m of their start on average (now 7m over 2 incidents)"]),
    ([("2026-11-01T10:00:00Z", "2026-11-01T10:02:00Z", "2026-11-01T12:00:00Z")], "advanced",
     ["incidents resolved within 1h on average (now 2h over 1 incident)"]),
])
def test_incident_response_times_are_evidence(tmp_path: Path, incidents: list[tuple[str, str, str]], level: str,
                                              missing: list[str]) -> None:
    root = build(tmp_path, "expert")
    record_rollback(root)
    state = Workspace.load(root).state("prod")
    found = {i.id: i for i in (_incident(*times) for times in incidents)}
    write_state(root, state.model_copy(update={"incidents": found}))
    result = assess(root)
    area = result.areas[3].models[0]
    assert (area.name, [s.criterion for s in area.missing]) == (level, missing)
    assert area.evidence.split("; ")[-1].startswith(f"{len(incidents)} incident")
    assert result.incidents is not None and result.incidents.count == len(incidents)


def test_incident_figures_show_in_the_evidence(tmp_path: Path) -> None:
    root = build(tmp_path, "expert")
    record_rollback(root)
    state = Workspace.load(root).state("prod")
    incident = _incident("2026-11-01T10:00:00Z", "2026-11-01T10:02:00Z", "2026-11-01T10:30:00Z")
    write_state(root, state.model_copy(update={"incidents": {incident.id: incident}}))
    area = assess(root).areas[3].models[0]
    assert area.evidence.endswith("; 1 incident: mean time to detect 2m, to resolve 30m")
