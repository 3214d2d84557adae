"""An environment's `models/` folder that is a link (MO018), or missing while its state records models (MO019):
read as "this environment has no models", either would plan the retirement of every model serving there, so both
are located errors. An empty folder is a deliberate "retire them all" and stays valid; a link to a folder
anywhere else keeps its MO017 warning."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from modelops.validate.repo import validate_repo

MODELS = "environments/production/models"
ENVIRONMENT = "environments/production/environment.yaml"


def errors(repo: Path, **options: object) -> list[tuple[str, str | None, int | None, str, str | None]]:
    result = validate_repo(repo, **options)  # type: ignore[arg-type]
    assert result.valid == (not any(d.is_error for d in result.diagnostics))
    return [(d.code, d.file, d.line, d.message, d.hint) for d in result.diagnostics if d.is_error]


def recorded(*names: str) -> object:
    """What the caller says production's state records (validation never reads the state itself)."""
    return lambda environment: names if environment == "production" else ()


def link_models(repo: Path, target: str) -> None:
    shutil.rmtree(repo / MODELS)
    os.symlink(target, repo / MODELS)


def linked(target: str) -> tuple[str, str, None, str, str]:
    return ("MO018", MODELS, None,
            f'{MODELS} is a symbolic link to {target}: modelops does not follow it, so environment "production" would '
            "have no models and a plan would retire every model serving there",
            "replace the link with a real folder holding the model files of production (to share a model between "
            "environments, copy its file: links to folders are never followed)")


@pytest.mark.parametrize("target", ["/etc", "../staging/models", "../gone"])
def test_a_linked_models_folder_is_an_error_naming_where_it_points(repo: Path, target: str) -> None:
    assert validate_repo(repo).valid  # and the cache remembers that
    link_models(repo, target)
    assert errors(repo) == [linked(target)]
    assert errors(repo, recall=True) == [linked(target)]  # recalled from the cache: still the error
    assert not any(rel.startswith(MODELS + "/") for rel in validate_repo(repo).sources.files)  # nothing read there
    assert not [d for d in validate_repo(repo).diagnostics if d.code == "MO017"]  # the error, not also the warning


def test_a_link_pointed_elsewhere_is_named_as_it_points_now(repo: Path) -> None:
    link_models(repo, "/etc")
    assert errors(repo) == [linked("/etc")]
    (repo / MODELS).unlink()
    os.symlink("../staging/models", repo / MODELS)
    assert errors(repo, recall=True) == [linked("../staging/models")]  # not the remembered message


def test_a_plan_that_reads_only_a_few_files_still_sees_the_link(repo: Path) -> None:
    link_models(repo, "../staging/models")
    paths = [ENVIRONMENT, "environments/staging/environment.yaml"]  # production promotes from staging
    assert errors(repo, paths=paths) == [linked("../staging/models")]


@pytest.mark.parametrize("link", ["policies/team", "environments/production/models/shared"])
def test_a_folder_link_anywhere_else_stays_a_warning(repo: Path, link: str) -> None:
    os.symlink("/etc", repo / link)
    result = validate_repo(repo)
    assert result.valid and [(d.severity.value, d.code, d.file) for d in result.diagnostics] == [
        ("warning", "MO017", link)]


def test_a_missing_models_folder_with_recorded_models_is_an_error_at_the_environment(repo: Path) -> None:
    shutil.rmtree(repo / MODELS)
    assert errors(repo, recorded=recorded("fraud", "ranker")) == [(
        "MO019", ENVIRONMENT, 1,
        "environments/production/models/ is missing, but the state of production records 2 models (fraud, ranker): "
        "a plan would retire every one",
        "restore the folder (git checkout -- environments/production/models); to retire models, delete their files "
        "one by one, or keep models/ as an empty folder to retire them all")]


def test_many_recorded_models_are_counted_and_the_first_named(repo: Path) -> None:
    shutil.rmtree(repo / MODELS)
    [(_, _, _, message, _)] = errors(repo, recorded=recorded(*(f"m{i}" for i in range(7))))
    assert "records 7 models (m0, m1, m2, m3, m4 and 2 more)" in message


def test_a_models_file_where_the_folder_goes_counts_as_missing(repo: Path) -> None:
    shutil.rmtree(repo / MODELS)
    (repo / MODELS).write_text("not a folder\n")
    assert [e[0] for e in errors(repo, recorded=recorded("fraud"))] == ["MO019"]


def test_the_state_is_asked_only_about_environments_without_the_folder(repo: Path) -> None:
    asked: list[str] = []
    shutil.rmtree(repo / MODELS)
    validate_repo(repo, recorded=lambda environment: asked.append(environment) or ())
    assert asked == ["production"]


@pytest.mark.parametrize("case", ["nothing recorded", "empty folder", "state not consulted"])
def test_what_stays_valid(repo: Path, case: str) -> None:
    """A new environment has no models yet; an empty folder retires them all on purpose; and without a way to
    read state (`validate` as a library call) the check is not made."""
    shutil.rmtree(repo / MODELS)
    if case == "empty folder":
        (repo / MODELS).mkdir()
    names = () if case == "nothing recorded" else ("fraud",)
    options = {} if case == "state not consulted" else {"recorded": recorded(*names)}
    assert errors(repo, **options) == []


def test_the_state_check_is_never_recalled_from_the_cache(repo: Path) -> None:
    """The cache keys on configuration files: what the state records is asked afresh on every run."""
    shutil.rmtree(repo / MODELS)
    assert [e[0] for e in errors(repo, recorded=recorded("fraud"))] == ["MO019"]
    assert errors(repo, recall=True, recorded=recorded()) == []  # the models were retired since
    assert [e[0] for e in errors(repo, recall=True, recorded=recorded("fraud"))] == ["MO019"]
