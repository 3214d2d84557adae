"""What the schema cannot say about a model's artifact: MO230, a digest pinned beside a registry alias.

An alias moves from version to version (that is what it is for); `artifact.sha256` pins one version's files. Both
at once hold until the alias moves, and then every plan fails (MO144) until someone edits the digest: the warning
says so while it is still a choice.
"""

from __future__ import annotations

from collections.abc import Iterable

from modelops.config.documents import Document
from modelops.validate.findings import Findings


def check_artifacts(documents: Iterable[Document], findings: Findings) -> None:
    for doc in documents:
        if doc.kind != "Model":
            continue
        artifact = doc.spec.artifact
        ref = artifact.registry
        if ref is not None and ref.alias is not None and artifact.sha256 is not None:
            findings.warning("MO230", f"artifact.sha256 pins one version's files, beside the alias {ref.alias}, which "
                                      "moves: once it does, plan fails (MO144) until the digest is edited",
                             doc.source, "/spec/artifact/sha256",
                             hint=f"pin a version instead (mlflow: {{model: {ref.model}, version: N}}, or "
                                  f"models:/{ref.model}/N), or remove artifact.sha256: plan computes the digest of "
                                  "what the alias names")
