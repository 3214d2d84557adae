from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from dataclasses import asdict
from pathlib import Path

import pytest
from modelops.base.errors import ConflictError, UsageError
from modelops.state.lock import LockInfo, acquire, lock_path, locked, read_lock, release, take_over, unlock


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


def dead_pid() -> int:
    """The pid of a process that ran on this host and is gone (waited for: a zombie would still count as alive)."""
    finished = subprocess.Popen(["sleep", "0"])
    finished.wait()
    return finished.pid


def held_by(root: Path, **fields: object) -> LockInfo:
    """A lock file as another process would have left it (this host unless `host` says otherwise)."""
    holder = LockInfo(**{"id": "0ld-10ck", "environment": "staging", "operation": "apply", "who": "alice",
                         "host": socket.gethostname(), "pid": dead_pid(), "created": "2026-11-27T11:00:00Z",
                         "version": "0.1.0", **fields})  # type: ignore[arg-type]
    path = lock_path(root, "staging")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(holder)))
    return holder


def test_a_lock_whose_process_is_gone_is_taken_over_and_the_caller_told(tmp_path: Path) -> None:
    stale = held_by(tmp_path)
    told: list[LockInfo] = []
    with locked(tmp_path, "staging", "apply", told.append) as mine:
        assert told == [stale]  # the old owner, as it was recorded, to be named to the user
        assert read_lock(tmp_path, "staging") == mine and mine.id != stale.id and mine.pid == os.getpid()
    assert not lock_path(tmp_path, "staging").exists()
    assert list(lock_path(tmp_path, "staging").parent.iterdir()) == []  # nothing moved aside is left behind


def test_a_lock_taken_without_a_takeover_tells_nobody(tmp_path: Path) -> None:
    told: list[LockInfo] = []
    with locked(tmp_path, "staging", "apply", told.append):
        assert told == []


def test_a_live_process_keeps_its_lock(tmp_path: Path) -> None:
    with subprocess.Popen(["sleep", "30"]) as running:
        try:
            live = held_by(tmp_path, pid=running.pid)
            before = lock_path(tmp_path, "staging").read_bytes()
            with pytest.raises(ConflictError) as caught:
                acquire(tmp_path, "staging", "apply", pytest.fail)
        finally:
            running.kill()
    assert caught.value.exit_code == 3
    assert f"(pid {running.pid} on {live.host})" in caught.value.message and "stale" not in caught.value.message
    assert caught.value.hint is not None and f"modelops unlock {live.id} --env staging" in caught.value.hint
    assert lock_path(tmp_path, "staging").read_bytes() == before


def test_a_lock_from_another_host_is_not_taken_over(tmp_path: Path) -> None:
    """Its pid says nothing about the processes of this host: the lock is reported, never judged."""
    other = held_by(tmp_path, host="runner-7.invalid")
    before = lock_path(tmp_path, "staging").read_bytes()
    with pytest.raises(ConflictError) as caught:
        acquire(tmp_path, "staging", "apply", pytest.fail)
    assert caught.value.exit_code == 3 and f"(pid {other.pid} on runner-7.invalid)" in caught.value.message
    assert lock_path(tmp_path, "staging").read_bytes() == before


def test_an_unreadable_lock_is_not_taken_over(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "staging")
    path.parent.mkdir(parents=True)
    path.write_text('{"id": "cut short')
    with pytest.raises(ConflictError, match="is unreadable") as caught:
        acquire(tmp_path, "staging", "apply", pytest.fail)
    assert caught.value.exit_code == 3 and path.read_text() == '{"id": "cut short'


def test_of_two_takeovers_of_one_stale_lock_the_second_finds_the_first_ones_lock_and_puts_it_back(
        tmp_path: Path) -> None:
    """Both read the same stale lock; the first replaces it; the second moves the first one's lock aside, sees it
    is not the lock it judged stale, puts it back and reports it."""
    held_by(tmp_path)
    seen_by_a = seen_by_b = read_lock(tmp_path, "staging")
    assert seen_by_a is not None and seen_by_b is not None and seen_by_a.stale
    a = take_over(tmp_path, seen_by_a, "apply")
    with pytest.raises(ConflictError) as caught:
        take_over(tmp_path, seen_by_b, "apply")
    assert caught.value.exit_code == 3 and f"ID:        {a.id}" in caught.value.message
    assert read_lock(tmp_path, "staging") == a
    assert [p.name for p in lock_path(tmp_path, "staging").parent.iterdir()] == ["staging.json"]


def test_a_stale_lock_replaced_since_it_was_read_is_not_taken_over(tmp_path: Path) -> None:
    """Read as stale, then broken and taken by a live process before the takeover: that lock stays."""
    stale = held_by(tmp_path)
    unlock(tmp_path, "staging", stale.id)
    live = acquire(tmp_path, "staging", "monitor")
    with pytest.raises(ConflictError):
        take_over(tmp_path, stale, "apply")
    assert read_lock(tmp_path, "staging") == live


def test_a_stale_lock_already_moved_by_another_takeover_is_reported(tmp_path: Path) -> None:
    """The other takeover moved the stale lock and has not linked its own yet: there is nothing to move."""
    stale = held_by(tmp_path)
    lock_path(tmp_path, "staging").unlink()
    with pytest.raises(ConflictError, match=f"another operation took over the stale lock {stale.id} at the same time"):
        take_over(tmp_path, stale, "apply")


def test_two_threads_taking_over_one_stale_lock_at_once_exactly_one_wins(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Both find the stale lock, and a barrier holds each one just before it moves the file aside, so both
    moves race for real; whichever loses, it gets exit 3 and the winner's lock stays."""
    held_by(tmp_path)
    barrier = threading.Barrier(2, timeout=10)
    rename = os.rename
    held_back: set[int] = set()

    def rename_together(src: object, dst: object) -> None:
        if threading.get_ident() not in held_back:  # only each thread's first move waits for the other's
            held_back.add(threading.get_ident())
            barrier.wait()
        rename(src, dst)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "rename", rename_together)
    won: list[LockInfo] = []
    lost: list[ConflictError] = []
    told: list[LockInfo] = []

    def contend() -> None:
        try:
            won.append(acquire(tmp_path, "staging", "apply", told.append))
        except ConflictError as exc:
            lost.append(exc)

    threads = [threading.Thread(target=contend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(won) == 1 and len(lost) == 1 and len(told) == 1, (won, lost)
    assert lost[0].exit_code == 3
    assert read_lock(tmp_path, "staging") == won[0]
    assert [p.name for p in lock_path(tmp_path, "staging").parent.iterdir()] == ["staging.json"]


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
