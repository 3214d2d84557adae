"""Helpers for the export tests: load a (modified) example repository and pick an environment."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from modelops.core.model import EnvironmentConfig
from modelops.workspace import Workspace
from ruamel.yaml import YAML


def load_env(root: Path, name: str = "production") -> EnvironmentConfig:
    return Workspace.load(root).environment(name)


def only_models(root: Path, keep: set[str]) -> None:
    """Delete every model file but `keep` from both environments."""
    for path in root.glob("environments/*/models/*.yaml"):
        if path.stem not in keep:
            path.unlink()


def edit_yaml(path: Path, change: Any) -> None:
    """Load a YAML file, let `change(doc)` edit it, write it back."""
    yaml = YAML()
    doc = yaml.load(path.read_text(encoding="utf-8"))
    change(doc)
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(doc, handle)


def yaml_docs(text: str) -> list[Any]:
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d is not None]


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True)
