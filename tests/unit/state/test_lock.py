from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from modelops.base.errors import ConflictError, UsageError
from modelops.state.lock import acquire, lock_path, locked, read_lock, release, unlock


@pytest.fixture(autouse=True)
def staging(tmp_path: Path) -> None:
    """`unlock` breaks only the lock of an environment the repository has."""
    (tmp_path / "environments/staging").mkdir(parents=True)


def test_one_holder_at_a_time(tmp_path: Path) -> None:
    first = acquire(tmp_path, "staging", "apply")
    with pytest.raises(ConflictError) as caught:
        acquire(tmp_path, "staging", "apply")
    assert caught.value.exit_code == 3
    assert f"ID:        {first.id}" in caught.value.message
    assert f"(pid {first.pid} on {first.host})" in caught.value.message
    assert "stale" not in caught.value.message
    release(tmp_path, first)
    with locked(tmp_path, "staging", "apply") as second:
        assert read_lock(tmp_path, "staging") == second
    assert not lock_path(tmp_path, "staging").exists()


def test_a_lock_of_a_dead_process_is_reported_as_stale_with_the_unlock_command(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    held = acquire(tmp_path, "staging", "apply")
    path = lock_path(tmp_path, "staging")
    path.write_text(json.dumps({**json.loads(path.read_text()), "pid": int(dead.stdout)}))
    with pytest.raises(ConflictError) as caught:
        acquire(tmp_path, "staging", "apply")
    assert f"process {dead.stdout.strip()} on this host" in caught.value.message
    assert caught.value.hint is not None
    assert f"modelops unlock {held.id} --env staging" in caught.value.hint


def test_unlock_needs_the_lock_id(tmp_path: Path) -> None:
    held = acquire(tmp_path, "staging", "apply")
    with pytest.raises(UsageError, match="does not match"):
        unlock(tmp_path, "staging", "not-the-id")
    assert lock_path(tmp_path, "staging").exists()
    assert unlock(tmp_path, "staging", held.id).id == held.id
    assert not lock_path(tmp_path, "staging").exists()
    with pytest.raises(UsageError, match="is not locked"):
        unlock(tmp_path, "staging", held.id)


def test_release_never_removes_someone_elses_lock(tmp_path: Path) -> None:
    mine = acquire(tmp_path, "staging", "apply")
    unlock(tmp_path, "staging", mine.id)
    theirs = acquire(tmp_path, "staging", "apply")
    release(tmp_path, mine)
    assert read_lock(tmp_path, "staging") == theirs


@pytest.mark.parametrize("name", ["../staging", "staging/../staging", "", "STAGING"])
def test_a_name_that_is_not_a_plain_label_never_becomes_a_lock_path(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError, match="unknown environment"):
        lock_path(tmp_path, name)
