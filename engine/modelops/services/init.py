"""`modelops init`: a new ops repository that validates, plans and applies on the local target."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from modelops.base.errors import EngineError
from modelops.base.files import atomic_write_all
from modelops.base.paths import inside

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
    """Write the starter files; a file that already exists is kept as it is. Every file's place is checked
    before the first is written, so a refusal (a directory linked out of the repository, a file where a
    directory must go) leaves the repository as it was, not half started."""
    outcome = Scaffold()
    for rel in FILES:
        (outcome.kept if (root / rel).exists() else outcome.written).append(rel)
    for rel in outcome.written:
        _check_place(root, rel)
    new_folders = sorted({p for rel in outcome.written for p in (root / rel).parents if not p.exists()}, reverse=True)
    try:  # all the files or none: a disk that fills midway leaves no half-started repository either
        atomic_write_all([(root / rel, FILES[rel], rel) for rel in outcome.written], root)
    except EngineError:
        for folder in new_folders:  # deepest first; only the ones init created, and only if still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return outcome


def _check_place(root: Path, rel: str) -> None:
    """Refuse, before anything is written, what `atomic_write_all` would refuse or fail on for `rel`."""
    path = root / rel
    inside(path.parent, root)
    for directory in (root, *(root / parent for parent in reversed(Path(rel).parents[:-1]))):
        if directory.exists() and not directory.is_dir():
            shown = directory.relative_to(root).as_posix() if directory != root else str(root)
            raise EngineError(f"cannot write {rel}: {shown} is not a directory",
                              hint="move it out of the way, then run `modelops init` again")
