"""What waiting on the cluster behind a gitops target needs of the configuration, said before a wait starts.

An environment's `spec.target.gitops.cluster`: its service URL names only placeholders the wait fills in, and it
polls more often than it gives up. A blue-green model whose Rollout promotes itself while modelops has preview tests
to run against it is warned about: the wait may first see the new version after the switch, and its tests then
run against the active Service instead of the preview.
"""

from __future__ import annotations

import re

from modelops.base.clock import readable
from modelops.config.documents import Document
from modelops.core.strategies import preview_tests
from modelops.validate.findings import Findings

#: The placeholders of `cluster.serviceUrl`
PLACEHOLDERS = ("service", "namespace", "model", "env")
_PLACEHOLDER = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
WHERE = "/spec/target/gitops/cluster"


def check_environment(env: Document, findings: Findings) -> None:
    gitops = env.spec.target.gitops
    cluster = gitops.cluster if gitops is not None else None
    if cluster is None:
        return
    unknown = [name for name in _PLACEHOLDER.findall(cluster.service_url) if name not in PLACEHOLDERS]
    if unknown:
        findings.error("MO125", f"serviceUrl has an unknown placeholder ${unknown[0]}", env.source,
                       f"{WHERE}/serviceUrl", hint="placeholders: " + ", ".join(f"${p}" for p in PLACEHOLDERS))
    if cluster.poll_interval > cluster.timeout:
        poll, timeout = (readable(d.ms, exact=True) for d in (cluster.poll_interval, cluster.timeout))
        findings.error("MO126", f"pollInterval {poll} is longer than timeout {timeout}: a "
                       "wait would give up before it read the cluster twice", env.source, f"{WHERE}/pollInterval")


def check_model(model: Document, env: Document | None, findings: Findings) -> None:
    gitops = env.spec.target.gitops if env is not None else None
    if gitops is None or gitops.cluster is None or gitops.flavor != "argo-rollouts":
        return
    strategy = model.spec.strategy
    green = strategy.blue_green if strategy is not None else None
    if green is not None and green.auto_promote and preview_tests(model.spec):
        findings.warning("MO217", "the Rollout promotes itself (autoPromote) once its own analysis passes, so "
                         "modelops' preview tests may reach the new version only after the switch", model.source,
                         "/spec/strategy/blueGreen/autoPromote",
                         hint="set autoPromote: false and promote after `modelops wait`, or accept that its tests "
                              "run against the active Service")
