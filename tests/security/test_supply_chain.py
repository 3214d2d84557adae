"""Supply chain and CI hygiene: every dependency bounded below and above, the installed set consistent (`pip
check`), every action a workflow or the composite action uses pinned to a full commit SHA (job-level reusable
workflows and docker actions included) and every container image a job runs in or beside pinned to a digest,
every download in a workflow checked against a pinned SHA-256, the Node test tools installed from a lockfile with
integrity hashes and without install scripts, and nothing piped from the network into a shell."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from ruamel.yaml import YAML

from tests.support.repo import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
ACTION = ROOT / "action.yml"
SHA = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$")
DOCKER = re.compile(r"^docker://[^@\s]+@sha256:[0-9a-f]{64}$")
#: a container image named by its digest: a tag (`python:3.11-bookworm`) is moved to new content under one name
IMAGE = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
LOWER, UPPER = {">=", ">", "~=", "=="}, {"<", "<=", "~=", "=="}


def requirements() -> Iterator[tuple[str, Requirement]]:
    for text in PYPROJECT["build-system"]["requires"]:
        yield "build-system", Requirement(text)
    for text in PYPROJECT["project"]["dependencies"]:
        yield "dependencies", Requirement(text)
    for group, texts in PYPROJECT["project"].get("optional-dependencies", {}).items():
        for text in texts:
            yield f"optional {group}", Requirement(text)


@pytest.mark.parametrize(("where", "requirement"), list(requirements()), ids=str)
def test_every_dependency_has_a_lower_and_an_upper_bound(where: str, requirement: Requirement) -> None:
    operators = {spec.operator for spec in requirement.specifier}
    assert operators & LOWER, f"{where}: {requirement} has no lower bound"
    assert operators & UPPER, f"{where}: {requirement} has no upper bound"
    lower = [s.version for s in requirement.specifier if s.operator in (">=", ">")]
    upper = [s.version for s in requirement.specifier if s.operator in ("<", "<=")]
    if lower and upper:
        from packaging.version import Version

        assert Version(lower[0]) < Version(upper[0]), f"{where}: {requirement} admits nothing"


def test_installed_packages_satisfy_the_declared_bounds() -> None:
    """What the tests run against is what pyproject.toml promises (runtime and dev extras)."""
    wrong = []
    for where, requirement in requirements():
        if where == "build-system" or (requirement.marker is not None and not requirement.marker.evaluate()):
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            if where in {"dependencies", "optional dev"}:
                wrong.append(f"{requirement.name} is not installed")
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            wrong.append(f"{requirement.name} {version} is outside {requirement.specifier}")
    assert wrong == []


def test_pip_check_is_clean() -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# -- GitHub workflows and the composite action --------------------------------------------------------


def uses(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every `uses:` anywhere in a workflow or action: steps, composite steps, job-level reusable workflows."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uses" and isinstance(value, str):
                yield where, value
            else:
                yield from uses(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from uses(item, f"{where}/{i}")


def images(document: Any) -> Iterator[tuple[str, str]]:
    """Every container image a workflow's jobs run in or beside: `container:` (a string or its `image:`) and each
    of `services:`."""
    jobs = document.get("jobs") if isinstance(document, dict) else None
    for name, job in (jobs if isinstance(jobs, dict) else {}).items():
        if not isinstance(job, dict):
            continue
        named = [("container", job.get("container"))]
        services = job.get("services")
        named += [(f"services/{key}", spec) for key, spec in (services if isinstance(services, dict) else {}).items()]
        for where, spec in named:
            image = spec.get("image") if isinstance(spec, dict) else spec
            if image is not None:
                yield f"/jobs/{name}/{where}", str(image)


def unpinned(document: Any) -> list[str]:
    found = []
    for where, ref in uses(document):
        if ref.startswith("./"):
            continue  # this repository's own action or workflow, at the checked-out commit
        if not (SHA.match(ref) or DOCKER.match(ref)):
            found.append(f"{where}: {ref}")
    found += [f"{where}: {image}" for where, image in images(document) if not IMAGE.match(image)]
    return found


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha(path: Path) -> None:
    document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert list(uses(document)), f"{path.name} uses no action at all: is the scan broken?"
    assert unpinned(document) == []


def test_the_pin_check_catches_every_unpinned_form() -> None:
    document = YAML(typ="safe").load("""
