"""Path safety: nothing the engine writes lands outside the repository, or outside the directory the user
named with --out, whatever names the configuration uses and whatever symbolic links the repository holds.

A repository is untrusted input (a pull request can commit symbolic links), so every writer is tried with
links pointing out of the repository: at the file it writes, at the directory it writes into, and at the
predictable temporary file beside it. The directory `outside/` next to the repository must come out of
every test exactly as it went in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from modelops.config.spec.types import NAME_PATTERN
from modelops.export.files import target_paths

from tests.support.repo import Result, snapshot, write

STAGING_MODEL = "environments/staging/models/sentiment.yaml"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the repository holding a file an attacker would like overwritten."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "victim.txt").write_text("precious\n")
    return path


def untouched(outside: Path, before: dict[str, tuple[int, int]]) -> None:
    assert snapshot(outside) == before, "something was written outside the repository"
    assert (outside / "victim.txt").read_text() == "precious\n"


def link(at: Path, target: Path) -> Path:
    at.parent.mkdir(parents=True, exist_ok=True)
    if at.exists() or at.is_symlink():
        if at.is_dir() and not at.is_symlink():
            shutil.rmtree(at)
        else:
            at.unlink()
    at.symlink_to(target, target_is_directory=target.is_dir())
    return at


def gitops(repo: Path, env: str = "staging") -> None:
    path = repo / f"environments/{env}/environment.yaml"
    text = path.read_text().replace("    driver: local\n", "    driver: gitops\n    gitops: {flavor: kserve}\n")
    path.write_text(text)


# -- files the engine replaces: a link there is replaced, never followed ------------------------------


def test_a_link_at_a_file_the_engine_replaces_is_replaced_not_followed(
        served_repo: Path, cli: Callable[..., Result], outside: Path) -> None:
    rel = "environments/staging/REPORT.md"
    link(served_repo / rel, outside / "victim.txt")
    before = snapshot(outside)
    done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert done.code == 0, done.output
    assert cli("--repo", served_repo, "report", "--env", "staging").code == 0
    untouched(outside, before)
    assert not (served_repo / rel).is_symlink()


@pytest.mark.parametrize("target", ["victim.txt", "state.json"], ids=["foreign-file", "dangling"])
def test_a_state_file_linked_outside_the_repository_is_refused(served_repo: Path, cli: Callable[..., Result],
                                                               outside: Path, target: str) -> None:
    """The record is read only from inside the repository: a link out (to a foreign file, or to nothing yet, where
    the first write would land) is refused before anything is read or written."""
    link(served_repo / "environments/staging/state.json", outside / target)
    before = snapshot(outside)
    done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert done.code == 1, done.output
    assert "cannot read environments/staging/state.json: it is a symbolic link to " in done.err
    assert "outside the repository" in done.err and "Traceback" not in done.output
    untouched(outside, before)
    assert (served_repo / "environments/staging/state.json").is_symlink()  # left for the user to look at


def test_a_link_at_the_journal_is_not_followed(served_repo: Path, cli: Callable[..., Result], outside: Path) -> None:
    link(served_repo / "environments/staging/state.journal", outside / "journal")  # dangling: open("a") creates
    before = snapshot(outside)
    done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert done.code in (0, 1), done.output
    untouched(outside, before)


def test_a_planted_temporary_file_is_not_followed(served_repo: Path, cli: Callable[..., Result],
                                                  outside: Path) -> None:
    """atomic_write's temporary name is predictable (`.<name>.tmp-<pid>`); a link planted there must not
    turn the write into a write through the link."""
    env = served_repo / "environments/staging"
    for name in ("state.json", "REPORT.md"):
        link(env / f".{name}.tmp-{os.getpid()}", outside / "victim.txt")
    plan_out = served_repo / "plans" / "staging.json"
    link(plan_out.parent / f".{plan_out.name}.tmp-{os.getpid()}", outside / "victim.txt")
    before = snapshot(outside)
    assert cli("--repo", served_repo, "plan", "--env", "staging", "--out", plan_out).code == 0
    done = cli("--repo", served_repo, "apply", plan_out)
    assert done.code == 0, done.output
    assert cli("--repo", served_repo, "report", "--env", "staging").code == 0
    untouched(outside, before)
    assert json.loads((env / "state.json").read_text())["serial"] >= 1


# -- directories the engine writes into: a link out of the repository is refused -----------------------


def test_an_environment_directory_linked_outside_is_neither_read_nor_written(
        repo: Path, cli: Callable[..., Result], outside: Path) -> None:
    moved = outside / "production"
    shutil.move(repo / "environments/production", moved)
    link(repo / "environments/production", moved)
    before = snapshot(outside)
    assert cli("--repo", repo, "validate").code in (0, 1)
    assert cli("--repo", repo, "report").code in (0, 1)
    for kind in ("prometheus", "alertmanager", "kubernetes"):
        assert cli("--repo", repo, "export", kind, "--env", "production").code in (1, 64)
    assert cli("--repo", repo, "monitor", "--env", "production", "--dry-run").code in (1, 64)
    untouched(outside, before)


def test_a_linked_environments_directory_is_refused_before_anything_is_written(
        served_repo: Path, cli: Callable[..., Result], outside: Path) -> None:
    moved = outside / "environments"
    shutil.move(served_repo / "environments", moved)
    link(served_repo / "environments", moved)
    before = snapshot(outside)
    done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert done.code == 1, done.output
    assert "outside the repository" in done.output  # refused while reading: nothing there is even read
    report = cli("--repo", served_repo, "report", "--env", "staging")
    assert report.code == 1 and "outside the repository" in report.output
    untouched(outside, before)


def test_a_linked_rendered_directory_fails_the_step_and_writes_nothing(
        served_repo: Path, cli: Callable[..., Result], outside: Path) -> None:
    gitops(served_repo)
    link(served_repo / "environments/staging/rendered", outside)
    before = snapshot(outside)
    done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert done.code == 1, done.output
    assert "resolves outside the repository" in done.output
    untouched(outside, before)
    cli("--repo", served_repo, "export", "kubernetes", "--env", "staging", "--check")  # reads only
    untouched(outside, before)


def test_a_linked_file_inside_rendered_is_refused(served_repo: Path, cli: Callable[..., Result],
                                                  outside: Path) -> None:
    gitops(served_repo)
    link(served_repo / "environments/staging/rendered/sentiment.yaml", outside / "victim.txt")
    before = snapshot(outside)
    done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    # the refresh does not read through it: the file that renders sentiment is not what modelops wrote, so
    # sentiment is held back as changed outside modelops, and what is written next to it never follows it
    assert "rendered/sentiment.yaml: (absent) -> (not a regular file: a symbolic link or a directory)" in done.out
    assert 'model "sentiment" (deploy, blocked)' in done.out, done.output
    untouched(outside, before)


def test_a_linked_engine_directory_is_not_written_through(served_repo: Path, cli: Callable[..., Result],
                                                          outside: Path) -> None:
    """.modelops/ (cache, locks, the local driver's serving table, crash logs) linked out of the repository."""
    link(served_repo / ".modelops", outside)
    before = snapshot(outside)
    assert cli("--repo", served_repo, "validate").code == 0
    done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert done.code == 1 and "outside the repository" in done.err, done.output
    untouched(outside, before)


# -- unlock: the environment name and the lock directory come from outside --------------------------------


LOCK_SHAPED = {"id": "k", "environment": "y", "operation": "apply", "who": "x", "host": "h", "pid": 1,
               "created": "2024-01-01T00:00:00Z", "version": "0"}


@pytest.mark.parametrize("env", ["../../../outside/y", "../../../outside/victim.txt\x00", "/abs/y", "a/b", "..",
                                 "Staging", "nosuch"])
def test_unlock_refuses_an_environment_that_is_not_one_of_the_repository(
        repo: Path, cli: Callable[..., Result], outside: Path, env: str) -> None:
    """`--env` becomes `.modelops/locks/<env>.json`: a path in it must not make unlock delete a file elsewhere,
    neither a lock-shaped JSON (with its ID) nor any file (with the digest ID an unparseable one is shown)."""
    (outside / "y.json").write_text(json.dumps(LOCK_SHAPED))
    before = snapshot(outside)
    from modelops.state.lock import unreadable_id

    for lock_id in ("k", unreadable_id((outside / "y.json").read_bytes()),
                    unreadable_id((outside / "victim.txt").read_bytes())):
        refused = cli("--repo", repo, "unlock", lock_id, "--env", env)
        assert refused.code == 64, refused.output
        assert "Error: unknown environment" in refused.err and "environments: production, staging" in refused.err
    untouched(outside, before)


def test_unlock_refuses_a_lock_directory_linked_out_of_the_repository(
        repo: Path, cli: Callable[..., Result], outside: Path) -> None:
    """A committed `.modelops/locks -> /elsewhere`: `unlock ID --env staging` would delete `/elsewhere/staging.json`."""
    (outside / "staging.json").write_text(json.dumps({**LOCK_SHAPED, "environment": "staging"}))
    (outside / "production.json").write_text("not a lock\n")
    from modelops.state.lock import unreadable_id

    link(repo / ".modelops/locks", outside)
    before = snapshot(outside)
    for lock_id, env in (("k", "staging"), (unreadable_id(b"not a lock\n"), "production")):
        refused = cli("--repo", repo, "unlock", lock_id, "--env", env)
        assert refused.code == 1 and "resolves outside the repository" in refused.err, refused.output
    untouched(outside, before)


def test_unlock_refuses_a_linked_environment_directory(repo: Path, cli: Callable[..., Result],
                                                       outside: Path) -> None:
    """Discovery does not follow a linked `environments/<env>`, so it is not an environment unlock may name."""
    moved = outside / "production"
    shutil.move(repo / "environments/production", moved)
    link(repo / "environments/production", moved)
    lock = repo / ".modelops/locks/production.json"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({**LOCK_SHAPED, "environment": "production"}))
    refused = cli("--repo", repo, "unlock", "k", "--env", "production")
    assert refused.code == 64 and 'unknown environment "production"' in refused.err, refused.output
    assert lock.exists()


