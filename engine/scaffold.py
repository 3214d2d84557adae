"""`modelops init`: a new ops repository that validates, plans and applies on the local target."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.state.store import atomic_write

FILES: dict[str, str] = {
    ".gitignore": ".modelops/\n",
    "environments/dev/environment.yaml": """\
apiVersion: modelops.dev/v1
kind: Environment
metadata:
  name: dev
spec:
  target:
    driver: local
  approval: none
""",
    "environments/dev/models/example.yaml": """\
apiVersion: modelops.dev/v1
kind: Model
metadata:
  name: example
  labels: {team: ml}
spec:
  version: 0.1.0
  artifact:
    uri: "s3://models/example/0.1.0/model.tar.gz"
    sha256: "0000000000000000000000000000000000000000000000000000000000000000"
  serving:
    runtime: vllm
    image: "vllm/vllm-openai:v0.6.3"
    port: 8000
    replicas: 1
    resources: {cpu: "2", memory: 8Gi, gpu: 1}
  strategy:
    blueGreen: {previewTests: [accuracy], scaleDownDelay: 10m}
  tests:
    - name: accuracy
      command: ["true"]
  alerts: [model-slo]
  escalation: oncall
""",
    "policies/alerts/model-slo.yaml": """\
apiVersion: modelops.dev/v1
kind: AlertPolicy
metadata:
  name: model-slo
spec:
  rules:
    - {name: high-latency, metric: response_time, above: {warning: 500ms, critical: 2s}, for: 5m}
    - {name: high-error-rate, metric: error_rate, above: {warning: 0.02, critical: 0.05}, for: 2m}
""",
    "policies/escalation/oncall.yaml": """\
apiVersion: modelops.dev/v1
kind: EscalationPolicy
metadata:
  name: oncall
spec:
  channels:
    slack: {type: slack, webhookUrl: "${env:SLACK_WEBHOOK_URL}"}
  routes:
    - {match: {}, channels: [slack]}
""",
}


@dataclass
class Scaffold:
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def init_repo(root: Path) -> Scaffold:
    """Write the starter files; a file that already exists is kept as it is."""
    outcome = Scaffold()
    for rel, text in FILES.items():
        path = root / rel
        if path.exists():
            outcome.kept.append(rel)
            continue
        atomic_write(path, text, root)
        outcome.written.append(rel)
    return outcome
