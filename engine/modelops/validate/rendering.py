"""The fourth check of an environment that the gitops driver serves: can its desired state be rendered?

The renderer refuses what Kubernetes (or the chosen flavor) cannot express: a KEDA cron window past midnight,
a stabilization window over an hour, a KServe model scaled on a metric KServe lacks. Found only at apply time,
such a refusal would stop the rollout after its first steps; found here, it is a located error on the model,
before plan or apply runs anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelops.base.diagnostics import has_errors
from modelops.config.documents import Document
from modelops.validate.findings import Findings


def check_renderable(documents: Sequence[Document], findings: Findings) -> None:
    """MO211 for every model of a gitops environment that the renderer refuses (only on an otherwise valid
    configuration: resolving one with dangling references would report the same mistake twice)."""
    gitops = {d.name for d in documents if d.kind == "Environment" and d.spec.target.driver == "gitops"}
    if not gitops or has_errors(findings.diagnostics):
        return
    from modelops.core.model import resolve
    from modelops.validate.kubernetes import refusals  # loads only for a repository that needs it

    scoped = [d for d in documents if _serves(d, gitops)]
    models = {(d.environment, d.name): d for d in scoped if d.kind == "Model"}
    for env in resolve(scoped).environments.values():
        for model, refusal in refusals(env):
            findings.error("MO211", f"the gitops driver cannot render {model}: {refusal.message}",
                           models[(env.name, model)].source, refusal.at, hint=refusal.hint)


def _serves(document: Document, environments: set[str]) -> bool:
    """Whether the document is part of one of these environments (every policy may be)."""
    if document.kind == "Model":
        return document.environment in environments
    return document.kind != "Environment" or document.name in environments
