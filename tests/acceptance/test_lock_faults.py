"""A lock file that cannot be parsed (cut short, emptied, edited by hand, from another version): the environment
stays locked, the error says so and shows the ID that breaks it, and `unlock` needs exactly that ID, as it does
for a readable lock; `status` lists it with that ID. The ID is a digest of the file's bytes: a file that changed
since the error was shown is not broken with the old ID."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.crash import ENV, LOCK, NOW, lab_at
from tests.support.repo import Result

Cli = Callable[..., Result]
UNLOCK = re.compile(rf"break the lock with: modelops unlock (\S+) --env {ENV}$", re.MULTILINE)


@pytest.fixture
def lab(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    """m serves 1.0.0 and the configuration asks for 1.1.0: an apply has work to do, so it takes the lock."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    return lab_at(tmp_path / "lab", cli)


def refused_with_unlock_id(cli: Cli, lab: Path) -> str:
    refused = cli("--repo", lab, "apply", "--auto-approve")
    assert refused.code == 3, refused.output
    assert f'Error: environment "{ENV}" is locked (the lock file {LOCK} is unreadable)' in refused.err
    [lock_id] = UNLOCK.findall(refused.err)
    return str(lock_id)


@pytest.mark.parametrize("content", [b"", b'{"id": "0123", "environment": "la', b'{"id": "0123"}', b"\xff\xfe\x00",
                                     b'["not", "a", "lock"]'])
def test_an_unreadable_lock_is_broken_only_with_the_id_its_error_shows(content: bytes, lab: Path, cli: Cli) -> None:
    lock = lab / LOCK
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_bytes(content)
    lock_id = refused_with_unlock_id(cli, lab)
    status = cli("--repo", lab, "status")
    assert status.code == 0 and (f"! locked: the lock file does not parse; if no operation is running, break it "
                                 f"with: modelops unlock {lock_id} --env {ENV}") in status.out, status.out
    [listed] = json.loads(cli("--repo", lab, "status", "--format", "json").out)["environments"]
    assert listed["lock_id"] == lock_id and listed["locked_by"] is None
    for wrong in ("0123", "anything", lock_id[:-1]):
        refused = cli("--repo", lab, "unlock", wrong, "--env", ENV)
        assert refused.code == 64, refused.output
        assert f'Error: lock ID "{wrong}" does not match the unreadable lock on "{ENV}"\n' in refused.err
        assert lock_id not in refused.output and "modelops status" in refused.err
        assert lock.read_bytes() == content
    assert cli("--repo", lab, "unlock", lock_id, "--env", ENV).code == 0
    assert not lock.exists()
    assert cli("--repo", lab, "apply", "--auto-approve").code == 0


def test_a_lock_file_that_changed_since_the_error_needs_the_new_id(lab: Path, cli: Cli) -> None:
    lock = lab / LOCK
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("{cut short")
    seen = refused_with_unlock_id(cli, lab)
    lock.write_text("{cut short, and rewritten by someone")
    assert cli("--repo", lab, "unlock", seen, "--env", ENV).code == 64
    assert lock.exists()
    current = refused_with_unlock_id(cli, lab)
    assert current != seen
    assert cli("--repo", lab, "unlock", current, "--env", ENV).code == 0 and not lock.exists()


def test_unlock_works_on_an_invalid_configuration_and_names_only_its_environments(lab: Path, cli: Cli) -> None:
    """`unlock` does not validate the configuration (a broken one must not keep a dead lock in place); it
    checks only that the environment is one of the repository's directories."""
    lock = lab / LOCK
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("{cut short")
    lock_id = refused_with_unlock_id(cli, lab)
    (lab / f"environments/{ENV}/environment.yaml").write_text("apiVersion: [broken\n")
    assert cli("--repo", lab, "validate").code == 1
    unknown = cli("--repo", lab, "unlock", lock_id, "--env", "lba")
    assert unknown.code == 64 and f'Error: unknown environment "lba" (did you mean "{ENV}"?)' in unknown.err
    assert lock.exists()
    assert cli("--repo", lab, "unlock", lock_id, "--env", ENV).code == 0 and not lock.exists()
