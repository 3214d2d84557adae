"""The local target's `command` runtime in tests: the small model server of tests/data/local-runtime/model_server.py
as a model's own start command, the Environment and Model documents that run it, and the CLI as its own process
(the runtime's processes must outlive it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from modelops.drivers.localrt.servers import find_tool

from tests.support.repo import ROOT

SERVER = ROOT / "tests/data/local-runtime/model_server.py"
NO_HAPROXY = "haproxy is not installed (Debian package haproxy; scripts/install-test-tools.sh installs it)"
needs_haproxy = pytest.mark.skipif(find_tool("haproxy") is None, reason=NO_HAPROXY)

_ENVIRONMENT = """apiVersion: modelops.dev/v1
kind: Environment
metadata: {name: dev}
spec:
  target:
    driver: local
    local: {runtime: command, %s}
"""
_MODEL = """apiVersion: modelops.dev/v1
kind: Model
metadata: {name: %s}
spec:
  version: %s
  artifact: {uri: "file://model.bin", sha256: "%s"}
  serving:
    runtime: custom
    image: example/server:1
    resources: {cpu: "1", memory: 1Gi}
    local: {command: %s%s}
"""


def environment(local: str = "startTimeout: 30s", spec: str = "") -> str:
    """Environment `dev` on the local target's command runtime: `local` are the other entries of spec.target.local
    (flow style), `spec` more of spec, written from column 0."""
    return _ENVIRONMENT % local + _block(spec, "  ")


def command_model(version: str, digest: str, *flags: str, name: str = "m", serving: str = "", local: str = "",
                  spec: str = "") -> str:
    """Model `name` whose slots run the test server with `flags` (e.g. "--fail-every", "2"): `local` are more
    entries of serving.local (flow style), `serving` more of serving and `spec` more of spec, written from column 0."""
    command = json.dumps([sys.executable, str(SERVER), "--port", "{port}", *flags])
    more = f", {local}" if local else ""
    return _MODEL % (name, version, digest, command, more) + _block(serving, "    ") + _block(spec, "  ")


def _block(text: str, indent: str) -> str:
    """`text`, written from column 0, as lines nested `indent` deep (ending in a newline, whatever it ended in)."""
    return textwrap.indent(text.rstrip("\n") + "\n", indent) if text else ""


def modelops(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as its own process: the runtime's processes must outlive it."""
    return subprocess.run([sys.executable, "-m", "modelops", "--repo", str(repo), *args], capture_output=True,
                          text=True, timeout=300, check=False, env={**os.environ, "NO_COLOR": "1"})
