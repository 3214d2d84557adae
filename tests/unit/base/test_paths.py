"""The one reader of files the repository names: inside the repository only, regular files only, within a size
limit; never waiting on a FIFO, never reading a device, never saying what a refused file holds."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
from modelops.base.paths import (
    DATA_LIMIT,
    Refusal,
    probe_inside,
    read_head,
    read_inside,
    read_named,
    size_text,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    (root / "data/ok.csv").write_text("model,metric,value\n")
    return root


def refused(found: bytes | Refusal) -> Refusal:
    assert isinstance(found, Refusal), found
    return found


def test_a_regular_file_inside_is_read(root: Path) -> None:
    assert read_inside(root, "data/ok.csv", DATA_LIMIT) == b"model,metric,value\n"
    assert read_inside(root, "./data/../data/ok.csv", DATA_LIMIT) == b"model,metric,value\n"
    assert probe_inside(root, "data/ok.csv", DATA_LIMIT) is None


@pytest.mark.parametrize(("rel", "reason"), [
    ("/etc/passwd", "it is an absolute path, outside the repository"),
    ("../../etc/passwd", "it leads outside the repository (through ..)"),
    ("data/../../x", "it leads outside the repository (through ..)"),
])
def test_a_path_that_leaves_the_repository_as_written_is_refused(root: Path, rel: str, reason: str) -> None:
    found = refused(read_inside(root, rel, DATA_LIMIT))
    assert (found.reason, found.outside) == (reason, True)


def test_a_link_out_of_the_repository_is_refused_and_never_read(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("API_TOKEN=hunter2hunter2\n")
    (root / "data/m.csv").symlink_to(secret)
    (root / "data/passwd").symlink_to("/etc/passwd")
    found = refused(read_inside(root, "data/m.csv", DATA_LIMIT))
    assert (found.reason, found.outside) == (f"it is a symbolic link to {secret}, outside the repository", True)
    assert refused(read_inside(root, "data/passwd", DATA_LIMIT)).outside
    assert "hunter2" not in repr(found)


def test_a_folder_linked_out_of_the_repository_is_refused(root: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/m.csv").write_text("x\n")
    (root / "linked").symlink_to(tmp_path / "elsewhere")
    found = refused(read_inside(root, "linked/m.csv", DATA_LIMIT))
    assert found.reason == "it is under a symbolic link that leads outside the repository" and found.outside


def test_a_link_that_stays_inside_is_followed(root: Path) -> None:
    (root / "current.csv").symlink_to("data/ok.csv")
    assert read_inside(root, "current.csv", DATA_LIMIT) == b"model,metric,value\n"


def test_a_device_is_refused_before_a_byte_is_read(root: Path, tmp_path: Path) -> None:
    (root / "data/zero.csv").symlink_to("/dev/zero")
    assert refused(read_inside(root, "data/zero.csv", DATA_LIMIT)).outside  # a link out of the repository first
    found = refused(read_named(Path("/dev/zero"), DATA_LIMIT))  # named on the command line: a device all the same
    assert found.reason == "it is not a regular file (a FIFO, device or directory)"


def test_a_fifo_is_refused_without_waiting_for_a_writer(root: Path) -> None:
    os.mkfifo(root / "data/pipe.csv")
    # no writer ever comes: a blocking open would hang this test forever
    assert refused(read_inside(root, "data/pipe.csv", DATA_LIMIT)).reason.startswith("it is not a regular file")
    assert refused(read_named(root / "data/pipe.csv", DATA_LIMIT)).reason.startswith("it is not a regular file")
    assert probe_inside(root, "data/pipe.csv", DATA_LIMIT) is not None


def test_a_sparse_file_over_the_limit_is_refused_by_its_size_without_reading_it(root: Path) -> None:
    with (root / "data/huge.csv").open("wb") as handle:
        handle.truncate(200 << 20)  # 200 MiB that take no disk space
    tracemalloc.start()
    try:
        found = refused(read_inside(root, "data/huge.csv", DATA_LIMIT))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (found.reason, found.size) == ("it is 200 MiB, over the 16 MiB limit", 200 << 20)
    assert peak < 1 << 20


def test_a_file_whose_size_says_nothing_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    """/proc files report a size of 0: the read itself stops at the limit."""
    environ = Path("/proc/self/environ")
    if not environ.exists():
        pytest.skip("no /proc on this system")
    found = refused(read_named(environ, 8))
    assert found.reason == "it grows past the 8 bytes limit"


def test_missing_files_say_so(root: Path) -> None:
    (root / "data/dangling.csv").symlink_to("nowhere.csv")
    assert refused(read_inside(root, "data/gone.csv", DATA_LIMIT)) == Refusal("it does not exist", missing=True)
    assert refused(read_inside(root, "data/dangling.csv", DATA_LIMIT)).missing
    assert refused(read_named(root / "gone.csv", DATA_LIMIT)).missing


def test_the_head_of_a_file_is_read_however_large_it_is(root: Path) -> None:
    with (root / "data/big.yaml").open("wb") as handle:
        handle.write(b"# generated\n")
        handle.truncate(200 << 20)
    assert read_head(root / "data/big.yaml", 12) == b"# generated\n"
    (root / "data/link.yaml").symlink_to("big.yaml")
    assert refused(read_head(root / "data/link.yaml", 12)).reason == "it is a symbolic link"


def test_sizes_read_as_a_person_writes_them() -> None:
    assert [size_text(n) for n in (12, 1536, 16 << 20, 200 << 20, 3 << 30)] == [
        "12 bytes", "1.5 KiB", "16 MiB", "200 MiB", "3 GiB"]