jobs:
  reuse:
    uses: octo/workflows/.github/workflows/build.yml@main
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@a26af69
      - uses: docker://alpine:3.20
      - uses: actions/cache@11bd71901bbe5b1630ceea73d27597364c9af683
      - uses: ./local-action
      - uses: docker://alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000
  in-a-tagged-image:
    runs-on: ubuntu-latest
    container: python:3.11-bookworm
    services:
      db:
        image: postgres:16
      cache:
        image: redis@sha256:0000000000000000000000000000000000000000000000000000000000000000
      matrix:
        image: ${{ matrix.image }}
  in-an-image-mapping:
    runs-on: ubuntu-latest
    container:
      image: python
      options: --user root
  in-a-latest-image:
    container: {image: "python@sha256:0123"}
  in-a-pinned-image:
    runs-on: ubuntu-latest
    container:
      image: python@sha256:0000000000000000000000000000000000000000000000000000000000000000
    services:
      db:
        image: docker.io/library/postgres:16@sha256:0000000000000000000000000000000000000000000000000000000000000000
""")
    assert unpinned(document) == ["/jobs/reuse: octo/workflows/.github/workflows/build.yml@main",
                                  "/jobs/build/steps/0: actions/checkout@v4",
                                  "/jobs/build/steps/1: actions/setup-python@a26af69",
                                  "/jobs/build/steps/2: docker://alpine:3.20",
                                  "/jobs/in-a-tagged-image/container: python:3.11-bookworm",
                                  "/jobs/in-a-tagged-image/services/db: postgres:16",
                                  "/jobs/in-a-tagged-image/services/matrix: ${{ matrix.image }}",
                                  "/jobs/in-an-image-mapping/container: python",
                                  "/jobs/in-a-latest-image/container: python@sha256:0123"]


def test_every_download_in_a_workflow_is_checked_against_a_pinned_sha256() -> None:
    """A file a CI step fetches (the Debian packages of promtool and amtool) is verified before it is used."""
    fetching = re.compile(r"\b(curl|wget)\b")
    for path in WORKFLOWS:
        for where, script in runs(YAML(typ="safe").load(path.read_text(encoding="utf-8"))):
            if fetching.search(script):
                assert re.search(r"sha256sum --check", script), f"{path.name}{where}: a download is not verified"
                assert re.search(r"\b[0-9a-f]{64}\b", script), f"{path.name}{where}: no SHA-256 is pinned"


def runs(document: Any) -> Iterator[tuple[str, str]]:
    for name, job in document.get("jobs", {}).items():
        for i, step in enumerate(job.get("steps", [])):
            if "run" in step:
                yield f"/jobs/{name}/steps/{i}", str(step["run"])


# -- tools the test suite installs ----------------------------------------------------------------------


def test_node_tools_come_from_a_lockfile_with_integrity_hashes() -> None:
    package = json.loads((ROOT / "scripts/test-tools/package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "scripts/test-tools/package-lock.json").read_text(encoding="utf-8"))
    exact = re.compile(r"^\d+\.\d+\.\d+$")
    assert package["dependencies"] and all(exact.match(v) for v in package["dependencies"].values())
    assert lock["packages"][""]["dependencies"] == package["dependencies"]
    for name, version in package["dependencies"].items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    installed = {k: v for k, v in lock["packages"].items() if k}
    assert installed and all(v.get("integrity", "").startswith("sha512-") for v in installed.values())
    script = (ROOT / "scripts/install-test-tools.sh").read_text(encoding="utf-8")
    npm = [line for line in script.splitlines() if re.match(r"\s*(if )?npm ", line)]
    assert npm and all(" ci " in line and "--ignore-scripts" in line for line in npm), npm


def test_nothing_is_piped_from_the_network_into_a_shell() -> None:
    texts = {p.name: p.read_text(encoding="utf-8") for p in [*WORKFLOWS, ACTION, ROOT / "Makefile",
                                                             *sorted((ROOT / "scripts").glob("*.sh"))]}
    piped = re.compile(r"\b(curl|wget)\b[^\n|]*\|\s*(sudo\s+)?(ba|z)?sh\b")
    assert [name for name, text in texts.items() if piped.search(text)] == []
