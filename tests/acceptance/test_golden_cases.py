"""Golden cases: tests/cases/<case>/ holds `args` (the command line), `overlay/` (files laid over a copy
of the example repository) and `expected.txt` (exit code and output). Refresh with --update-goldens."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

CASES = Path(__file__).resolve().parent.parent / "cases"


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "args").exists())


def run_case(case: Path, repo: Path, cli: Callable[..., Result]) -> str:
    if (case / "overlay").exists():
        shutil.copytree(case / "overlay", repo, dirs_exist_ok=True)
    for line in (case / "delete").read_text().splitlines() if (case / "delete").exists() else []:
        (repo / line.strip()).unlink()
    args = shlex.split((case / "args").read_text(encoding="utf-8"))
    result = cli("--repo", repo, *args)
    output = result.out + result.err
    return f"# exit {result.code}\n" + output.replace(str(repo), "<repo>")


@pytest.mark.parametrize("name", case_names())
def test_golden_case(name: str, repo: Path, cli: Callable[..., Result], update_goldens: bool) -> None:
    case = CASES / name
    actual = run_case(case, repo, cli)
    expected_file = case / "expected.txt"
    if update_goldens:
        expected_file.write_text(actual, encoding="utf-8")
    assert expected_file.exists(), f"no golden yet: run pytest --update-goldens -k {name} and review it"
    assert actual == expected_file.read_text(encoding="utf-8")
    assert "Traceback" not in actual
