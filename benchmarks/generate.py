"""Generate a large, valid ops repository for benchmarks.

    python benchmarks/generate.py --models 2000 --envs 3 OUT

Each environment gets N model files of 30+ lines (a strategy with steps, tests, analysis, references to a
spread of policies) and proportionate policies: one alert, escalation and scaling policy per 50 models,
plus two guardrails. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
from pathlib import Path

RUNTIMES = [("vllm", "vllm/vllm-openai:v0.6.3", 8000, True), ("triton", "nvcr.io/nvidia/tritonserver:24.08-py3", 8000,
            False), ("torchserve", "pytorch/torchserve:0.11.0-cpu", 8080, False), ("sklearn", "ghcr.io/acme/sk:1.5",
            8080, False)]
TEAMS = ["nlp", "vision", "risk", "growth", "search", "ads"]


def environment(name: str, upstream: str | None) -> str:
    promotes = f"  promotesFrom: {upstream}\n  approval: required\n" if upstream else "  approval: none\n"
    return (f"apiVersion: modelops.dev/v1\nkind: Environment\nmetadata:\n  name: {name}\nspec:\n"
            f"  target:\n    driver: local\n{promotes}"
            "  pricing: {gpuHour: 2.5, cpuHour: 0.04, gbHour: 0.005}\n")


def strategy(rng: random.Random, gates: bool) -> str:
    """A strategy; without gates (for apply timing) the same shape minus tests and analysis."""
    tests = "[smoke]" if gates else "[]"
    pick = rng.randrange(3)
    if pick == 0:
        post = "[slo]" if gates else "[]"
        return (f"  strategy:\n    blueGreen:\n      previewTests: {tests}\n      autoPromote: true\n"
                f"      scaleDownDelay: 0s\n      postPromotionAnalysis: {post}\n")
    if pick == 1:
        check = "analysis: slo" if gates else "setWeight: 20"
        return (f"  strategy:\n    canary:\n      previewTests: {tests}\n      scaleDownDelay: 0s\n      steps:\n"
                f"        - setWeight: 10\n        - {check}\n        - setWeight: 50\n"
                "        - setWeight: 75\n")
    return f"  strategy:\n    rolling:\n      maxUnavailable: 0\n      maxSurge: 1\n      previewTests: {tests}\n"


def model(index: int, env: str, groups: int, rng: random.Random, gates: bool = True) -> str:
    name = f"model-{index:05d}"
    runtime, image, port, gpu = RUNTIMES[index % len(RUNTIMES)]
    version = f"1.{index % 7}.{index % 11}"
    digest = hashlib.sha256(f"{name}-{version}".encode()).hexdigest()
    group = index % groups
    resources = "{cpu: \"4\", memory: 16Gi, gpu: 1}" if gpu else "{cpu: 1500m, memory: 4Gi}"
    rollout = strategy(rng, gates)
    analysed = gates and "rolling:" not in rollout  # an analysis no step names is a warning (MO210): declare none
    analysis = ("  analysis:\n    slo: {metric: error_rate, max: 0.02, interval: 1m, count: 3, onNoData: pass}\n"
                if analysed else "")
    return (
        f"# {name} served in {env}\napiVersion: modelops.dev/v1\nkind: Model\nmetadata:\n  name: {name}\n"
        f"  labels: {{team: {TEAMS[index % len(TEAMS)]}, tier: {'gold' if index % 3 == 0 else 'silver'}}}\n"
        f"spec:\n  version: {version}\n  artifact:\n    uri: \"s3://models/{name}/{version}/model.tar.gz\"\n"
        f"    sha256: \"{digest}\"\n  serving:\n    runtime: {runtime}\n    image: \"{image}\"\n    port: {port}\n"
        f"    healthPath: /health\n    resources: {resources}\n{rollout}"
        f"  autoRollback: {{onTestFailure: true, onAnalysisFailure: {'true' if analysed else 'false'}}}\n  tests:\n"
        f"    - name: smoke\n      command: [\"true\"]\n      timeout: 30s\n{analysis}"
        f"  scaling: scaling-{group:03d}\n  alerts: [alerts-{group:03d}]\n  escalation: escalation-{group:03d}\n"
    )


def policies(groups: int, guarded: str) -> dict[str, str]:
    files: dict[str, str] = {}
    for g in range(groups):
        files[f"alerts/alerts-{g:03d}.yaml"] = (
            f"apiVersion: modelops.dev/v1\nkind: AlertPolicy\nmetadata:\n  name: alerts-{g:03d}\nspec:\n  rules:\n"
            "    - {name: latency, metric: response_time, above: {warning: 500ms, critical: 2s}, for: 5m}\n"
            "    - {name: errors, metric: error_rate, above: {warning: 0.02, critical: 0.05}, for: 2m}\n")
        files[f"escalation/escalation-{g:03d}.yaml"] = (
            f"apiVersion: modelops.dev/v1\nkind: EscalationPolicy\nmetadata:\n  name: escalation-{g:03d}\nspec:\n"
            "  channels:\n    slack: {type: slack, webhookUrl: \"${env:SLACK_WEBHOOK_URL}\"}\n"
            "    pager: {type: pagerduty, routingKey: \"${env:PAGERDUTY_ROUTING_KEY}\"}\n"
            "  routes:\n    - {match: {severity: critical}, channels: [pager, slack]}\n"
            "    - {match: {severity: warning}, channels: [slack]}\n")
        files[f"scaling/scaling-{g:03d}.yaml"] = (
            f"apiVersion: modelops.dev/v1\nkind: ScalingPolicy\nmetadata:\n  name: scaling-{g:03d}\nspec:\n"
            f"  minReplicas: {1 + g % 3}\n  maxReplicas: {10 + g % 20}\n  targets: {{cpuUtilization: 70}}\n")
    files["guardrails/production-safety.yaml"] = (
        "apiVersion: modelops.dev/v1\nkind: Guardrail\nmetadata:\n  name: production-safety\nspec:\n"
        f"  match: {{kinds: [Model], environments: [{guarded}]}}\n  severity: error\n  message: pinned and escalated\n"
        "  require:\n    properties:\n      spec:\n        required: [strategy, escalation]\n")
    files["guardrails/ownership.yaml"] = (
        "apiVersion: modelops.dev/v1\nkind: Guardrail\nmetadata:\n  name: ownership\nspec:\n"
        "  match: {kinds: [Model]}\n  severity: warning\n  message: models carry a team label\n"
        "  require:\n    properties:\n      metadata:\n        properties:\n          labels: {required: [team]}\n")
    return files


def environment_names(count: int) -> list[str]:
    base = ["staging", "production", "canary-region"]
    return base[:count] if count <= len(base) else base + [f"region-{i}" for i in range(count - len(base))]


def generate(out: Path, models: int, envs: int, seed: int = 7, gates: bool = True) -> None:
    if out.exists():
        shutil.rmtree(out)
    rng = random.Random(seed)
    groups = max(1, models // 50)
    names = environment_names(envs)
    for position, env in enumerate(names):
        upstream = names[position - 1] if position else None
        _write(out / "environments" / env / "environment.yaml", environment(env, upstream))
        for index in range(models):
            _write(out / "environments" / env / "models" / f"model-{index:05d}.yaml",
                   model(index, env, groups, rng, gates))
    for rel, text in policies(groups, names[-1]).items():
        _write(out / "policies" / rel, text)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=2000, help="model files per environment")
    parser.add_argument("--envs", type=int, default=3, help="environments")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-gates", action="store_true", help="no tests or analysis (for timing apply alone)")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    generate(args.out, args.models, args.envs, args.seed, gates=not args.no_gates)
    print(f"generated {args.envs} x {args.models} models in {args.out}")


if __name__ == "__main__":
    main()