# -- crash logs: a predictable name, in the shared temporary directory when .modelops/ cannot be used ------


@pytest.mark.parametrize("where", ["repository", "temporary directory"])
def test_a_link_planted_at_the_crash_log_is_not_followed(repo: Path, cli: Callable[..., Result], outside: Path,
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        where: str) -> None:
    """`modelops-crash-<time>-<pid>.log` is guessable: anyone who can write the temporary directory (or commit to
    `.modelops/logs`) can plant a link there. The log is created anew under another name instead."""
    import tempfile
    import time

    import modelops.validate.repo

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(modelops.validate.repo, "validate_repo", boom)
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    if where == "repository":
        folder = repo / ".modelops/logs"
    else:  # .modelops/ linked out of the repository: the log goes to the temporary directory
        folder = shared
        link(repo / ".modelops", outside)
    planted = [link(folder / f"modelops-crash-{time.strftime('%Y%m%dT%H%M%S', time.localtime(time.time() + s))}-"
                             f"{os.getpid()}.log", outside / "victim.txt") for s in range(-1, 10)]
    before = snapshot(outside)
    crashed = cli("--repo", repo, "validate")
    assert crashed.code == 70 and "Internal error: RuntimeError: kaboom" in crashed.err, crashed.output
    log = Path(crashed.err.split("details in ")[1].split(". Run")[0])
    assert log.parent == folder and not log.is_symlink() and log not in planted
    assert "RuntimeError: kaboom" in log.read_text() and log.stat().st_mode & 0o077 == 0
    assert all(p.is_symlink() for p in planted)
    untouched(outside, before)


