"""Writing exports: atomic, only on change, never outside the output directory, leftovers removed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from modelops.base.errors import EngineError
from modelops.export.files import ExportFile, digest, stale_files, target_paths, write_files
from modelops.export.yamlout import header


def _file(name: str, body: str = "a: 1\n", kind: str = "kubernetes") -> ExportFile:
    return ExportFile(name, header(kind, "prod") + body)


@pytest.mark.parametrize("name", ["../x.yaml", "/etc/x.yaml", "a/../../x", "", ".", "a\\..\\x"])
def test_names_that_leave_the_directory_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(EngineError, match="refusing to write"):
        target_paths(tmp_path / "out", [_file(name)])
    assert not (tmp_path / "out").exists()


def test_symbolic_links_inside_the_directory_are_refused(tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(EngineError, match="is a symbolic link"):
        write_files(out, [_file("sub/x.yaml")], "kubernetes", "prod")
    (out / "x.yaml").symlink_to(outside / "victim.yaml")
    with pytest.raises(EngineError, match="is a symbolic link"):
        write_files(out, [_file("x.yaml")], "kubernetes", "prod")
    assert list(outside.iterdir()) == []


def test_writes_only_changes_and_removes_own_leftovers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = write_files(out, [_file("a.yaml"), _file("b.yaml")], "kubernetes", "prod")
    assert first.written == ["a.yaml", "b.yaml"]
    (out / "notes.txt").write_text("mine\n")
    (out / "rules.yml").write_text(header("prometheus", "prod") + "x: 1\n")  # another export's file
    before = os.stat(out / "a.yaml").st_mtime_ns
    second = write_files(out, [_file("a.yaml")], "kubernetes", "prod")
    assert (second.written, second.unchanged, second.removed) == ([], ["a.yaml"], ["b.yaml"])
    assert os.stat(out / "a.yaml").st_mtime_ns == before
    assert sorted(p.name for p in out.iterdir()) == ["a.yaml", "notes.txt", "rules.yml"]
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]


def test_staleness_names_changed_missing_and_leftover_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_files(out, [_file("a.yaml"), _file("b.yaml"), _file("c.yaml")], "kubernetes", "prod")
    (out / "a.yaml").write_text("edited by hand\n")
    assert stale_files(out, [_file("a.yaml"), _file("b.yaml"), _file("d.yaml")], "kubernetes", "prod") == [
        "a.yaml (differs)", "d.yaml (missing)", "c.yaml (no longer generated)"]
    assert stale_files(out, [_file("b.yaml"), _file("c.yaml")], "kubernetes", "prod") == []


def test_executables_and_digest(tmp_path: Path) -> None:
    script = ExportFile("t.sh", "#!/bin/sh\n" + header("alertmanager", "prod") + "true\n", executable=True)
    write_files(tmp_path, [script], "alertmanager", "prod")
    assert os.access(tmp_path / "t.sh", os.X_OK)
    assert digest([_file("a"), _file("b")]) == digest([_file("b"), _file("a")]) != digest([_file("a")])
