"""Where a gate runs in the unit tests of the gates: staging's sentiment in a private copy of the example, its
preview (or active) endpoint pointed at a real loopback server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from modelops.run.gates import GateContext
from modelops.workspace import Workspace

from tests.support.repo import copy_example

#: The endpoint templates of the example's staging environment.
ENDPOINTS = {"preview": "http://127.0.0.1:8790/staging/$model/$slot",
             "active": "http://127.0.0.1:8790/staging/$model/active"}


def sentiment_gate(repo: Path, version: str, url: str, which: Literal["preview", "active"] = "preview",
                   **fields: Any) -> GateContext:
    """A gate of sentiment `version` on slot green (no metrics) in a copy of the example made at `repo`, calling its
    `which` endpoint at `url`; `fields` are the context's other settings (e.g. `sleep`)."""
    copy_example(repo)
    environment = repo / "environments/staging/environment.yaml"
    environment.write_text(environment.read_text().replace(ENDPOINTS[which], url))
    env = Workspace.load(repo).environment("staging")
    return GateContext(repo, env, env.models["sentiment"], version, "green", None, which=which, **fields)