# -- files the user edits through the engine: rollback and promote ------------------------------------


def test_a_model_file_linked_outside_the_repository_is_neither_read_nor_edited(
        served_repo: Path, cli: Callable[..., Result], outside: Path) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    staged = served_repo / STAGING_MODEL
    staged.write_text(staged.read_text().replace("1.4.2", "1.5.0"))
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    for env in ("staging", "production"):  # the model files are links to files outside the repository
        inside = served_repo / f"environments/{env}/models/sentiment.yaml"
        shutil.copy(inside, outside / f"{env}-sentiment.yaml")
        link(inside, outside / f"{env}-sentiment.yaml")
    before = snapshot(outside)
    done = cli("--repo", served_repo, "rollback", "sentiment", "--env", "staging", "--auto-approve")
    assert done.code == 1 and "error[MO014]" in done.out and "outside the repository" in done.out, done.output
    assert staged.is_symlink()
    untouched(outside, before)


# -- --out: only the named file or directory -----------------------------------------------------------


def test_plan_out_replaces_a_link_and_writes_only_the_named_file(repo: Path, cli: Callable[..., Result],
                                                                 outside: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "plans"
    out = link(out_dir / "plan.json", outside / "victim.txt")
    before, around = snapshot(outside), snapshot(repo)
    assert cli("--repo", repo, "plan", "--out", out).code == 0
    untouched(outside, before)
    assert not out.is_symlink() and json.loads(out.read_text())["format_version"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["plan.json"]  # no temporary file left beside it
    assert snapshot(repo) == around  # a plan writes nothing in the repository


def test_export_out_is_the_only_directory_written(repo: Path, cli: Callable[..., Result], outside: Path,
                                                  tmp_path: Path) -> None:
    before, around = snapshot(outside), snapshot(repo)
    for kind in ("prometheus", "alertmanager", "kubernetes"):
        out = tmp_path / "exports" / kind
        extra = ("--flavor", "kserve") if kind == "kubernetes" else ()
        assert cli("--repo", repo, "export", kind, "--env", "staging", "--out", out, *extra).code == 0
        assert all(p.parent == out and p.is_file() for p in out.rglob("*"))
        link(out / "nested", outside)
        again = cli("--repo", repo, "export", kind, "--env", "staging", "--out", out, *extra)
        assert again.code == 0  # a link the export does not write through is left alone
    untouched(outside, before)
    assert snapshot(repo) == around


# -- names from the configuration ---------------------------------------------------------------------


def test_every_generated_file_name_is_a_plain_name_inside_its_directory(repo: Path, tmp_path: Path) -> None:
    from modelops.export import alertmanager, prometheus
    from modelops.export.kubernetes import render
    from modelops.workspace import Workspace

    ws = Workspace.load(repo)
    safe = re.compile(r"^[a-z0-9][a-z0-9.-]*\.(ya?ml|sh)$")
    for env_name, env in ws.desired.environments.items():
        state = ws.state(env_name)
        for files in (prometheus.export(env), alertmanager.export(env), render.export(env, state, "kserve"),
                      render.export(env, state, "argo-rollouts")):
            names = [f.name for f in files]
            assert all(safe.match(n) for n in names), names
            target_paths(tmp_path / env_name, files)  # refuses absolute names, `..`, links and duplicates


def test_a_model_named_like_a_generated_file_does_not_overwrite_it(repo: Path, cli: Callable[..., Result],
                                                                   tmp_path: Path) -> None:
    """Models become `<name>.yaml` beside `prometheusrule.yaml`: a model named `prometheusrule` must not
    silently replace the rule file (or be replaced by it) in an export or in the gitops rendered/."""
    source = (repo / "environments/staging/models/recommender.yaml").read_text()
    write(repo, "environments/staging/models/prometheusrule.yaml",
          source.replace("name: recommender", "name: prometheusrule"))
    done = cli("--repo", repo, "validate")
    exported = cli("--repo", repo, "export", "kubernetes", "--env", "staging", "--flavor", "kserve",
                   "--out", tmp_path / "k8s")
    if done.code == 0:
        assert exported.code == 1 and "prometheusrule" in exported.err
    else:
        assert "prometheusrule" in done.out and exported.code == 1
    assert not (tmp_path / "k8s").exists()


def test_names_are_dns_labels_everywhere_a_file_name_comes_from_them() -> None:
    """Model, environment and policy names are the only configuration values that become file names."""
    pattern = re.compile(NAME_PATTERN)
    for bad in ("../x", "a/b", ".", "..", "x.yaml", "UPPER", "a" * 64, "a\n", "-a", "a-", "", "é", "a b"):
        assert not pattern.fullmatch(bad), bad


def test_two_generated_files_with_one_name_are_refused(tmp_path: Path) -> None:
    from modelops.base.errors import EngineError
    from modelops.export.files import ExportFile

    files = [ExportFile("a.yaml", "x"), ExportFile("b.yaml", "y"), ExportFile("a.yaml", "z")]
    with pytest.raises(EngineError, match=r"two generated files are both named a\.yaml"):
        target_paths(tmp_path / "out", files)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("directory", ["Prod Env", "prod.env", "..prod", "prod\u202e"])
def test_an_environment_directory_that_is_not_a_name_is_refused_before_any_write(
        repo: Path, cli: Callable[..., Result], directory: str) -> None:
    """Environment names become paths (state, journal, report, rendered/, locks, live tables): the name must
    equal its directory (MO203) and be a DNS label (MO111), so a directory that is not one fails validation
    and every command that writes refuses to start. (A hidden directory is not read at all: here production,
    which promotes from staging, then names an unknown environment.)"""
    shutil.move(repo / "environments/staging", repo / "environments" / directory)
    before = snapshot(repo)
    checked = cli("--repo", repo, "validate")
    expected = "MO201" if directory.startswith(".") else "MO203"
    assert checked.code == 1 and expected in checked.out, checked.output
    for args in (("report",), ("apply", "--auto-approve"), ("plan", "--out", repo / "plan.json")):
        assert cli("--repo", repo, *args).code == 1
    assert snapshot(repo) == before


# -- modelops init: every refusal comes before the first write -----------------------------------------


@pytest.mark.parametrize("linked", ["environments", "environments/dev/models", "policies", "policies/escalation"])
def test_init_refuses_a_linked_directory_before_writing_anything(linked: str, tmp_path: Path, outside: Path,
                                                                 cli: Callable[..., Result]) -> None:
    """A half-started repository (a `.gitignore`, an environment without its policies) is a partial write:
    the directory linked out of the repository is refused before any starter file is written."""
    repo = tmp_path / "ops"
    link(repo / linked, outside)
    before, outside_before = snapshot(repo), snapshot(outside)
    refused = cli("--repo", repo, "init")
    assert refused.code == 1 and "it resolves outside the repository" in refused.err, refused.output
    assert "Traceback" not in refused.output
    assert snapshot(repo) == before
    untouched(outside, outside_before)


def test_init_refuses_a_file_where_a_directory_goes_before_writing_anything(tmp_path: Path,
                                                                           cli: Callable[..., Result]) -> None:
    repo = tmp_path / "ops"
    write(repo, "policies/escalation", "not a directory\n")
    before = snapshot(repo)
    refused = cli("--repo", repo, "init")
    assert refused.code == 1, refused.output
    assert ("Error: cannot write policies/escalation/oncall.yaml: policies/escalation is not a directory"
            in refused.err), refused.err
    assert snapshot(repo) == before
