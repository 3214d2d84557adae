"""What `modelops init` writes: a repository that validates, plans and applies on the local target, and everything
around it that an ops repository needs from its first commit: the published JSON Schemas with the editor settings
that use them, a pre-commit hook, the plan and apply workflows on the published GitHub Action, and a .gitignore.

The action and the hook are pinned to the release of the engine that writes them (`v<version>`); the files say how
to pin a commit instead. Third-party actions are pinned to a commit, as in modelops' own workflows.
"""

from __future__ import annotations

import json

from modelops import __version__
from modelops.config.schemas import render
from modelops.config.spec.kinds import KINDS, schema_file_name

#: Where the published action, the pre-commit hooks and the schemas' home live.
SOURCE = "modelops-engine/modelops"
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"

#: Which files each schema checks, as the YAML language server's `yaml.schemas` maps them (README, "Editor support").
EDITOR_GLOBS: dict[str, tuple[str, ...]] = {
    "Model": ("environments/*/models/**/*.yaml", "environments/*/models/**/*.yml"),
    "Environment": ("environments/*/environment.yaml", "environments/*/environment.yml"),
    "AlertPolicy": ("policies/alerts/**/*.yaml", "policies/alerts/**/*.yml"),
    "EscalationPolicy": ("policies/escalation/**/*.yaml", "policies/escalation/**/*.yml"),
    "ScalingPolicy": ("policies/scaling/**/*.yaml", "policies/scaling/**/*.yml"),
    "Guardrail": ("policies/guardrails/**/*.yaml", "policies/guardrails/**/*.yml"),
}

GITIGNORE = """\
# modelops' own working files: the configuration cache, the local target's processes and logs, crash reports
.modelops/
# plans saved for one apply (modelops plan --out)
*.plan.json
"""

CONFIGURATION = {
    "environments/dev/environment.yaml": """\
apiVersion: modelops.dev/v1
kind: Environment
metadata:
  name: dev
spec:
  target:
    driver: local
  approval: none
  # Who hears about what apply does here (docs/notifications.md): uncomment, and set the variable the channel names.
  # notifications:
  #   - {channel: oncall/slack, events: [rolledBack, failed, driftDetected]}
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
    pager: {type: pagerduty, routingKey: "${env:PAGERDUTY_ROUTING_KEY}"}
    incidents: {type: webhook, url: "${env:INCIDENT_WEBHOOK_URL}"}
  routes:
    - {match: {severity: critical}, channels: [pager, slack]}
    - {match: {}, channels: [slack]}
  # The operations guide's escalation table: N alerts of the same rule on the same model within a window
  # page the on-call and open an incident.
  escalate:
    - channels: [pager, incidents]
      thresholds:
        response_time: {count: 3, within: 5m}
        error_rate: {count: 2, within: 3m}
        cpu_usage: {count: 5, within: 10m}
        memory_usage: {count: 3, within: 5m}
      when: {count: 5, within: 10m}   # any other alert type
""",
}

PRE_COMMIT = """\
# pre-commit (https://pre-commit.com): run `pre-commit install` once. Every commit that stages a modelops
# configuration file then validates the whole configuration (a renamed policy breaks the models that use it).
repos:
  - repo: https://github.com/{source}
    rev: v{version}  # a release tag; pin a commit SHA instead if your policy asks for it
    hooks:
      - id: modelops-validate
"""

PLAN_WORKFLOW = """\
# On a pull request that changes configuration: validation errors annotate the changed lines, and the plan of what
# merging would change goes to the job summary and to one pull-request comment, updated on every push.
#
# The pull request's configuration is data: `validate` and `plan` run nothing from it, and `--refresh=false`
# contacts no target. Pull requests from forks get a read-only token: their plan stays in the job summary.
name: modelops plan

on:
  pull_request:
    paths:
      - "environments/**"
      - "policies/**"

permissions: {{}}

concurrency:
  group: modelops-plan-${{{{ github.event.pull_request.number }}}}
  cancel-in-progress: true

jobs:
  plan:
    name: validate and plan
    runs-on: ubuntu-latest
    timeout-minutes: 15
    permissions:
      contents: read
      pull-requests: write
    steps:
      - name: Check out
        uses: {checkout}
        with:
          fetch-depth: 0
          persist-credentials: false

      - name: Validate
        uses: {source}@v{version}
        with:
          command: validate --format github

      - name: Plan
        id: plan
        uses: {source}@v{version}
        with:
          command: plan --changed-since ${{{{ github.event.pull_request.base.sha }}}} --refresh=false --format markdown
          output-file: ${{{{ runner.temp }}}}/modelops-plan.md

      # One comment per pull request: the last one this workflow wrote is edited, or a first one made.
      - name: Comment the plan
        if: >-
          ${{{{ !cancelled() && steps.plan.outcome == 'success'
          && github.event.pull_request.head.repo.full_name == github.repository }}}}
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          PR: ${{{{ github.event.pull_request.number }}}}
          PLAN: ${{{{ runner.temp }}}}/modelops-plan.md
        run: gh pr comment "$PR" --body-file "$PLAN" --edit-last || gh pr comment "$PR" --body-file "$PLAN"
"""

