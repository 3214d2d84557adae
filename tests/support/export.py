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


# -- webhook channels with auth (the Alertmanager export's http_config) --------------------------------------

AUTHENTICATED = """\
    incidents:
      type: webhook
      url: "${env:INCIDENT_WEBHOOK_URL}"
      auth: {bearer: "${env:INCIDENT_TOKEN}"}
    hooks:
      type: webhook
      url: https://hooks.example.com/alerts
      auth:
        basic: {username: "${env:HOOK_USER}", password: "${env:HOOK_PASSWORD}"}
        tls: {ca: certs/hooks-ca.pem, cert: "${env:HOOK_CERT_FILE}"}
    scheme:
      type: webhook
      url: https://hooks.example.com/other
      auth:
        headers: {Authorization: "Token ${env:OTHER_TOKEN}"}
        tls: {cert: certs/client.pem, key: "${env:KEY_FILE}"}
    literal:
      type: webhook
      url: https://hooks.example.com/third
      auth: {basic: {username: alerts, password: "${env:OTHER_PASSWORD}"}}
"""
AUTH_SECRETS = {"INCIDENT_TOKEN": "inc-t0ken-secret-1", "HOOK_USER": "hook-user-secret", "HOOK_PASSWORD": "h00k-pass",
                "OTHER_TOKEN": "0ther-t0ken-secret", "OTHER_PASSWORD": "0ther-pa55", "HOOK_CERT_FILE": "/x/cert.pem",
                "KEY_FILE": "/x/key.pem"}


def authenticated(repo: Path, channels: str = AUTHENTICATED) -> Path:
    """The example's ml-oncall with webhook channels that authenticate (bearer, basic, an Authorization header, TLS
    files), every one routed to."""
    path = repo / "policies/escalation/ml-oncall.yaml"
    text = path.read_text()
    start = text.index("    incidents: {type: webhook")
    path.write_text(text[:start] + channels + text[text.index("\n", start) + 1:].replace(
        "channels: [pager, slack-ml, incidents]", "channels: [pager, slack-ml, incidents, hooks, scheme, literal]"))
    return repo
