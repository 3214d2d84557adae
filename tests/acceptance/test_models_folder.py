"""Through the CLI: an environment whose `models/` folder became a link (to `/etc`, to another environment's
folder) or went missing while its state records models. Read as "no models", each would plan the retirement of
everything serving there; instead `validate` and `plan` exit 1 with a located error, and `apply` refuses before
anything is written or retired. An empty folder is a deliberate "retire them all" and still plans it."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.crash import ENV, LIVE, NOW, STATE, write_lab
from tests.support.repo import Result, snapshot

Cli = Callable[..., Result]
MODELS = f"environments/{ENV}/models"


@pytest.fixture
def served(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two environments, `lab` and `staging`, each serving model m 1.0.0 (local driver)."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    root = write_lab(tmp_path / "ops", "rolling", "local")
    shutil.copytree(root / f"environments/{ENV}", root / "environments/staging")
    spec = root / "environments/staging/environment.yaml"
    spec.write_text(spec.read_text().replace(f"name: {ENV}", "name: staging"))
    applied = cli("--repo", root, "apply", "--auto-approve")
    assert applied.code == 0, applied.output
    assert json.loads((root / STATE).read_text())["models"]["m"]["version"] == "1.0.0"
    return root


def linked_to(target: str) -> Callable[[Path], str]:
    def mutate(root: Path) -> str:
        shutil.rmtree(root / MODELS)
        os.symlink(target, root / MODELS)
        return (f"{MODELS}: error[MO018] {MODELS} is a symbolic link to {target}: modelops does not follow it, so "
                f'environment "{ENV}" would have no models and a plan would retire every model serving there')
    return mutate


def removed(root: Path) -> str:
    shutil.rmtree(root / MODELS)
    return (f"environments/{ENV}/environment.yaml:1:1: error[MO019] {MODELS}/ is missing, but the state of {ENV} "
            "records 1 model (m): a plan would retire every one")


HINTS = {"etc": "replace the link with a real folder holding the model files of lab",
         "sibling": "replace the link with a real folder holding the model files of lab",
         "missing": f"restore the folder (git checkout -- {MODELS}); to retire models, delete their files one by one, "
                    "or keep models/ as an empty folder to retire them all"}
CASES = {"etc": linked_to("/etc"), "sibling": linked_to("../staging/models"), "missing": removed}


@pytest.mark.parametrize("case", list(CASES))
def test_a_linked_or_missing_models_folder_stops_validate_plan_and_apply(case: str, served: Path, cli: Cli) -> None:
    error = CASES[case](served)
    before = snapshot(served)  # every file, the engine's parse cache aside
    state = (served / STATE).read_bytes()

    validated = cli("--repo", served, "validate")
    assert validated.code == 1, validated.output
    assert error in validated.out and HINTS[case] in validated.out, validated.out

    planned = cli("--repo", served, "plan")
    assert planned.code == 1, planned.output
    assert error in planned.out and "will be retired" not in planned.out, planned.out

    applied = cli("--repo", served, "apply", "--auto-approve")
    assert applied.code == 1, applied.output
    assert error in applied.out, applied.output
    assert (served / STATE).read_bytes() == state  # nothing retired, nothing recorded
    assert json.loads((served / LIVE).read_text())["models"]["m"]  # still served
    assert snapshot(served) == before


def test_an_empty_models_folder_retires_every_model_on_purpose(served: Path, cli: Cli) -> None:
    for model in (served / MODELS).iterdir():
        model.unlink()
    assert cli("--repo", served, "validate").code == 0
    planned = cli("--repo", served, "plan", "--env", ENV)
    assert planned.code == 0 and '# model "m" will be retired' in planned.out, planned.output
    applied = cli("--repo", served, "apply", "--auto-approve", "--env", ENV)
    assert applied.code == 0, applied.output
    assert json.loads((served / STATE).read_text())["models"] == {}
    shutil.rmtree(served / MODELS)  # with nothing recorded, the folder may go too
    assert cli("--repo", served, "validate").code == 0
