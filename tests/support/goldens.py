"""Golden files: compare output with a committed file, or rewrite it under `pytest --update-goldens`."""

from __future__ import annotations

from pathlib import Path


def check_golden(path: Path, actual: str, update: bool, refresh: str) -> None:
    """Assert `actual` equals the golden file; `refresh` is the `-k` expression that regenerates it."""
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden yet: run pytest --update-goldens -k {refresh} and review {path}"
    assert actual == path.read_text(encoding="utf-8")
