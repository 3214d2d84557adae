"""Which files the engine reads, and how a file it cannot (or must not) read is reported: located, never
hanging on a FIFO, never echoing what a link out of the repository points at, never hidden by the cache."""

from __future__ import annotations

import errno
import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from modelops.validate.repo import validate_repo

from tests.support.repo import Result, write

POLICY = "policies/scaling/extra.yaml"


def problems(repo: Path) -> list[tuple[str, str | None, int | None, str]]:
    return [(d.code, d.file, d.line, d.message) for d in validate_repo(repo).diagnostics]


def test_a_dangling_link_is_mo014_on_every_run_even_with_a_warm_cache(repo: Path) -> None:
    assert validate_repo(repo).valid  # the cache now remembers a valid repository
    os.symlink("/nonexistent", repo / POLICY)
    expected = [("MO014", POLICY, 1, "cannot read file: it is a symbolic link to /nonexistent, outside the repository")]
    assert problems(repo) == expected
    assert problems(repo) == expected  # recalled from the cache, still reported


def test_an_unreadable_file_is_mo014_and_not_recalled_as_valid(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert validate_repo(repo).valid
    (repo / POLICY).write_text("a: 1\n")
    real_open = os.open

    def denied(path: str | Path, flags: int, *args: int) -> int:  # as chmod 000 would, even for root
        if str(path).endswith(POLICY):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", denied)
    assert problems(repo) == [("MO014", POLICY, 1, "cannot read file: Permission denied")]
    assert problems(repo) == [("MO014", POLICY, 1, "cannot read file: Permission denied")]


def test_a_link_inside_the_repository_is_read(repo: Path) -> None:
    os.symlink("gpu-standard.yaml", repo / POLICY)
    assert [p[0] for p in problems(repo)] == ["MO202"]  # the same policy twice: it was read


def test_a_link_out_of_the_repository_is_refused_without_reading_it(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("root:x:0:0:hunter2-password\n")
    os.symlink(secret, repo / POLICY)
    found = problems(repo)
    assert found == [("MO014", POLICY, 1, f"cannot read file: it is a symbolic link to {secret}, outside the "
                      "repository")]
    assert "hunter2" not in str(validate_repo(repo).diagnostics)


def test_a_directory_linked_out_of_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (repo / "policies").rename(outside)
    os.symlink(outside, repo / "policies")
    found = problems(repo)
    assert found and {p[0] for p in found} >= {"MO014"}
    assert all(p[3] == "cannot read file: it is under a symbolic link that leads outside the repository"
               for p in found if p[1] and p[1].startswith("policies/"))


def test_a_fifo_does_not_hang_validation(repo: Path) -> None:
    os.mkfifo(repo / POLICY)
    started = time.perf_counter()
    found = problems(repo)
    assert time.perf_counter() - started < 10  # a guard against hangs only
    assert found == [("MO014", POLICY, 1, "cannot read file: it is not a regular file (a FIFO, device or directory)")]


MODEL = "apiVersion: modelops.dev/v1\nkind: Model\nmetadata: {name: newmodel}\nspec: {}\n"


@pytest.mark.parametrize(("rel", "hint"), [
    ("environments/staging/model/newmodel.yaml", "did you mean environments/staging/models/newmodel.yaml?"),
    ("environments/staging/newmodel.yaml", "a model belongs in environments/staging/models/newmodel.yaml; the "
                                           "environment in environments/staging/environment.yaml"),
    ("environments/staging/enviroment.yml", "did you mean environments/staging/environment.yaml?"),
    ("policy/scaling/x.yaml", "did you mean policies/scaling/x.yaml?"),
    ("Environments/staging/models/x.yaml", "did you mean environments/staging/models/x.yaml?"),
    ("environments/staging/models/newmodel.YAML", "modelops reads files ending in .yaml or .yml (lowercase): rename "
                                                  "it to newmodel.yaml"),
    ("environments/notes.yaml", "environments/ holds one folder per environment: environments/<env>/environment.yaml "
                                "and models/"),
])
def test_a_yaml_file_the_engine_does_not_read_is_a_located_warning(repo: Path, rel: str, hint: str) -> None:
    assert validate_repo(repo).valid  # a warm cache must not hide the new file
    write(repo, rel, MODEL)
    result = validate_repo(repo)
    assert result.valid
    assert [(d.severity.value, d.code, d.file, d.line, d.message, d.hint) for d in result.diagnostics] == [
        ("warning", "MO017", rel, 1, f"{rel} is not read by modelops", hint)]


@pytest.mark.parametrize(("link", "target"), [
    ("environments/staging/models/shared", "shared-models"),  # inside the repository
    ("policies/team", "/etc"),  # outside it
    ("environments/canary", "environments/staging"),  # a whole environment
])
def test_a_link_to_a_folder_is_not_followed_and_says_so(repo: Path, link: str, target: str) -> None:
    assert validate_repo(repo).valid
    write(repo, "shared-models/extra.yaml", MODEL.replace("newmodel", "extra"))
    os.symlink(target if target.startswith("/") else repo / target, repo / link)
    result = validate_repo(repo)
    assert result.valid and "extra" not in {d.name for d in result.documents}
    assert [(d.severity.value, d.code, d.file, d.line, d.message) for d in result.diagnostics] == [
        ("warning", "MO017", link, None,
         f"{link}/ is a link to a folder: modelops does not follow it, so nothing in it is read")]
    assert not any(rel.startswith(link + "/") for rel in result.sources.files)


@pytest.mark.parametrize("rel", ["environments/staging/rendered/kubernetes/sentiment.yaml", ".modelops/x.yaml",
                                 "schemas/x.yaml", "examples/x.yaml", "environments/staging/models/notes.txt"])
def test_generated_and_unrelated_files_are_left_alone(repo: Path, rel: str) -> None:
    write(repo, rel, "a: 1\n")
    assert validate_repo(repo).diagnostics == ()


# -- what sits beside the configuration and might be taken for it ------------------------------------------------


@pytest.mark.parametrize(("rel", "code", "message", "hint"), [
    ("environments/staging/models/extra.yaml/", "MO022",
     "environments/staging/models/extra.yaml is a folder, not a YAML file: modelops reads the YAML files inside it, "
     "and nothing is read from extra.yaml itself",
     "rename the folder without its .yaml suffix, or replace it with the file it was meant to be"),
    ("policies/alerts/slo.yml/", "MO022",
     "policies/alerts/slo.yml is a folder, not a YAML file: modelops reads the YAML files inside it, and nothing is "
     "read from slo.yml itself",
     "rename the folder without its .yml suffix, or replace it with the file it was meant to be"),
    ("environments/notes.txt", "MO023",
     "environments/notes.txt is not read by modelops: environments/ holds only environment folders",
     "move it into an environment's folder (environments/<env>/), or keep notes in a Markdown file such as "
     "environments/README.md, which modelops leaves alone"),
    ("environments/canary", "MO023",  # a file where an environment folder was meant
     "environments/canary is not read by modelops: environments/ holds only environment folders", None),
    ("environments/prod.yaml", "MO017", "environments/prod.yaml is not read by modelops",
     "environments/ holds one folder per environment: environments/<env>/environment.yaml and models/"),
])
def test_what_looks_like_configuration_but_is_not_read_is_a_located_warning(repo: Path, rel: str, code: str,
                                                                           message: str, hint: str | None) -> None:
    assert validate_repo(repo).valid  # a warm cache must not hide what comes next
    if rel.endswith("/"):
        (repo / rel).mkdir()
    else:
        write(repo, rel, "notes\n")
    result = validate_repo(repo)
    assert result.valid  # warnings never fail validation
    shown = [(d.severity.value, d.code, d.file, d.line, d.column, d.message) for d in result.diagnostics]
    assert shown == [("warning", code, rel.rstrip("/"), 1, 1, message)]
    assert hint is None or result.diagnostics[0].hint == hint


def test_the_files_inside_a_folder_named_like_yaml_are_still_read(repo: Path) -> None:
    write(repo, "environments/staging/models/group.yaml/newmodel.yaml", MODEL)
    result = validate_repo(repo)
    assert [d.file for d in result.diagnostics if d.code == "MO022"] == ["environments/staging/models/group.yaml"]
    assert "environments/staging/models/group.yaml/newmodel.yaml" in result.sources.files


@pytest.mark.parametrize("rel", ["environments/README.md", "environments/.gitkeep", "environments/CHANGES.md"])
def test_notes_beside_the_environments_are_left_alone(repo: Path, rel: str) -> None:
    write(repo, rel, "# Environments\n")
    assert validate_repo(repo).diagnostics == ()


def test_validate_exits_0_with_the_warnings(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "environments/notes.txt", "notes\n")
    (repo / "environments/staging/models/extra.yaml").mkdir()
    done = cli("--repo", repo, "validate")
    assert done.code == 0, done.output
    assert "environments/notes.txt:1:1: warning[MO023]" in done.out
    assert "environments/staging/models/extra.yaml:1:1: warning[MO022]" in done.out


def test_a_sparse_configuration_file_is_refused_by_its_size_without_reading_it(repo: Path) -> None:
    with (repo / POLICY).open("wb") as handle:
        handle.truncate(200 << 20)
    tracemalloc.start()
    try:
        found = problems(repo)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == [("MO011", POLICY, 1, "file is 200 MiB, over the 1 MiB limit")]
    assert peak < 64 << 20  # the whole validation, without the file's 200 MiB
