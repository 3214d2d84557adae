"""The wheel: one top-level package, `modelops`, its data files, the `modelops` command, and honest metadata."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.repo import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    for part in ("engine", "pyproject.toml", "README.md", "LICENSE"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy
        copy(ROOT / part, source / part)
    for leftover in source.glob("engine/*.egg-info"):  # an editable install's, not the wheel's
        shutil.rmtree(leftover)
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(out), str(source)], capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    return zipfile.ZipFile(next(out.glob("*.whl")))


def test_the_wheel_holds_one_top_level_package(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"modelops"}


def test_the_wheel_carries_the_report_templates_and_the_type_marker(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    templates = {p.relative_to(ROOT / "engine").as_posix() for p in (ROOT / "engine/modelops").rglob("*.j2")}
    assert templates and templates <= names
    assert "modelops/py.typed" in names


def test_the_command_is_modelops_and_the_metadata_names_the_distribution(wheel: zipfile.ZipFile) -> None:
    info = next(n.split("/")[0] for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = email.message_from_bytes(wheel.read(f"{info}/METADATA"))
    assert metadata["Name"] == "modelops-engine"
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Requires-Python"] == ">=3.11"
    assert {url.split(",")[0] for url in metadata.get_all("Project-URL") or []} >= {"Homepage", "Issues"}
    assert f"{info}/licenses/LICENSE" in wheel.namelist()
    scripts = wheel.read(f"{info}/entry_points.txt").decode()
    assert "[console_scripts]\nmodelops = modelops.cli.main:main" in scripts


def test_python_dash_m_modelops_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "modelops", "--version"], capture_output=True, text=True,
                          timeout=60, check=False, cwd=Path("/"))
    assert done.returncode == 0 and done.stdout.startswith("modelops, version ")
