"""`environments/<env>/rendered/`: the Kubernetes manifests the gitops driver keeps for Argo CD or Flux.

What the directory holds is a pure function of the environment's configuration and recorded state
(`kubernetes.render.rendered`), and state.json records a digest of it (`Rendered`): so an apply killed and resumed
records the same value as one that ran through, and `export kubernetes --check` can tell a stale directory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelops.base.layout import rendered_dir
from modelops.config.spec.environment import GitopsTarget
from modelops.core.model import EnvironmentConfig
from modelops.export.files import ExportFile, WriteResult, digest, inside_root, stale_files, write_files
from modelops.export.kubernetes.render import rendered as render_recorded
from modelops.state.format import EnvironmentState, Rendered


def record_of(files: Sequence[ExportFile], flavor: str) -> dict[str, Any]:
    """The record of a rendering: its flavor, the digest of the whole, and the digest of every file."""
    return {"flavor": flavor, "digest": digest(files),
            "files": {f.name: "sha256:" + hashlib.sha256(f.text.encode()).hexdigest() for f in files}}


def recorded_rendering(env: EnvironmentConfig, state: EnvironmentState) -> Rendered:
    """What `rendered/` holds for this state, for state.json to record."""
    flavor = (env.spec.target.gitops or GitopsTarget()).flavor
    return Rendered.model_validate(record_of(render_recorded(env, state), flavor))


def staleness(root: Path, env: EnvironmentConfig, state: EnvironmentState) -> list[str]:
    """Files of `rendered/` that differ from a rendering of the recorded state."""
    return stale(root, env.name, render_recorded(env, state))


def stale(root: Path, environment: str, files: Sequence[ExportFile]) -> list[str]:
    """Files of `rendered/` that differ from these."""
    return stale_files(rendered_dir(root, environment), files, "kubernetes", environment)


def write(root: Path, environment: str, files: Sequence[ExportFile]) -> WriteResult:
    """Replace the environment's `rendered/` with these files (never through a link out of the repository)."""
    return write_files(inside_root(rendered_dir(root, environment), root), files, "kubernetes", environment)