APPLY_WORKFLOW = """\
# After a merge to main: apply the configuration, then push the recorded state and the re-rendered reports back to
# main. One apply at a time (queued, never cancelled midway); the push of its own commit does not apply again.
#
# The token that may push is given to the push step alone, never to the apply (which runs the models' tests).
# Where those tests run code you do not review, split the push into a job of its own, as modelops' own
# repository does (https://github.com/{source}/blob/main/.github/workflows/modelops-apply.yml).
name: modelops apply

on:
  push:
    branches: [main]
    paths:
      - "environments/**"
      - "policies/**"
      - "!environments/*/state.json"
      - "!environments/*/state.journal"
      - "!environments/*/REPORT.md"
      - "!environments/*/rendered/**"
      - "!environments/*/incidents/**"
  workflow_dispatch: {{}}

permissions: {{}}

concurrency:
  group: modelops-apply-${{{{ github.repository }}}}
  cancel-in-progress: false

env:
  GIT_AUTHOR_NAME: github-actions[bot]
  GIT_AUTHOR_EMAIL: 41898282+github-actions[bot]@users.noreply.github.com
  GIT_COMMITTER_NAME: github-actions[bot]
  GIT_COMMITTER_EMAIL: 41898282+github-actions[bot]@users.noreply.github.com

jobs:
  apply:
    if: ${{{{ !startsWith(github.event.head_commit.message, 'modelops apply:') }}}}
    runs-on: ubuntu-latest
    timeout-minutes: 60
    permissions:
      contents: write
    steps:
      - name: Check out
        uses: {checkout}
        with:
          fetch-depth: 0
          persist-credentials: false

      # The channels of policies/escalation/ read their secrets from these variables when apply sends rollout
      # notifications (docs/notifications.md); add the ones your policies and targets name.
      - name: Apply
        id: apply
        uses: {source}@v{version}
        with:
          command: apply --auto-approve --commit
        env:
          SLACK_WEBHOOK_URL: ${{{{ secrets.SLACK_WEBHOOK_URL }}}}
          PAGERDUTY_ROUTING_KEY: ${{{{ secrets.PAGERDUTY_ROUTING_KEY }}}}
          INCIDENT_WEBHOOK_URL: ${{{{ secrets.INCIDENT_WEBHOOK_URL }}}}

      # The state is pushed even when a rollout failed and was rolled back: it records the rejected version.
      - name: Push the recorded state and reports
        if: ${{{{ !cancelled() && steps.apply.outcome != 'skipped' }}}}
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          BRANCH: ${{{{ github.ref_name }}}}
        run: |
          auth="AUTHORIZATION: basic $(printf 'x-access-token:%s' "$GH_TOKEN" | base64 -w0)"
          for attempt in 1 2 3; do
            if git -c core.hooksPath=/dev/null -c "http.extraheader=$auth" push origin "HEAD:$BRANCH"; then
              exit 0
            fi
            echo "main moved (attempt $attempt): rebasing the apply's commit onto it"
            git -c core.hooksPath=/dev/null -c "http.extraheader=$auth" pull --rebase origin "$BRANCH"
          done
          exit 1
"""


def editor_settings() -> str:
    """`.vscode/settings.json`: every schema mapped to the files it checks."""
    mapping = {f"./schemas/{schema_file_name(kind)}": list(globs) for kind, globs in EDITOR_GLOBS.items()}
    return json.dumps({"yaml.schemas": mapping}, indent=2) + "\n"


def starter_files() -> dict[str, str]:
    """Every file `init` writes, by repository-relative path, in the order it lists them."""
    values = {"source": SOURCE, "version": __version__, "checkout": CHECKOUT}
    return {
        **CONFIGURATION,
        **{f"schemas/{schema_file_name(kind)}": render(kind) for kind in KINDS},
        ".vscode/settings.json": editor_settings(),
        ".pre-commit-config.yaml": PRE_COMMIT.format(**values),
        ".github/workflows/modelops-plan.yml": PLAN_WORKFLOW.format(**values),
        ".github/workflows/modelops-apply.yml": APPLY_WORKFLOW.format(**values),
        ".gitignore": GITIGNORE,
    }
