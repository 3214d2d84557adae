"""`environments/<env>/rendered/`: the Kubernetes manifests the gitops driver keeps for Argo CD or Flux.

What the directory holds is a pure function of the environment's configuration and recorded state
(`kubernetes.render.rendered`), and state.json records a digest of it (`Rendered`): so an apply killed and resumed
records the same value as one that ran through, and `export kubernetes --check` can tell a stale directory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from modelops.base.files import current_text
from modelops.base.layout import rendered_dir
from modelops.config.spec.environment import GitopsTarget
from modelops.core.live import LiveModel
from modelops.core.model import EnvironmentConfig
from modelops.export.files import ExportFile, WriteResult, digest, inside_root, stale_files, write_files
from modelops.export.kubernetes.render import RULE_FILE
from modelops.export.kubernetes.render import rendered as render_recorded
from modelops.state.format import EnvironmentState, Rendered
from modelops.validate.kubernetes import Refused


def record_of(files: Sequence[ExportFile], flavor: str) -> dict[str, Any]:
    """The record of a rendering: its flavor, the digest of the whole, and the digest of every file."""
    return {"flavor": flavor, "digest": digest(files),
            "files": {f.name: _sha(f.text) for f in files}}


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


def observed(root: Path, env: EnvironmentConfig, state: EnvironmentState | None,
             recorded: Iterable[str]) -> dict[str, LiveModel]:
    """Each model's file in rendered/ as it is on disk (None: missing), for the files the record names and those
    on disk, beside the file a rendering of the recorded state makes now; `prometheusrule.yaml` belongs to no
    model."""
    directory = rendered_dir(root, env.name)
    now = _rendering(env, state)
    names = set(recorded) | set(now) | ({p.name for p in directory.glob("*.yaml")} if directory.is_dir() else set())
    return {name.removesuffix(".yaml"): LiveModel(files={name: _file_digest(directory / name)},
                                                  rendering={name: now.get(name)})
            for name in sorted(names - {RULE_FILE})}


def _rendering(env: EnvironmentConfig, state: EnvironmentState | None) -> dict[str, str]:
    """The digests of a rendering of the recorded state (none when nothing was recorded, or it cannot render)."""
    if state is None or not state.exists:
        return {}
    try:
        return {f.name: _sha(f.text) for f in render_recorded(env, state)}
    except Refused:
        return {}


def _file_digest(path: Path) -> str | None:
    """The digest of a rendered file; what is not a regular file of the directory (a link, which could lead out of
    the repository) is never read, and says what it is."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return "(not a regular file: a symbolic link or a directory)"
    text = current_text(path)
    return _sha(text) if text is not None else None


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def write(root: Path, environment: str, files: Sequence[ExportFile]) -> WriteResult:
    """Replace the environment's `rendered/` with these files (never through a link out of the repository)."""
    return write_files(inside_root(rendered_dir(root, environment), root), files, "kubernetes", environment)
